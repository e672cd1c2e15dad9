import type { Actor } from '#grant-domain/actor.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';
import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';

import type { GrantView } from '../grant-view.js';

/** A grant in REST bodies. Positions are decimal strings, because they may exceed 2^53. */
export interface GrantJson {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: 'active' | 'revoked';
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  revoke_reason: RevokeReason | null;
  version: number;
  position: string;
}

/** One entry of `GET /v1/grants/{grant_id}/history`. */
export interface GrantHistoryEventJson {
  event_id: string;
  type: RecordedGrantEvent['event']['type'];
  version: number;
  position: string;
  actor: Actor;
  scopes: string[];
  /** Scopes before a GrantScopesChanged, or null for other types. */
  previous_scopes: string[] | null;
  /** Revocation reason of a GrantRevoked, or null for other types. */
  reason: RevokeReason | null;
  occurred_at: string;
  recorded_at: string;
  correlation_id: string | null;
}

export function toGrantJson(grant: GrantView): GrantJson {
  return {
    grant_id: grant.grantId,
    user_id: grant.userId,
    client_id: grant.clientId,
    scopes: grant.scopes,
    status: grant.status,
    created_at: grant.createdAt,
    updated_at: grant.updatedAt,
    revoked_at: grant.revokedAt,
    revoke_reason: grant.revokeReason,
    version: grant.version,
    position: grant.position.toString(),
  };
}

export function toHistoryEventJson(recorded: RecordedGrantEvent): GrantHistoryEventJson {
  const { event } = recorded;
  return {
    event_id: recorded.eventId,
    type: event.type,
    version: recorded.version,
    position: recorded.position.toString(),
    actor: event.data.actor,
    scopes: event.data.scopes,
    previous_scopes: event.type === 'GrantScopesChanged' ? event.data.previousScopes : null,
    reason: event.type === 'GrantRevoked' ? event.data.reason : null,
    occurred_at: event.data.occurredAt,
    recorded_at: recorded.recordedAt.toISOString(),
    correlation_id: recorded.metadata.correlationId ?? null,
  };
}
