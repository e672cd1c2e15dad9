import { Command } from '@nestjs/cqrs';

import type { Actor } from '#grant-domain/actor.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';

import type { GrantCommandResult } from '../grant-command-result.js';

/** Ends a grant for `reason`. Revoking a revoked grant changes nothing. */
export class RevokeGrantCommand extends Command<GrantCommandResult> {
  constructor(
    readonly grantId: string,
    readonly reason: RevokeReason,
    readonly actor: Actor,
  ) {
    super();
  }
}
