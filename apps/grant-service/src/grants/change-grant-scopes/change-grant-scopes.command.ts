import { Command } from '@nestjs/cqrs';

import type { Actor } from '#grant-domain/actor.js';

import type { GrantCommandResult } from '../grant-command-result.js';

/** Replaces the scopes of an active grant with `scopes`, which is already a parsed scope set. */
export class ChangeGrantScopesCommand extends Command<GrantCommandResult> {
  constructor(
    readonly grantId: string,
    readonly scopes: string[],
    readonly actor: Actor,
  ) {
    super();
  }
}
