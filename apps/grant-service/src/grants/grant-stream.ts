import { evolve } from '#grant-domain/grant.decider.js';
import { type GrantState, initialGrantState } from '#grant-domain/grant.state.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import type { GrantEventStore } from '#persistence/grant-event-store.js';

/** A grant's stream as loaded for one command: its events, its version and the state they fold to. */
export interface LoadedGrantStream {
  /** 0 when the grant has no event. */
  version: number;
  events: RecordedGrantEvent[];
  state: GrantState;
}

export const emptyGrantStream: LoadedGrantStream = { version: 0, events: [], state: initialGrantState };

/** Reads a grant's stream and folds it into the grant's current state. */
export async function loadGrantStream(store: GrantEventStore, grantId: string): Promise<LoadedGrantStream> {
  const { version, events } = await store.readStream(grantId);
  const state = events.reduce((current, recorded) => evolve(current, recorded.event), initialGrantState);
  return { version, events, state };
}
