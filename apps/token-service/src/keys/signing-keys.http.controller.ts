import { Controller, Delete, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';

import { AccessTokenGuard, AnyScope } from '../common/access-token.guard.js';
import { KeyRing } from './key-ring.js';
import { signingKeySummary } from './signing-key.js';

/** Signing-key administration: list, rotate, and remove retired keys. Same scopes as the client admin API. */
@Controller('v1/signing-keys')
@UseGuards(AccessTokenGuard)
@AnyScope(['clients:admin', 'grants:admin'])
export class SigningKeysHttpController {
  constructor(@Inject(KeyRing) private readonly keyRing: KeyRing) {}

  @Get()
  list() {
    return { items: this.keyRing.all().map(signingKeySummary) };
  }

  /** Adds a key that is published at once and signs after TOKEN_KEY_PUBLISH_DELAY_SECONDS. */
  @Post('rotate')
  @HttpCode(201)
  async rotate() {
    return signingKeySummary(await this.keyRing.rotate());
  }

  /** Removes a retired key; tokens it signed stop verifying, offline refresh tokens included. */
  @Delete(':kid')
  @HttpCode(204)
  async remove(@Param('kid') kid: string): Promise<void> {
    await this.keyRing.remove(kid);
  }
}
