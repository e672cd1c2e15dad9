/**
 * Keeps a client-credentials access token from the token service for the bench and seed scripts,
 * fetching a new one shortly before the current one expires.
 */
export class ServiceToken {
  private token: string | undefined;
  private expiresAt = 0;

  constructor(
    private readonly tokenServiceUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly scope: string,
  ) {}

  async get(): Promise<string> {
    if (this.token && Date.now() < this.expiresAt - 30_000) return this.token;
    const response = await fetch(`${this.tokenServiceUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: this.scope }),
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!response.ok || !body.access_token) {
      throw new Error(`client_credentials for ${this.clientId} failed with ${response.status}: ${body.error ?? ''} ${body.error_description ?? ''}`);
    }
    this.token = body.access_token;
    this.expiresAt = Date.now() + (body.expires_in ?? 300) * 1000;
    return this.token;
  }
}
