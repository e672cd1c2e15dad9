import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';

import { decide } from '#grant-domain/grant.decider.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import { CLOCK, type Clock } from '../clock.js';
import { grantCommandResult, type GrantCommandResult } from '../grant-command-result.js';
import { GrantCommandRunner } from '../grant-command-runner.js';
import { loadGrantStream } from '../grant-stream.js';
import { RevokeGrantCommand } from './revoke-grant.command.js';

@CommandHandler(RevokeGrantCommand)
export class RevokeGrantHandler implements ICommandHandler<RevokeGrantCommand> {
  constructor(
    private readonly store: GrantEventStore,
    private readonly runner: GrantCommandRunner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(command: RevokeGrantCommand): Promise<GrantCommandResult> {
    return this.runner.run('revoke_grant', { grantId: command.grantId }, () => this.attempt(command));
  }

  private async attempt(command: RevokeGrantCommand): Promise<GrantCommandResult> {
    const stream = await loadGrantStream(this.store, command.grantId);

    const now = this.clock.now();
    const events = decide(
      { type: 'RevokeGrant', grantId: command.grantId, reason: command.reason, actor: command.actor, now },
      stream.state,
    );

    const appended = await this.store.append(command.grantId, stream.version, events, {}, now);
    return grantCommandResult(stream.events, appended);
  }
}
