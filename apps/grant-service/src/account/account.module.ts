import { Module } from '@nestjs/common';

import { grantEventStoreProvider } from '../grants/grant-event-store.provider.js';
import { AccountAuthGuard } from './account-auth.guard.js';
import { AccountGrantsHttpController } from './account-grants.http.controller.js';
import { AccountGrantsReader } from './account-grants.reader.js';
import { AccountPageHttpController } from './account-page.http.controller.js';
import { AccountTokenVerifier } from './account-token.verifier.js';

/**
 * The account page at /account and its API under /v1/account, where signed-in users see and
 * revoke their own grants. Revocations go through the grants module's RevokeGrantCommand.
 */
@Module({
  controllers: [AccountPageHttpController, AccountGrantsHttpController],
  providers: [AccountTokenVerifier, AccountAuthGuard, AccountGrantsReader, grantEventStoreProvider],
})
export class AccountModule {}
