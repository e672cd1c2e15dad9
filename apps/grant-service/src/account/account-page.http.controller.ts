import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../config/grant-service.config.js';
import { type AccountPageAsset, loadAccountPageAssets } from './account-page.assets.js';

/** Sign-in settings of the page's script, served as /account/config.json. */
export interface AccountPageConfigJson {
  /** null while ACCOUNT_OIDC_ISSUER is unset; the page then explains that sign-in is unavailable. */
  issuer: string | null;
  client_id: string;
  scope: string;
}

/**
 * Serves the account page: static HTML, one script module, one stylesheet and an icon, each with
 * a strict Content-Security-Policy. The page may connect only to this service and to the issuer,
 * whose token endpoint it calls for the code exchange.
 *
 * NOTE: the issuer's token endpoint must share the issuer's origin, as it does with most
 * providers; another origin is blocked by connect-src.
 */
@Controller('account')
export class AccountPageHttpController {
  private readonly assets = loadAccountPageAssets();
  private readonly contentSecurityPolicy: string;

  constructor(@Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig) {
    const issuerOrigin = config.ACCOUNT_OIDC_ISSUER === undefined ? '' : ` ${new URL(config.ACCOUNT_OIDC_ISSUER).origin}`;
    this.contentSecurityPolicy = [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      `connect-src 'self'${issuerOrigin}`,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "object-src 'none'",
    ].join('; ');
  }

  @Get()
  page(@Res() reply: FastifyReply): void {
    this.send(reply, 'account.html', 'no-store');
  }

  @Get('account.js')
  script(@Res() reply: FastifyReply): void {
    this.send(reply, 'account.js', 'no-cache');
  }

  @Get('account.css')
  stylesheet(@Res() reply: FastifyReply): void {
    this.send(reply, 'account.css', 'no-cache');
  }

  @Get('icon.svg')
  icon(@Res() reply: FastifyReply): void {
    this.send(reply, 'icon.svg', 'no-cache');
  }

  @Get('config.json')
  pageConfig(@Res() reply: FastifyReply): void {
    const body: AccountPageConfigJson = {
      issuer: this.config.ACCOUNT_OIDC_ISSUER ?? null,
      client_id: this.config.ACCOUNT_OIDC_CLIENT_ID,
      scope: this.config.ACCOUNT_OIDC_SCOPE,
    };
    this.send(reply, { body: Buffer.from(JSON.stringify(body)), contentType: 'application/json' }, 'no-store');
  }

  private send(reply: FastifyReply, asset: string | AccountPageAsset, cacheControl: string): void {
    const { body, contentType } = typeof asset === 'string' ? this.assets.get(asset)! : asset;
    void reply
      .headers({
        'content-type': contentType,
        'cache-control': cacheControl,
        'content-security-policy': this.contentSecurityPolicy,
        'x-content-type-options': 'nosniff',
        // The sign-in response puts the authorization code in this page's URL; no-referrer keeps it
        // out of the Referer of every request the page makes.
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cross-origin-opener-policy': 'same-origin',
      })
      .send(body);
  }
}
