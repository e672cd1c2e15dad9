import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';

import { grantViewFromStream, type GrantView } from './grant-view.js';

/** Result of every grant command: the grant after the command and the position to read it at. */
export interface GrantCommandResult {
  grant: GrantView;
  /**
   * Global position of the last event this command appended, or of the grant's latest event
   * when the command was already satisfied. A read with this `min_position` returns the result.
   */
  position: bigint;
  /** Whether this command created the grant. */
  created: boolean;
  /** Whether this command appended any event. */
  recorded: boolean;
}

/** Builds the result from the stream as loaded and the events the command appended to it. */
export function grantCommandResult(
  loaded: readonly RecordedGrantEvent[],
  appended: readonly RecordedGrantEvent[],
): GrantCommandResult {
  const grant = grantViewFromStream([...loaded, ...appended]);
  return {
    grant,
    position: grant.position,
    created: appended.some((recorded) => recorded.event.type === 'GrantCreated'),
    recorded: appended.length > 0,
  };
}
