import type { GrantEvent } from '#grant-domain/grant.events.js';

/** A grant event as recorded in the event store. */
export interface RecordedGrantEvent {
  /** Global position in the event store; increases with every append. */
  position: bigint;
  eventId: string;
  grantId: string;
  /** Version of the grant's stream after this event: 1 for the first event. */
  version: number;
  event: GrantEvent;
  metadata: GrantEventMetadata;
  recordedAt: Date;
}

export interface GrantEventMetadata {
  correlationId?: string;
  causationId?: string;
}

/** Kafka message fields, as kafkajs takes and returns them. */
export interface GrantEventKafkaMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * A decoded grant event as subscribers see it: the CloudEvents attributes plus the typed event.
 * `(source, id)` identifies it across redeliveries.
 */
export interface GrantEventEnvelope {
  id: string;
  source: string;
  /** The CloudEvents type, such as `dev.offline-grants.grant.revoked.v1`. */
  cloudEventType: string;
  /** The grant id. */
  subject: string;
  time: string;
  position: bigint;
  version: number;
  event: GrantEvent;
}
