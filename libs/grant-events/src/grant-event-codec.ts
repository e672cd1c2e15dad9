import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import type { GrantEvent } from '#grant-domain/grant.events.js';

import { cloudEventTypes, grantEventTypeOf } from './cloud-event-types.js';
import type { GrantEventEnvelope, GrantEventKafkaMessage, RecordedGrantEvent } from './grant-event-message.js';
import { grantEventSchemas } from './grant-event.schemas.js';
import { grantEventSource } from './grant-events-topic.js';

/** A Kafka message that is not a valid grant event; `reason` names the part that is wrong. */
export class GrantEventDecodeError extends Error {
  override readonly name = 'GrantEventDecodeError';

  constructor(
    readonly reason: string,
    readonly eventId?: string,
  ) {
    super(`invalid grant event message${eventId ? ` ${eventId}` : ''}: ${reason}`);
  }
}

const ajv = new Ajv2020({ allErrors: false, strict: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
const validators = new Map<string, ValidateFunction>(
  Object.entries(grantEventSchemas).map(([type, schema]) => [type, ajv.compile(schema)]),
);

/**
 * Encodes a recorded event as a Kafka message in CloudEvents 1.0 binary mode: the attributes
 * in `ce_*` headers, the event data as the JSON value, the grant id as the key.
 */
export function encodeGrantEvent(recorded: RecordedGrantEvent): GrantEventKafkaMessage {
  return {
    key: recorded.grantId,
    value: JSON.stringify(recorded.event.data),
    headers: {
      ce_specversion: '1.0',
      ce_id: recorded.eventId,
      ce_source: grantEventSource,
      ce_type: cloudEventTypes[recorded.event.type],
      ce_subject: recorded.grantId,
      ce_time: recorded.recordedAt.toISOString(),
      // CloudEvents extension attributes: the global position and the grant's stream version.
      ce_position: recorded.position.toString(),
      ce_streamversion: String(recorded.version),
      'content-type': 'application/json',
    },
  };
}

type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined;

function header(headers: RawHeaders, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Decodes a Kafka message from `grant-events` into a typed event, checking the CloudEvents headers
 * and validating the data against the type's JSON Schema.
 */
export function decodeGrantEvent(message: { key?: Buffer | string | null; value: Buffer | string | null; headers?: RawHeaders }): GrantEventEnvelope {
  const id = header(message.headers, 'ce_id');
  const required = ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_subject', 'ce_time', 'ce_position', 'ce_streamversion'];
  const missing = required.filter((name) => header(message.headers, name) === undefined);
  if (missing.length > 0) throw new GrantEventDecodeError(`missing headers ${missing.join(', ')}`, id);
  if (header(message.headers, 'ce_specversion') !== '1.0') {
    throw new GrantEventDecodeError(`ce_specversion is ${header(message.headers, 'ce_specversion')}, expected 1.0`, id);
  }

  const cloudEventType = header(message.headers, 'ce_type')!;
  const eventType = grantEventTypeOf(cloudEventType);
  const validate = validators.get(cloudEventType);
  if (eventType === undefined || validate === undefined) {
    throw new GrantEventDecodeError(`unknown ce_type ${cloudEventType}`, id);
  }

  const positionText = header(message.headers, 'ce_position')!;
  const versionText = header(message.headers, 'ce_streamversion')!;
  if (!/^\d{1,19}$/.test(positionText) || !/^\d{1,9}$/.test(versionText) || Number(versionText) < 1) {
    throw new GrantEventDecodeError(`ce_position ${positionText} or ce_streamversion ${versionText} is not a positive integer`, id);
  }

  let data: unknown;
  try {
    data = JSON.parse(message.value?.toString() ?? '');
  } catch {
    throw new GrantEventDecodeError('the value is not JSON', id);
  }
  if (!validate(data)) {
    const [first] = validate.errors ?? [];
    throw new GrantEventDecodeError(`the data does not match ${cloudEventType}: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(), id);
  }

  const event = { type: eventType, data } as GrantEvent;
  const subject = header(message.headers, 'ce_subject')!;
  if (subject !== event.data.grantId) {
    throw new GrantEventDecodeError(`ce_subject ${subject} differs from data.grantId ${event.data.grantId}`, id);
  }

  return {
    id: id!,
    source: header(message.headers, 'ce_source')!,
    cloudEventType,
    subject,
    time: header(message.headers, 'ce_time')!,
    position: BigInt(positionText),
    version: Number(versionText),
    event,
  };
}
