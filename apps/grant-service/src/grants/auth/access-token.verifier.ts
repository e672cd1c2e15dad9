import { Inject, Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  jwtVerify,
  type JWTPayload,
} from 'jose';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';

import { isPrintableIdentifier } from '#grant-domain/actor.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../../config/grant-service.config.js';
import { type GrantApiCaller, invalidTokenProblem } from './grant-api-caller.js';

/** Signature algorithms accepted on access tokens. Any other, `none` and HMAC included, is rejected. */
export const accessTokenAlgorithms = ['EdDSA', 'ES256'];

/** Failure to fetch or parse the JWKS, which is not the caller's fault. */
class KeySetUnavailableError extends Error {
  override readonly name = 'KeySetUnavailableError';
}

/**
 * Verifies RFC 9068 access tokens (`typ: at+jwt`) of the grant API against the authorization
 * server's JWKS, and returns the caller they identify.
 */
@Injectable()
export class AccessTokenVerifier {
  /** jose caches the keys and fetches the set again when a token names an unknown `kid`. */
  private readonly keySet: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    @Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig,
    @InjectPinoLogger(AccessTokenVerifier.name) private readonly logger: PinoLogger,
    private readonly dataSource: DataSource,
  ) {
    this.keySet = createRemoteJWKSet(new URL(config.GRANT_API_JWKS_URL));
  }

  /** Returns the token's caller, or raises a ProblemError: 401 for an invalid token, 503 when the JWKS is unavailable. */
  async verify(token: string): Promise<GrantApiCaller> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header, input) => this.resolveKey(header, input), {
        algorithms: accessTokenAlgorithms,
        issuer: this.config.GRANT_API_ISSUER,
        audience: this.config.GRANT_API_AUDIENCE,
        typ: 'at+jwt',
        // RFC 9068 §2.2 makes exp REQUIRED, and a token without it would never expire.
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof KeySetUnavailableError) {
        this.logger.error({ err: error.cause, jwksUrl: this.config.GRANT_API_JWKS_URL }, 'Access token check failed because the JWKS is unavailable');
        throw new ProblemError({
          status: 503,
          code: 'auth.jwks_unavailable',
          title: 'Token keys unavailable',
          detail: 'The keys that verify access tokens could not be fetched, so retry the request later.',
          headers: { 'Retry-After': '5' },
        });
      }
      throw new ProblemError(invalidTokenProblem(this.describeRejection(error)));
    }
    const caller = this.callerFrom(payload);
    await this.rejectRevoked(payload);
    return caller;
  }

  /**
   * Rejects an access token its client revoked at the token service (RFC 7009), which records the
   * `jti` in the shared database until the token expires.
   */
  private async rejectRevoked(payload: JWTPayload): Promise<void> {
    if (typeof payload.jti !== 'string') return;
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM revoked_access_tokens WHERE jti = $1', [payload.jti]);
    if (rows.length > 0) {
      throw new ProblemError(invalidTokenProblem('The access token has been revoked, so request a new one.'));
    }
  }

  /**
   * Looks up the token's key in the JWKS. A `kid` that matches no key is the token's fault, but a
   * failed fetch or an unreadable key set is the server's.
   */
  private async resolveKey(header: JWSHeaderParameters, input: FlattenedJWSInput) {
    try {
      return await this.keySet(header, input);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported ||
        error instanceof errors.JOSEAlgNotAllowed
      ) {
        throw error;
      }
      throw new KeySetUnavailableError('the JWKS could not be fetched', { cause: error });
    }
  }

  private callerFrom(payload: JWTPayload): GrantApiCaller {
    // A token derived from a user's grant carries that grant's scopes, which the user's client chose;
    // such scopes must never act as service scopes here, whatever they are named.
    if (payload.grant_id !== undefined) {
      throw new ProblemError(
        invalidTokenProblem('The access token was issued for a user grant; the grant API accepts only client_credentials tokens of service clients.'),
      );
    }
    const clientId = payload.client_id;
    const id = typeof clientId === 'string' ? clientId : payload.sub;
    if (typeof id !== 'string' || !isPrintableIdentifier(id)) {
      throw new ProblemError(
        invalidTokenProblem('The access token must carry a client_id or sub claim of 1 to 255 characters without control characters.'),
      );
    }
    const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter((scope) => scope !== '') : []);
    return { id, scopes, isAdmin: scopes.has('grants:admin') };
  }

  /** Builds the problem detail for a rejected token. It names the failed check but never echoes the token. */
  private describeRejection(error: unknown): string {
    if (error instanceof errors.JWTExpired) return 'The access token has expired, so request a new one.';
    if (error instanceof errors.JWTClaimValidationFailed) {
      switch (error.claim) {
        case 'iss':
          return `The access token must be issued by ${this.config.GRANT_API_ISSUER}.`;
        case 'aud':
          return `The access token's audience must include ${this.config.GRANT_API_AUDIENCE}.`;
        case 'typ':
          return 'The access token must have the JOSE header typ at+jwt (RFC 9068).';
        case 'exp':
          return 'The access token must have an exp claim.';
        default:
          return `The access token's ${error.claim} claim is invalid (${error.reason}).`;
      }
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      return `The access token must be signed with one of ${accessTokenAlgorithms.join(', ')}.`;
    }
    if (error instanceof errors.JWKSNoMatchingKey) return "No key of the issuer's JWKS matches the access token's kid and alg.";
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'The access token signature is invalid.';
    return 'The access token is not a well-formed signed JWT.';
  }
}
