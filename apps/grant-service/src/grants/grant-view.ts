import { evolve } from '#grant-domain/grant.decider.js';
import { initialGrantState } from '#grant-domain/grant.state.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';

/** A grant as the API returns it, whether read from its event stream or from the projection. */
export interface GrantView {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  status: 'active' | 'revoked';
  /** ISO 8601 instants. */
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
  revokeReason: RevokeReason | null;
  /** Stream version of the last event applied. */
  version: number;
  /** Global position of the last event applied. */
  position: bigint;
}

/** Folds a grant's recorded events, oldest first, into its view, and raises TypeError on an empty stream. */
export function grantViewFromStream(events: readonly RecordedGrantEvent[]): GrantView {
  const state = events.reduce((current, recorded) => evolve(current, recorded.event), initialGrantState);
  const last = events.at(-1);
  if (state.status === 'initial' || last === undefined) {
    throw new TypeError('grantViewFromStream needs a stream that starts with GrantCreated');
  }
  return {
    grantId: state.grantId,
    userId: state.userId,
    clientId: state.clientId,
    scopes: state.scopes,
    status: state.status,
    createdAt: state.createdAt,
    updatedAt: last.event.data.occurredAt,
    revokedAt: state.status === 'revoked' ? state.revokedAt : null,
    revokeReason: state.status === 'revoked' ? state.reason : null,
    version: last.version,
    position: last.position,
  };
}
