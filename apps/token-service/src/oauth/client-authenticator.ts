import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { ClientRegistry } from '../clients/client-registry.js';
import { decoyClientSecretHash, verifyClientSecret } from '../clients/client-secret.js';
import type { OAuthClient } from '../clients/oauth-client.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthForm } from './oauth-form.js';

export type ClientAuthenticationMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  client: OAuthClient;
  method: ClientAuthenticationMethod;
}

/** Realm of the `WWW-Authenticate: Basic` challenge sent with a failed Basic authentication. */
export const basicRealm = 'offline-grants';

/** How many verified secrets are remembered; the oldest is dropped beyond that. */
const verifiedSecretCacheSize = 10_000;

/**
 * Authenticates OAuth clients with client_secret_basic or client_secret_post (RFC 6749 §2.3.1),
 * or identifies a public client by its client_id alone.
 *
 * scrypt makes each check take tens of milliseconds, too slow for every refresh. After a secret
 * passes scrypt once, its HMAC under a per-process random key is kept, and later requests compare
 * against that in constant time. The entry is tied to the stored hash, so a new secret needs
 * scrypt again; a wrong secret always goes through scrypt.
 */
@Injectable()
export class ClientAuthenticator {
  private readonly cacheKey = randomBytes(32);
  private readonly verifiedSecrets = new Map<string, { secretHash: string; digest: Buffer }>();

  constructor(@Inject(ClientRegistry) private readonly registry: ClientRegistry) {}

  async authenticate(authorization: string | undefined, form: OAuthForm): Promise<AuthenticatedClient> {
    const basic = parseBasicAuthorization(authorization);
    const formClientId = form.get('client_id');
    const formSecret = form.get('client_secret');

    if (basic) {
      if (formSecret !== undefined) {
        throw new OAuthError('invalid_request', 'the client authenticated with both HTTP Basic and client_secret; use one method');
      }
      if (formClientId !== undefined && formClientId !== basic.clientId) {
        throw new OAuthError('invalid_request', 'client_id in the body differs from the client id of the Basic credentials');
      }
      return { client: await this.verify(basic.clientId, basic.clientSecret, true), method: 'client_secret_basic' };
    }
    if (formClientId === undefined) {
      throw new OAuthError('invalid_client', 'client authentication is missing; send HTTP Basic credentials or client_id and client_secret', 401);
    }
    if (formSecret !== undefined) {
      return { client: await this.verify(formClientId, formSecret, false), method: 'client_secret_post' };
    }

    const client = await this.registry.find(formClientId);
    if (!client || client.type !== 'public') {
      throw new OAuthError('invalid_client', 'client authentication failed; a confidential client must send its secret', 401);
    }
    return { client, method: 'none' };
  }

  private async verify(clientId: string, secret: string, usedBasic: boolean): Promise<OAuthClient> {
    const client = await this.registry.find(clientId);
    const secretHash = client?.secretHash ?? (await decoyClientSecretHash());
    const valid = client !== undefined && client.secretHash !== null && (await this.secretMatches(clientId, secret, secretHash));
    if (!valid) {
      if (client === undefined) await verifyClientSecret(secret, secretHash);
      throw invalidClient('client authentication failed; check the client id and secret', usedBasic);
    }
    return client;
  }

  private async secretMatches(clientId: string, secret: string, secretHash: string): Promise<boolean> {
    const digest = createHmac('sha256', this.cacheKey).update(secret).digest();
    const cached = this.verifiedSecrets.get(clientId);
    if (cached && cached.secretHash === secretHash && timingSafeEqual(cached.digest, digest)) return true;

    if (!(await verifyClientSecret(secret, secretHash))) return false;
    this.verifiedSecrets.delete(clientId);
    this.verifiedSecrets.set(clientId, { secretHash, digest });
    if (this.verifiedSecrets.size > verifiedSecretCacheSize) {
      this.verifiedSecrets.delete(this.verifiedSecrets.keys().next().value!);
    }
    return true;
  }
}

function invalidClient(description: string, usedBasic: boolean): OAuthError {
  // RFC 6749 §5.2: a client that tried the Authorization header gets 401 with a matching challenge.
  return new OAuthError('invalid_client', description, 401, usedBasic ? { 'WWW-Authenticate': `Basic realm="${basicRealm}"` } : {});
}

/** Decodes an application/x-www-form-urlencoded component: `+` is a space, then percent escapes. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * Parses `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
 * Returns undefined when the header uses another scheme or is absent; a malformed Basic value
 * (bad base64, no colon, a broken percent escape) is invalid_client.
 */
export function parseBasicAuthorization(authorization: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const match = /^basic\s+(.*)$/is.exec(authorization?.trim() ?? '');
  if (!match) return undefined;

  const encoded = match[1].trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw invalidClient('the Basic credentials are not valid base64', true);
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw invalidClient('the Basic credentials must be client_id:client_secret', true);
  }
  try {
    const clientId = formDecode(decoded.slice(0, colon));
    const clientSecret = formDecode(decoded.slice(colon + 1));
    if (clientId === '') throw invalidClient('the Basic credentials have an empty client id', true);
    return { clientId, clientSecret };
  } catch (error) {
    if (error instanceof URIError) {
      throw invalidClient('the Basic credentials contain a malformed percent escape; form-urlencode the client id and secret', true);
    }
    throw error;
  }
}
