import { createRemoteJWKSet, jwtVerify } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/** One DELETE /v1/grants/{grant_id} call as the stand-in received it. */
export interface RecordedRevocation {
  grantId: string;
  body: unknown;
  /** The verified claims of the bearer token, or the reason it failed verification. */
  tokenClaims?: Record<string, unknown>;
  tokenError?: string;
}

/**
 * TEST DOUBLE standing in for the grant service's `DELETE /v1/grants/{grant_id}` until the real
 * service and its projector run in these tests. It verifies the bearer token the way the grant
 * service does: JWKS of the token service, issuer, audience, typ at+jwt and scope grants:admin.
 * It records each call and marks the `grants` projection row revoked, as the relay and projector
 * would, so that later refreshes find the revocation.
 */
export class GrantServiceStandIn {
  readonly revocations: RecordedRevocation[] = [];
  /** When set, the stand-in returns this status to every request, to simulate an outage. */
  failWithStatus: number | undefined;
  private server: http.Server | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly issuer: string,
    private readonly audience = 'offline-grants-api',
  ) {}

  /** Points token verification at the token service's JWKS; call it once that service has started. */
  useTokenService(url: string): void {
    this.jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
  }

  async start(): Promise<string> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const match = /^\/v1\/grants\/([0-9a-f-]{36})$/.exec(request.url ?? '');
    if (request.method !== 'DELETE' || !match) {
      response.writeHead(404).end();
      return;
    }
    const grantId = match[1];
    const recorded: RecordedRevocation = { grantId, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') };
    this.revocations.push(recorded);
    if (this.failWithStatus !== undefined) {
      response.writeHead(this.failWithStatus).end();
      return;
    }

    try {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const { payload } = await jwtVerify(token, this.jwks!, {
        issuer: this.issuer,
        audience: this.audience,
        typ: 'at+jwt',
        algorithms: ['EdDSA', 'ES256'],
      });
      recorded.tokenClaims = payload;
      if (!String(payload.scope).split(' ').includes('grants:admin')) throw new Error('scope grants:admin is missing');
    } catch (error) {
      recorded.tokenError = (error as Error).message;
      response.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"code":"auth.invalid_token"}');
      return;
    }

    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const reason = (recorded.body as { reason?: string } | null)?.reason ?? 'admin';
      const result = await client.query(
        `UPDATE grants SET status = 'revoked', revoked_at = now(), revoke_reason = $2, version = version + 1, updated_at = now()
          WHERE grant_id = $1 RETURNING position`,
        [grantId, reason],
      );
      if (result.rowCount === 0) {
        response.writeHead(404, { 'content-type': 'application/problem+json' }).end('{"code":"grant.not_found"}');
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ grant_id: grantId, status: 'revoked', position: String(result.rows[0].position) }));
    } finally {
      await client.end();
    }
  }
}
