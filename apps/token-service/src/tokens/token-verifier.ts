import { Inject, Injectable } from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { KeyRing } from '../keys/key-ring.js';
import { CompactJwsError, type JwsHeader, verifyCompactJws } from './compact-jws.js';
import { type AccessTokenClaims, accessTokenType, type OfflineRefreshTokenClaims, refreshTokenType, type TokenType } from './token-formats.js';

/** Tokens this service issues stay far below this; anything longer is rejected before any parsing. */
const maxTokenLength = 8 * 1024;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface VerifiedToken<Claims> {
  header: JwsHeader;
  claims: Claims;
}

const malformed = (message: string) => new TokenServiceError('token.malformed', message, 'token');

/** `typ` compares case-insensitively and without an `application/` prefix (RFC 7515 §4.1.9). */
function normalizedType(typ: string | undefined): string | undefined {
  return typ?.toLowerCase().replace(/^application\//, '');
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Verifies tokens this service signed: the algorithm must be on the allow-list and match the key
 * named by `kid`, the signature must hold, and `typ` and `iss` must be the expected ones. Every
 * failure is a TokenServiceError with a `token.*` code. The signature check uses node:crypto with
 * the key ring's imported keys (compact-jws.ts), which measured faster than jose's compactVerify.
 */
@Injectable()
export class TokenVerifier {
  constructor(
    @Inject(KeyRing) private readonly keyRing: KeyRing,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Verifies an offline refresh token's signature, type and claim shapes; expiry is left to the caller's policy. */
  async verifyRefreshToken(token: string): Promise<VerifiedToken<OfflineRefreshTokenClaims>> {
    const verified = await this.verify(token, refreshTokenType);
    const claims = verified.claims;
    if (
      !isString(claims.sub) ||
      !isString(claims.client_id) ||
      typeof claims.grant_id !== 'string' ||
      !uuidPattern.test(claims.grant_id) ||
      typeof claims.scope !== 'string' ||
      !isSeconds(claims.iat) ||
      !isString(claims.jti) ||
      (claims.exp !== undefined && !isSeconds(claims.exp))
    ) {
      throw malformed('the refresh token lacks a required claim or has one of the wrong type');
    }
    return { header: verified.header, claims: claims as unknown as OfflineRefreshTokenClaims };
  }

  /** Verifies an access token as RFC 9068 §4 requires, including its audience and expiry. */
  async verifyAccessToken(token: string): Promise<VerifiedToken<AccessTokenClaims>> {
    const verified = await this.verify(token, accessTokenType);
    const claims = verified.claims;
    if (
      !isString(claims.sub) ||
      !isString(claims.client_id) ||
      typeof claims.scope !== 'string' ||
      !isSeconds(claims.iat) ||
      !isSeconds(claims.exp) ||
      !isString(claims.jti) ||
      (claims.grant_id !== undefined && (typeof claims.grant_id !== 'string' || !uuidPattern.test(claims.grant_id)))
    ) {
      throw malformed('the access token lacks a required claim or has one of the wrong type');
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.config.TOKEN_ACCESS_TOKEN_AUDIENCE)) {
      throw new TokenServiceError('token.wrong_audience', 'the access token is not meant for this audience', 'token');
    }
    if (claims.exp <= Math.floor(this.clock.now().getTime() / 1000)) {
      throw new TokenServiceError('token.expired', 'the access token has expired', 'token');
    }
    return { header: verified.header, claims: claims as unknown as AccessTokenClaims };
  }

  /** Reads the `typ` of a token without verifying it, to route introspection and revocation. */
  peekType(token: string): TokenType | undefined {
    try {
      const [encodedHeader] = token.split('.', 1);
      const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as { typ?: unknown };
      const typ = normalizedType(typeof header.typ === 'string' ? header.typ : undefined);
      return typ === refreshTokenType || typ === accessTokenType ? typ : undefined;
    } catch {
      return undefined;
    }
  }

  private async verify(token: string, expectedType: TokenType): Promise<VerifiedToken<Record<string, unknown>>> {
    if (token.length > maxTokenLength) throw malformed(`the token is longer than ${maxTokenLength} characters`);

    let header: JwsHeader;
    let payload: Uint8Array;
    try {
      ({ header, payload } = await verifyCompactJws(token, async (protectedHeader) =>
        typeof protectedHeader.kid === 'string' ? this.keyRing.verificationKey(protectedHeader.kid) : undefined,
      ));
    } catch (error) {
      throw translateJwsError(error);
    }

    const typ = typeof header.typ === 'string' ? header.typ : undefined;
    if (normalizedType(typ) !== expectedType) {
      throw new TokenServiceError('token.wrong_type', `the token's typ is ${typ ?? 'missing'}, expected ${expectedType}`, 'token');
    }

    let claims: unknown;
    try {
      claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch {
      throw malformed('the token payload is not a JSON object');
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw malformed('the token payload is not a JSON object');
    }
    if ((claims as { iss?: unknown }).iss !== this.config.TOKEN_ISSUER) {
      throw new TokenServiceError('token.wrong_issuer', 'the token was issued by another issuer', 'token');
    }
    return { header, claims: claims as Record<string, unknown> };
  }
}

/** Maps the compact JWS checks' failures to this service's token codes. */
function translateJwsError(error: unknown): TokenServiceError {
  if (!(error instanceof CompactJwsError)) throw error;
  switch (error.kind) {
    case 'malformed':
      return malformed(error.message);
    case 'algorithm_not_allowed':
    case 'invalid_signature':
      return new TokenServiceError('token.invalid_signature', error.message, 'token');
  }
}
