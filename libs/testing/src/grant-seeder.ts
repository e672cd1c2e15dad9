import type { DataSource } from 'typeorm';
import { randomUUID } from 'node:crypto';

import { decide } from '#grant-domain/grant.decider.js';
import { initialGrantState } from '#grant-domain/grant.state.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { GrantEventStore } from '#persistence/grant-event-store.js';

/** A grant to record directly in the event store. */
export interface GrantSeed {
  userId: string;
  clientId: string;
  scopes?: string[];
  /** When the grant is recorded as created; now by default. */
  createdAt?: Date;
}

/**
 * Records one GrantCreated per seed through the event store, `concurrency` appends at a time, as
 * the create command would for a pair without an active grant. Returns the recorded events in
 * the order of `seeds`. Much faster than the REST API for the thousands of grants bulk tests need.
 */
export async function seedGrants(dataSource: DataSource, seeds: readonly GrantSeed[], concurrency = 16): Promise<RecordedGrantEvent[]> {
  const store = new GrantEventStore(dataSource);
  const recorded: RecordedGrantEvent[] = new Array(seeds.length);
  let nextIndex = 0;

  const appendNext = async (): Promise<void> => {
    while (nextIndex < seeds.length) {
      const index = nextIndex;
      nextIndex += 1;
      const seed = seeds[index];
      const grantId = randomUUID();
      const now = seed.createdAt ?? new Date();
      const events = decide(
        {
          type: 'CreateGrant',
          grantId,
          userId: seed.userId,
          clientId: seed.clientId,
          scopes: [...(seed.scopes ?? ['offline_access', 'openid'])].sort(),
          actor: { type: 'service', id: 'test-seeder' },
          now,
        },
        initialGrantState,
      );
      [recorded[index]] = await store.append(grantId, 0, events, {}, now);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, seeds.length) }, appendNext));
  return recorded;
}
