import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';

import { decide } from '#grant-domain/grant.decider.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

import { CLOCK, type Clock } from '../clock.js';
import { grantCommandResult, type GrantCommandResult } from '../grant-command-result.js';
import { GrantCommandRunner } from '../grant-command-runner.js';
import { GRANT_ID_GENERATOR, type GrantIdGenerator } from '../grant-id-generator.js';
import { emptyGrantStream, loadGrantStream, type LoadedGrantStream } from '../grant-stream.js';
import { CreateGrantCommand } from './create-grant.command.js';

@CommandHandler(CreateGrantCommand)
export class CreateGrantHandler implements ICommandHandler<CreateGrantCommand> {
  constructor(
    private readonly store: GrantEventStore,
    private readonly runner: GrantCommandRunner,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRANT_ID_GENERATOR) private readonly grantIds: GrantIdGenerator,
  ) {}

  execute(command: CreateGrantCommand): Promise<GrantCommandResult> {
    return this.runner.run('create_grant', { userId: command.userId, clientId: command.clientId }, () => this.attempt(command));
  }

  /**
   * Runs one load-decide-append attempt. A create that loses the race for the (user, client)
   * pair gets a concurrency conflict from the append, and the runner then repeats this attempt,
   * which finds the winner's grant.
   */
  private async attempt(command: CreateGrantCommand): Promise<GrantCommandResult> {
    const { grantId, stream } = await this.loadPairGrant(command.userId, command.clientId);

    const now = this.clock.now();
    const events = decide(
      { type: 'CreateGrant', grantId, userId: command.userId, clientId: command.clientId, scopes: command.scopes, actor: command.actor, now },
      stream.state,
    );

    const appended = await this.store.append(grantId, stream.version, events, {}, now);
    return grantCommandResult(stream.events, appended);
  }

  /** Loads the pair's active grant, or an empty stream under a new grant id when it has none. */
  private async loadPairGrant(userId: string, clientId: string): Promise<{ grantId: string; stream: LoadedGrantStream }> {
    const activeGrantId = await this.store.findActiveGrantId(userId, clientId);
    if (activeGrantId !== undefined) {
      const stream = await loadGrantStream(this.store, activeGrantId);
      // A revocation that committed between the two reads has released the pair, so this
      // consent starts a new grant instead of failing on the revoked one.
      if (stream.state.status === 'active') return { grantId: activeGrantId, stream };
    }
    return { grantId: this.grantIds.newGrantId(), stream: emptyGrantStream };
  }
}
