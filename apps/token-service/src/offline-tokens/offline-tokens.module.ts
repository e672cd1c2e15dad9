import { Module } from '@nestjs/common';

import { OfflineTokenIssuer } from './offline-token-issuer.js';
import { OfflineTokensHttpController } from './offline-tokens.http.controller.js';

/** Offline-token issuance for trusted callers. */
@Module({ controllers: [OfflineTokensHttpController], providers: [OfflineTokenIssuer] })
export class OfflineTokensModule {}
