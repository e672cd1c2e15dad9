import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { GrantError } from '#grant-domain/grant-error.js';
import { parseUserId } from '#grant-domain/grant-input.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../config/grant-service.config.js';
import {
  accountNotConfiguredProblem,
  invalidTokenProblem,
  issuerUnavailableProblem,
} from './account-problems.js';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** The signed-in user an account API request acts for. */
export interface AccountUser {
  /** The token's `sub`, which is the `user_id` of that user's grants. */
  userId: string;
}

/** Bounds each fetch of the issuer's discovery document and key set. */
const issuerFetchTimeoutMs = 5000;

/** jose error codes that mean the key set could not be fetched, not that the token is bad. */
const keySetUnavailableCodes = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/**
 * Verifies the access tokens that the account page sends. It checks the signature against the
 * issuer's JWKS (found through OpenID Connect Discovery), an allow-listed algorithm, `typ`, `iss`,
 * `exp`, and `aud` when ACCOUNT_OIDC_AUDIENCE is set. It also requires `client_id` to be the
 * account page's client id, so that a token another application obtained for the same user
 * cannot manage that user's grants.
 */
@Injectable()
export class AccountTokenVerifier {
  private keySet?: Promise<KeySet>;

  constructor(
    @Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig,
    @InjectPinoLogger(AccountTokenVerifier.name) private readonly logger: PinoLogger,
  ) {}

  /** Returns the user of a valid token, or raises a ProblemError with the 401 or 503 to respond with. */
  async verify(token: string): Promise<AccountUser> {
    const issuer = this.config.ACCOUNT_OIDC_ISSUER;
    if (issuer === undefined) throw new ProblemError(accountNotConfiguredProblem());

    const keySet = await this.loadKeySet(issuer);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer,
        audience: this.config.ACCOUNT_OIDC_AUDIENCE,
        algorithms: this.config.ACCOUNT_OIDC_ALGORITHMS,
        typ: this.config.ACCOUNT_OIDC_ACCESS_TOKEN_TYP,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw this.verificationProblem(error, issuer);
    }

    // RFC 9068 §2.2 puts the client in `client_id`; OpenID Connect ID tokens use `azp`.
    const clientId = payload.client_id ?? payload.azp;
    if (clientId !== this.config.ACCOUNT_OIDC_CLIENT_ID) {
      throw new ProblemError(
        invalidTokenProblem(
          `The access token was issued to client ${JSON.stringify(clientId ?? null)}, not to the account page (${this.config.ACCOUNT_OIDC_CLIENT_ID}), so sign in through the account page.`,
        ),
      );
    }
    try {
      return { userId: parseUserId(payload.sub, 'sub') };
    } catch (error) {
      if (error instanceof GrantError) throw new ProblemError(invalidTokenProblem(`The access token's sub claim is not a valid user id: ${error.message}.`));
      throw error;
    }
  }

  private verificationProblem(error: unknown, issuer: string): ProblemError {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || keySetUnavailableCodes.has(code)) {
      this.logger.warn({ err: error, issuer }, 'Account token check failed because the issuer key set could not be fetched');
      return new ProblemError(issuerUnavailableProblem(issuer));
    }
    switch (code) {
      case 'ERR_JWT_EXPIRED':
        return new ProblemError(invalidTokenProblem('The access token has expired, so sign in again.'));
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return new ProblemError(
          invalidTokenProblem(`The access token is signed with an algorithm outside ${this.config.ACCOUNT_OIDC_ALGORITHMS.join(', ')}.`),
        );
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
        return new ProblemError(
          invalidTokenProblem(`The access token failed a claim check (${(error as Error).message}), so sign in through the account page again.`),
        );
      case 'ERR_JWKS_NO_MATCHING_KEY':
        return new ProblemError(invalidTokenProblem(`The access token is not signed by a current key of ${issuer}.`));
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return new ProblemError(invalidTokenProblem('The access token signature is invalid.'));
      default:
        return new ProblemError(invalidTokenProblem('The access token is not a valid signed JWT.'));
    }
  }

  /**
   * Finds the issuer's `jwks_uri` once through OpenID Connect Discovery 1.0 §4; a failed lookup
   * is forgotten, so that the next request tries again.
   */
  private loadKeySet(issuer: string): Promise<KeySet> {
    this.keySet ??= this.discoverKeySet(issuer).catch((error: unknown) => {
      this.keySet = undefined;
      this.logger.warn({ err: error, issuer }, 'Account issuer discovery failed');
      throw new ProblemError(issuerUnavailableProblem(issuer));
    });
    return this.keySet;
  }

  private async discoverKeySet(issuer: string): Promise<KeySet> {
    const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(discoveryUrl, { signal: AbortSignal.timeout(issuerFetchTimeoutMs), redirect: 'error' });
    if (!response.ok) throw new Error(`GET ${discoveryUrl} returned HTTP ${response.status}`);
    const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };

    // OpenID Connect Discovery 1.0 §4.3: the document's issuer must equal the configured one exactly.
    if (metadata.issuer !== issuer) {
      throw new Error(`the discovery document of ${issuer} names issuer ${JSON.stringify(metadata.issuer)}`);
    }
    if (typeof metadata.jwks_uri !== 'string') throw new Error(`the discovery document of ${issuer} has no jwks_uri`);

    return createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: issuerFetchTimeoutMs });
  }
}
