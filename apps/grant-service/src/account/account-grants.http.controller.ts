import { Controller, Delete, Get, Header, Param, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';

import { GrantError } from '#grant-domain/grant-error.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import { parseGrantIdParameter } from '../grants/http/request-input.js';
import { RevokeGrantCommand } from '../grants/revoke-grant/revoke-grant.command.js';
import { AccountAuthGuard, SignedInUser } from './account-auth.guard.js';
import { type AccountGrant, AccountGrantsReader } from './account-grants.reader.js';
import type { AccountUser } from './account-token.verifier.js';

/** The scope that lets a client act while the user is away (OpenID Connect Core 1.0 §11). */
const offlineAccessScope = 'offline_access';

interface AccountGrantJson {
  grant_id: string;
  client_id: string;
  client_name: string;
  scopes: string[];
  offline_access: boolean;
  created_at: string;
  last_used_at: string | null;
  /** null when the grant has no expiry. */
  expires_at: string | null;
}

function toAccountGrantJson(grant: AccountGrant): AccountGrantJson {
  return {
    grant_id: grant.grantId,
    client_id: grant.clientId,
    client_name: grant.clientName,
    scopes: grant.scopes,
    offline_access: grant.scopes.includes(offlineAccessScope),
    created_at: grant.createdAt.toISOString(),
    last_used_at: grant.lastUsedAt?.toISOString() ?? null,
    expires_at: grant.expiresAt?.toISOString() ?? null,
  };
}

/**
 * The account API behind the account page: the signed-in user lists and revokes their own
 * grants. A grant of another user gets the same 404 as a grant that does not exist.
 */
@Controller('v1/account/grants')
@UseGuards(AccountAuthGuard)
export class AccountGrantsHttpController {
  constructor(
    private readonly reader: AccountGrantsReader,
    private readonly store: GrantEventStore,
    private readonly commandBus: CommandBus,
  ) {}

  /** `GET /v1/account/grants`: the user's active grants, one per client, from the projection. */
  @Get()
  @Header('Cache-Control', 'no-store')
  async listGrants(@SignedInUser() user: AccountUser): Promise<{ grants: AccountGrantJson[] }> {
    const grants = await this.reader.listActive(user.userId);
    return { grants: grants.map(toAccountGrantJson) };
  }

  /**
   * `DELETE /v1/account/grants/{grant_id}` revokes the grant with reason `user`, recorded as done
   * by the user. Revoking an already revoked grant records nothing and returns its revocation's
   * position again.
   */
  @Delete(':grant_id')
  @Header('Cache-Control', 'no-store')
  async revokeGrant(@SignedInUser() user: AccountUser, @Param('grant_id') grantIdParameter: string) {
    const grantId = parseGrantIdParameter(grantIdParameter);

    // Ownership is read from the event store, because the projection may not have the grant yet.
    const { events } = await this.store.readStream(grantId);
    if (events.length === 0 || events[0].event.data.userId !== user.userId) {
      throw new GrantError('grant.not_found', `grant ${grantId} was not found among your grants`, 'grant_id');
    }

    const result = await this.commandBus.execute(new RevokeGrantCommand(grantId, 'user', { type: 'user', id: user.userId }));

    return { grant_id: result.grant.grantId, status: result.grant.status, position: result.position.toString() };
  }
}
