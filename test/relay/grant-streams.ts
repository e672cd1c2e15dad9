import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';

import type { GrantCommand } from '#grant-domain/grant.commands.js';
import { decide, evolve } from '#grant-domain/grant.decider.js';
import type { GrantEvent } from '#grant-domain/grant.events.js';
import { initialGrantState } from '#grant-domain/grant.state.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

/** Opens a TypeORM data source on a test database, for appending events the way the grant service does. */
export async function openDataSource(databaseUrl: string, poolSize = 10): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl, applicationName: 'relay-test-writer', poolSize }));
  await dataSource.initialize();
  return dataSource;
}

/**
 * Runs grant commands against the event store in three steps: load the stream, decide, append with
 * the expected version. A stand-in for the command handlers, so these tests need only the store.
 */
export class GrantStreams {
  constructor(private readonly store: GrantEventStore) {}

  static over(dataSource: DataSource): GrantStreams {
    return new GrantStreams(new GrantEventStore(dataSource));
  }

  async create(grantId: string = randomUUID(), scopes = ['offline_access', 'openid']): Promise<RecordedGrantEvent[]> {
    return this.run({
      type: 'CreateGrant',
      grantId,
      userId: `user-${grantId.slice(0, 8)}`,
      clientId: 'client-relay-test',
      scopes,
      actor: { type: 'user', id: `user-${grantId.slice(0, 8)}` },
      now: new Date(),
    });
  }

  async changeScopes(grantId: string, scopes: string[]): Promise<RecordedGrantEvent[]> {
    return this.run({ type: 'ChangeGrantScopes', grantId, scopes, actor: { type: 'admin', id: 'admin-1' }, now: new Date() });
  }

  async revoke(grantId: string): Promise<RecordedGrantEvent[]> {
    return this.run({ type: 'RevokeGrant', grantId, reason: 'user', actor: { type: 'user', id: 'user-1' }, now: new Date() });
  }

  private async run(command: GrantCommand): Promise<RecordedGrantEvent[]> {
    const stream = await this.store.readStream(command.grantId);
    const state = stream.events.reduce((current, recorded) => evolve(current, recorded.event), initialGrantState);

    const events: GrantEvent[] = decide(command, state);

    return this.store.append(command.grantId, stream.version, events, { correlationId: randomUUID() }, command.now);
  }
}

/**
 * Returns a store whose append transactions stay open after their inserts until `release` is
 * called. Their events take positions before later appends but commit after them.
 */
export function heldOpenStore(dataSource: DataSource): { store: GrantEventStore; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const holding = {
    query: (text: string, parameters?: unknown[]) => dataSource.query(text, parameters),
    transaction: (isolationLevel: Parameters<DataSource['transaction']>[0], work: (manager: unknown) => Promise<unknown>) =>
      dataSource.transaction(isolationLevel as never, async (manager) => {
        const result = await work(manager);
        await gate;
        return result;
      }),
  };
  return { store: new GrantEventStore(holding as unknown as DataSource), release };
}
