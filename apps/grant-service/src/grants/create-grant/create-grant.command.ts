import { Command } from '@nestjs/cqrs';

import type { Actor } from '#grant-domain/actor.js';

import type { GrantCommandResult } from '../grant-command-result.js';

/**
 * Grants `clientId` access to `userId`'s resources with `scopes`. Reuses the pair's active grant
 * when there is one: the same scopes change nothing, other scopes replace them. All fields are
 * already parsed by the grant domain's input parsers.
 */
export class CreateGrantCommand extends Command<GrantCommandResult> {
  constructor(
    readonly userId: string,
    readonly clientId: string,
    readonly scopes: string[],
    readonly actor: Actor,
  ) {
    super();
  }
}
