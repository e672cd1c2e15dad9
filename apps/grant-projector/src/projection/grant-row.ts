import type { GrantEvent } from '#grant-domain/grant.events.js';
import type { RevokeReason } from '#grant-domain/revoke-reason.js';

/** A row of the `grants` projection, with the stream version and position it reflects. */
export interface GrantRow {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  status: 'active' | 'revoked';
  /** ISO 8601 instants, as the events carry them. */
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
  revokeReason: RevokeReason | null;
  /** The stream version of the last applied event: the marker that makes applying idempotent. */
  version: number;
  position: bigint;
}

/** An event as the projection needs it, whether it came from Kafka or from the event store. */
export interface ProjectableGrantEvent {
  eventId: string;
  grantId: string;
  version: number;
  position: bigint;
  event: GrantEvent;
}

/** The event cannot follow the row: its stream does not start with GrantCreated. */
export class GrantStreamCorruptError extends Error {
  override readonly name = 'GrantStreamCorruptError';
}

/**
 * Applies the next event of a grant's stream to its row; `row` is undefined before version 1.
 * A revoked row stays revoked whatever follows, and every event sets the version and position.
 */
export function applyToGrantRow(row: GrantRow | undefined, recorded: ProjectableGrantEvent): GrantRow {
  const { event } = recorded;
  const marker = { version: recorded.version, position: recorded.position };

  if (row === undefined) {
    if (event.type !== 'GrantCreated') {
      throw new GrantStreamCorruptError(
        `grant ${recorded.grantId} version ${recorded.version} is ${event.type}, but the first event of a grant must be GrantCreated`,
      );
    }
    return {
      grantId: event.data.grantId,
      userId: event.data.userId,
      clientId: event.data.clientId,
      scopes: event.data.scopes,
      status: 'active',
      createdAt: event.data.occurredAt,
      updatedAt: event.data.occurredAt,
      revokedAt: null,
      revokeReason: null,
      ...marker,
    };
  }

  if (row.status === 'revoked') return { ...row, ...marker };

  switch (event.type) {
    case 'GrantCreated':
      // A second GrantCreated in one stream changes nothing: the domain never records one.
      return { ...row, ...marker };
    case 'GrantScopesChanged':
      return { ...row, scopes: event.data.scopes, updatedAt: event.data.occurredAt, ...marker };
    case 'GrantRevoked':
      return {
        ...row,
        status: 'revoked',
        updatedAt: event.data.occurredAt,
        revokedAt: event.data.occurredAt,
        revokeReason: event.data.reason,
        ...marker,
      };
    default:
      return assertNever(event);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`unhandled grant event: ${JSON.stringify(value)}`);
}
