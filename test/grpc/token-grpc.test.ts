import { status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';

import { GrantGrpcServer } from '../../apps/grant-service/src/grpc/grant-grpc.server.js';
import { TokenGrpcServer } from '../../apps/token-service/src/grpc/token-grpc.server.js';
import { errorCodeMetadataKey, errorDomain } from '#grpc/grpc-call-error.js';
import { grantServiceName, grantsProtoFile, loadProtoFiles, protoLoaderOptions, tokenServiceName, tokensProtoFile } from '#grpc/proto-files.js';
import { uniqueName } from '#testing/test-kafka.js';
import { waitFor } from '#testing/wait-for.js';

import { FullStack } from '../support/full-stack.js';
import { healthProtoPath, listReflectedServices } from './grpc-protos.js';
import { type CallOutcome, GrpcTestClient, statusName } from './grpc-test-client.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read messages field by field and assert each one
type Message = any;

interface ExpectedError {
  status: status;
  code: string;
  field?: string;
  /** The RFC 6749 error that /oauth/* would send, for the OAuth calls. */
  oauthError?: string;
}

function expectGrpcError(outcome: CallOutcome<unknown>, expected: ExpectedError): void {
  expect(outcome.response).toBeUndefined();
  expect(statusName(outcome.error?.code)).toBe(statusName(expected.status));
  expect(outcome.error?.metadata.get(errorCodeMetadataKey)).toEqual([expected.code]);
  expect(outcome.details?.code).toBe(expected.status);
  expect(outcome.details?.errorInfo?.reason).toBe(expected.code);
  expect(outcome.details?.errorInfo?.domain).toBe(errorDomain);
  expect(outcome.details?.errorInfo?.metadata.field).toBe(expected.field);
  expect(outcome.details?.errorInfo?.metadata.oauth_error).toBe(expected.oauthError);
  expect(outcome.error?.details).toMatch(/^[A-Z].*\.$/);
}

function basic(client: { clientId: string; clientSecret: string }): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
}

