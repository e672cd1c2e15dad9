import type { RecordedGrantEvent } from '#grant-events/grant-event-message.js';
import { type TimestampMessage, toTimestamp } from '#grpc/timestamp.js';

import type { GrantView } from '../grants/grant-view.js';
import { toGrantJson, toHistoryEventJson } from '../grants/http/grant.json.js';

// Messages of proto/grants/v1/grants.proto as proto-loader decodes and encodes them: snake_case
// fields, unset strings as '', unset messages as null, and uint64 values as decimal strings.

export interface ActorMessage {
  type: string;
  id: string;
}

export interface GrantMessage {
  grant_id: string;
  user_id: string;
  client_id: string;
  scopes: string[];
  status: string;
  created_at: TimestampMessage;
  updated_at: TimestampMessage;
  revoked_at: TimestampMessage | null;
  revoke_reason: string;
  version: number;
  position: string;
}

export interface CreateGrantRequest {
  user_id: string;
  client_id: string;
  scopes: string[];
  actor: ActorMessage | null;
}

export interface CreateGrantResponse {
  grant: GrantMessage;
  position: string;
  created: boolean;
}

export interface ChangeGrantScopesRequest {
  grant_id: string;
  scopes: string[];
  actor: ActorMessage | null;
}

export interface RevokeGrantRequest {
  grant_id: string;
  reason: string;
  actor: ActorMessage | null;
}

/** The response of ChangeGrantScopes and RevokeGrant. */
export interface GrantCommandResponse {
  grant: GrantMessage;
  position: string;
}

export interface GetGrantRequest {
  grant_id: string;
  min_position: string;
}

export interface ListGrantsRequest {
  user_id: string;
  client_id: string;
  status: string;
  page_size: number;
  page_token: string;
}

export interface ListGrantsResponse {
  grants: GrantMessage[];
  next_page_token: string;
}

export interface GetGrantHistoryRequest {
  grant_id: string;
}

export interface GrantEventMessage {
  event_id: string;
  type: string;
  version: number;
  position: string;
  actor: ActorMessage;
  scopes: string[];
  previous_scopes: string[];
  reason: string;
  occurred_at: TimestampMessage;
  recorded_at: TimestampMessage;
  correlation_id: string;
}

export interface GetGrantHistoryResponse {
  grant_id: string;
  events: GrantEventMessage[];
}

/** Builds the Grant message from the same JSON shape that the REST API returns, so both stay equal. */
export function toGrantMessage(grant: GrantView): GrantMessage {
  const json = toGrantJson(grant);
  return {
    grant_id: json.grant_id,
    user_id: json.user_id,
    client_id: json.client_id,
    scopes: json.scopes,
    status: json.status,
    created_at: toTimestamp(json.created_at),
    updated_at: toTimestamp(json.updated_at),
    revoked_at: json.revoked_at === null ? null : toTimestamp(json.revoked_at),
    revoke_reason: json.revoke_reason ?? '',
    version: json.version,
    position: json.position,
  };
}

/** Builds a GrantEvent message from the same JSON shape as a REST history entry. */
export function toGrantEventMessage(recorded: RecordedGrantEvent): GrantEventMessage {
  const json = toHistoryEventJson(recorded);
  return {
    event_id: json.event_id,
    type: json.type,
    version: json.version,
    position: json.position,
    actor: { type: json.actor.type, id: json.actor.id },
    scopes: json.scopes,
    previous_scopes: json.previous_scopes ?? [],
    reason: json.reason ?? '',
    occurred_at: toTimestamp(json.occurred_at),
    recorded_at: toTimestamp(json.recorded_at),
    correlation_id: json.correlation_id ?? '',
  };
}