describe('gRPC token API through the three apps', () => {
  let stack: FullStack;
  let grants: GrpcTestClient;
  let tokens: GrpcTestClient;
  let client: { clientId: string; clientSecret: string };
  let otherClient: { clientId: string; clientSecret: string };
  let writeToken: string;
  let issueToken: string;

  /** Creates a grant over gRPC and waits until the projection has applied it. */
  async function projectedGrant(clientId: string, scopes: string[]): Promise<{ grantId: string; position: string }> {
    const created = await grants.call<Message>('CreateGrant', { user_id: uniqueName('user'), client_id: clientId, scopes }, { token: writeToken });
    if (created.error) throw created.error;
    const { grant_id: grantId } = created.response.grant;
    const read = await grants.call<Message>('GetGrant', { grant_id: grantId, min_position: created.response.position }, { token: writeToken });
    if (read.error) throw read.error;
    return { grantId, position: created.response.position };
  }

  async function issuedRefreshToken(owner: { clientId: string }): Promise<{ grantId: string; refreshToken: string }> {
    const { grantId, position } = await projectedGrant(owner.clientId, ['offline_access', 'photos:read']);
    const issued = await tokens.call<Message>('IssueOfflineToken', { grant_id: grantId, min_position: position }, { token: issueToken });
    if (issued.error) throw issued.error;
    return { grantId, refreshToken: issued.response.refresh_token };
  }

  beforeAll(async () => {
    stack = await FullStack.start('grpc_tokens');
    grants = GrpcTestClient.connect(loadProtoFiles([grantsProtoFile]), grantServiceName, stack.grantService.app.get(GrantGrpcServer).port);
    tokens = GrpcTestClient.connect(loadProtoFiles([tokensProtoFile]), tokenServiceName, stack.tokenService.app.get(TokenGrpcServer).port);
    client = await stack.registerClient('grpc-printer');
    otherClient = await stack.registerClient('grpc-other');
    writeToken = await stack.serviceToken('grants:read grants:write');
    issueToken = await stack.serviceToken('tokens:issue');
  });

  afterAll(async () => {
    grants?.close();
    tokens?.close();
    await stack?.stop();
  });

  describe('when a grant goes through its whole life over gRPC', () => {
    it('refuses the refresh after revocation', async () => {
      const created = await grants.call<Message>(
        'CreateGrant',
        { user_id: 'user-story', client_id: client.clientId, scopes: ['openid', 'offline_access', 'photos:read'] },
        { token: writeToken },
      );
      expect(created.error).toBeUndefined();
      const grantId = created.response.grant.grant_id;

      const issued = await tokens.call<Message>('IssueOfflineToken', { grant_id: grantId, min_position: created.response.position }, { token: issueToken });
      expect(issued.error).toBeUndefined();
      expect(issued.response).toMatchObject({ token_type: 'Bearer', scope: 'offline_access openid photos:read', grant_id: grantId });
      expect(decodeJwt(issued.response.refresh_token)).toMatchObject({ grant_id: grantId, client_id: client.clientId, sub: 'user-story' });

      const refreshed = await tokens.call<Message>('Refresh', {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        refresh_token: issued.response.refresh_token,
        scope: 'photos:read',
      });
      expect(refreshed.error).toBeUndefined();
      expect(refreshed.response.token_type).toBe('Bearer');
      expect(refreshed.response.scope).toBe('photos:read');
      expect(refreshed.response.expires_in).toBeGreaterThan(0);
      expect(decodeJwt(refreshed.response.access_token)).toMatchObject({ grant_id: grantId, client_id: client.clientId, scope: 'photos:read' });

      const introspected = await tokens.call<Message>('Introspect', {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        token: issued.response.refresh_token,
      });
      expect(introspected.response).toMatchObject({ active: true, grant_id: grantId, client_id: client.clientId, sub: 'user-story' });

      const revoked = await grants.call<Message>('RevokeGrant', { grant_id: grantId, reason: 'user' }, { token: writeToken });
      expect(revoked.response.grant.status).toBe('revoked');

      // The token service learns of the revocation from the grant events, a moment after the command.
      const refused = await waitFor(
        async () => {
          const outcome = await tokens.call<Message>('Refresh', { ...credentials(client), refresh_token: issued.response.refresh_token });
          return outcome.error ? outcome : undefined;
        },
        { description: 'the refresh to be refused' },
      );
      expectGrpcError(refused, { status: status.FAILED_PRECONDITION, code: 'token.grant_revoked', field: 'refresh_token', oauthError: 'invalid_grant' });
      const inactive = await tokens.call<Message>('Introspect', { ...credentials(client), token: refreshed.response.access_token });
      expect(inactive.response.active).toBe(false);
      expect(inactive.response.grant_id).toBe('');
    });

    it('revokes the grant with its token', async () => {
      const { grantId, refreshToken } = await issuedRefreshToken(client);

      const revoked = await tokens.call<Message>('Revoke', { token: refreshToken, token_type_hint: 'refresh_token' }, { metadata: { authorization: basic(client) } });

      expect(revoked.error).toBeUndefined();
      expect(revoked.response).toEqual({});
      const history = await grants.call<Message>('GetGrantHistory', { grant_id: grantId }, { token: writeToken });
      expect(history.response.events.at(-1)).toMatchObject({ type: 'GrantRevoked', reason: 'token_revoked', actor: { type: 'client', id: client.clientId } });
      const refused = await waitFor(
        async () => {
          const outcome = await tokens.call<Message>('Refresh', { refresh_token: refreshToken }, { metadata: { authorization: basic(client) } });
          return outcome.error ? outcome : undefined;
        },
        { description: 'the refresh to be refused' },
      );
      expectGrpcError(refused, { status: status.FAILED_PRECONDITION, code: 'token.grant_revoked', field: 'refresh_token', oauthError: 'invalid_grant' });
    });

    it('accepts Basic client credentials', async () => {
      const { refreshToken } = await issuedRefreshToken(client);

      const refreshed = await tokens.call<Message>('Refresh', { refresh_token: refreshToken }, { metadata: { authorization: basic(client) } });

      expect(refreshed.error).toBeUndefined();
      expect(refreshed.response.scope).toBe('offline_access photos:read');
    });
  });

  describe('when another client presents a refresh token', () => {
    it('rejects and hides the token', async () => {
      const { grantId, refreshToken } = await issuedRefreshToken(client);

      const refresh = await tokens.call('Refresh', { ...credentials(otherClient), refresh_token: refreshToken });
      const revoke = await tokens.call('Revoke', { ...credentials(otherClient), token: refreshToken });
      const introspect = await tokens.call<Message>('Introspect', { ...credentials(otherClient), token: refreshToken });

      expectGrpcError(refresh, { status: status.PERMISSION_DENIED, code: 'token.client_mismatch', field: 'refresh_token', oauthError: 'invalid_grant' });
      expectGrpcError(revoke, { status: status.PERMISSION_DENIED, code: 'oauth.unauthorized_client', oauthError: 'unauthorized_client' });
      expect(introspect.response.active).toBe(false);
      const read = await grants.call<Message>('GetGrant', { grant_id: grantId }, { token: writeToken });
      expect(read.response.status).toBe('active');
    });
  });

  describe('when an OAuth call fails', () => {
    let refreshToken: string;
    let accessToken: string;

    beforeAll(async () => {
      ({ refreshToken } = await issuedRefreshToken(client));
      const refreshed = await tokens.call<Message>('Refresh', { ...credentials(client), refresh_token: refreshToken });
      accessToken = refreshed.response.access_token;
    });

    it('rejects a wrong client secret', async () => {
      const outcome = await tokens.call('Refresh', { client_id: client.clientId, client_secret: 'wrong-secret-0123456789', refresh_token: refreshToken });

      expectGrpcError(outcome, { status: status.UNAUTHENTICATED, code: 'oauth.invalid_client', oauthError: 'invalid_client' });
    });

    it('rejects missing client authentication', async () => {
      const outcome = await tokens.call('Introspect', { token: refreshToken });

      expectGrpcError(outcome, { status: status.UNAUTHENTICATED, code: 'oauth.invalid_client', oauthError: 'invalid_client' });
    });

    it('rejects Basic plus client_secret', async () => {
      const outcome = await tokens.call('Refresh', { client_secret: client.clientSecret, refresh_token: refreshToken }, { metadata: { authorization: basic(client) } });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'oauth.invalid_request', oauthError: 'invalid_request' });
    });

    it('rejects a missing refresh token', async () => {
      const outcome = await tokens.call('Refresh', { ...credentials(client) });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'oauth.invalid_request', oauthError: 'invalid_request' });
    });

    it('rejects a token that is no JWS', async () => {
      const outcome = await tokens.call('Refresh', { ...credentials(client), refresh_token: 'not-a-token' });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'token.malformed', field: 'token', oauthError: 'invalid_grant' });
    });

    it('rejects an access token as refresh token', async () => {
      const outcome = await tokens.call('Refresh', { ...credentials(client), refresh_token: accessToken });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'token.wrong_type', field: 'token', oauthError: 'invalid_grant' });
    });

    it('rejects a scope the token lacks', async () => {
      const outcome = await tokens.call('Refresh', { ...credentials(client), refresh_token: refreshToken, scope: 'photos:write' });

      expectGrpcError(outcome, { status: status.PERMISSION_DENIED, code: 'token.scope_not_granted', field: 'scope', oauthError: 'invalid_scope' });
    });

    it('rejects a malformed scope', async () => {
      const outcome = await tokens.call('Refresh', { ...credentials(client), refresh_token: refreshToken, scope: 'photos"read' });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'oauth.invalid_scope', oauthError: 'invalid_scope' });
    });

    it('accepts revoking an unknown token', async () => {
      const outcome = await tokens.call('Revoke', { ...credentials(client), token: 'unknown-token' });

      expect(outcome.error).toBeUndefined();
      expect(outcome.response).toEqual({});
    });
  });

  describe('when offline-token issuance fails', () => {
    let revokedGrantId: string;
    let noOfflineGrantId: string;
    let projected: { grantId: string; position: string };

    beforeAll(async () => {
      const revoked = await projectedGrant(client.clientId, ['offline_access']);
      const revocation = await grants.call<Message>('RevokeGrant', { grant_id: revoked.grantId }, { token: writeToken });
      await grants.call<Message>('GetGrant', { grant_id: revoked.grantId, min_position: revocation.response.position }, { token: writeToken });
      revokedGrantId = revoked.grantId;
      noOfflineGrantId = (await projectedGrant(client.clientId, ['openid'])).grantId;
      projected = await projectedGrant(otherClient.clientId, ['offline_access']);
    });

    it('rejects a call without bearer token', async () => {
      const outcome = await tokens.call('IssueOfflineToken', { grant_id: projected.grantId });

      expectGrpcError(outcome, { status: status.UNAUTHENTICATED, code: 'auth.invalid_token', field: 'authorization' });
    });

    it('rejects a token without tokens:issue', async () => {
      const outcome = await tokens.call('IssueOfflineToken', { grant_id: projected.grantId }, { token: await stack.serviceToken('grants:read') });

      expectGrpcError(outcome, { status: status.PERMISSION_DENIED, code: 'auth.insufficient_scope', field: 'authorization' });
    });

    it('rejects a grant_id that is no UUID', async () => {
      const outcome = await tokens.call('IssueOfflineToken', { grant_id: 'grant-1' }, { token: issueToken });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'request.invalid_body', field: 'grant_id' });
    });

    it('rejects an unknown grant', async () => {
      const outcome = await tokens.call('IssueOfflineToken', { grant_id: randomUUID() }, { token: issueToken });

      expectGrpcError(outcome, { status: status.NOT_FOUND, code: 'token.grant_not_found', field: 'grant_id' });
    });

    it('rejects a revoked grant', async () => {
      const outcome = await waitFor(
        async () => {
          const issued = await tokens.call('IssueOfflineToken', { grant_id: revokedGrantId }, { token: issueToken });
          return issued.error ? issued : undefined;
        },
        { description: 'issuance to be rejected' },
      );

      expectGrpcError(outcome, { status: status.FAILED_PRECONDITION, code: 'token.grant_revoked', field: 'grant_id' });
    });

    it('rejects a grant without offline_access', async () => {
      const outcome = await tokens.call('IssueOfflineToken', { grant_id: noOfflineGrantId }, { token: issueToken });

      expectGrpcError(outcome, { status: status.FAILED_PRECONDITION, code: 'token.offline_access_missing', field: 'grant_id' });
    });
  });

  describe('when the health and reflection services are asked', () => {
    it('reports SERVING and lists the token service', async () => {
      const port = stack.tokenService.app.get(TokenGrpcServer).port;
      const health = GrpcTestClient.connect(loadSync(healthProtoPath, protoLoaderOptions), 'grpc.health.v1.Health', port);
      try {
        const serving = await waitFor(async () => {
          const outcome = await health.call<Message>('Check', { service: tokenServiceName });
          return outcome.response?.status === 'SERVING' ? outcome : undefined;
        });
        expect(serving.response.status).toBe('SERVING');
      } finally {
        health.close();
      }

      expect(await listReflectedServices(port)).toEqual(expect.arrayContaining([tokenServiceName, 'grpc.health.v1.Health']));
    });
  });

  // Runs last, because the projector stays stopped.
  describe('when the projector has stopped', () => {
    it('fails issuance for an unprojected position', async () => {
      await stack.projector.app.close();
      const created = await grants.call<Message>(
        'CreateGrant',
        { user_id: uniqueName('user'), client_id: client.clientId, scopes: ['offline_access'] },
        { token: writeToken },
      );

      const outcome = await tokens.call(
        'IssueOfflineToken',
        { grant_id: created.response.grant.grant_id, min_position: created.response.position },
        { token: issueToken },
      );

      expectGrpcError(outcome, { status: status.UNAVAILABLE, code: 'token.projection_behind', field: 'min_position' });
    });
  });
});

function credentials(client: { clientId: string; clientSecret: string }) {
  return { client_id: client.clientId, client_secret: client.clientSecret };
}
