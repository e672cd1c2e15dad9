import type { GrantEvent } from '#grant-domain/grant.events.js';

import { decodeGrantEvent, encodeGrantEvent, GrantEventDecodeError } from './grant-event-codec.js';
import type { RecordedGrantEvent } from './grant-event-message.js';

const grantId = '5b0d3c1e-4c7a-4f0e-9a43-2f1f6d1b7c11';

function recorded(event: GrantEvent, version = 1): RecordedGrantEvent {
  return {
    position: 42n,
    eventId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    grantId,
    version,
    event,
    metadata: {},
    recordedAt: new Date('2026-12-04T10:00:00.000Z'),
  };
}

const created: GrantEvent = {
  type: 'GrantCreated',
  data: {
    grantId,
    userId: 'user-1',
    clientId: 'client-1',
    scopes: ['offline_access', 'openid'],
    actor: { type: 'service', id: 'authorization-server' },
    occurredAt: '2026-12-04T10:00:00.000Z',
  },
};

const revoked: GrantEvent = {
  type: 'GrantRevoked',
  data: { ...created.data, reason: 'user', actor: { type: 'user', id: 'user-1' } },
};

function decodeError(message: Parameters<typeof decodeGrantEvent>[0]): GrantEventDecodeError {
  try {
    decodeGrantEvent(message);
  } catch (error) {
    if (error instanceof GrantEventDecodeError) return error;
    throw error;
  }
  throw new Error('decodeGrantEvent accepted the message');
}

describe('when a recorded event is encoded', () => {
  it('sets the CloudEvents binary-mode headers', () => {
    const message = encodeGrantEvent(recorded(created));

    expect(message.key).toBe(grantId);
    expect(message.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      ce_source: '/offline-grants/grant-service',
      ce_type: 'dev.offline-grants.grant.created.v1',
      ce_subject: grantId,
      ce_time: '2026-12-04T10:00:00.000Z',
      ce_position: '42',
      ce_streamversion: '1',
      'content-type': 'application/json',
    });
    expect(JSON.parse(message.value)).toEqual(created.data);
  });

  it.each([created, revoked])('decodes back to the same $type', (event) => {
    const message = encodeGrantEvent(recorded(event, 2));
    const headers = Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, Buffer.from(value)]));

    const envelope = decodeGrantEvent({ key: Buffer.from(message.key), value: Buffer.from(message.value), headers });

    expect(envelope.event).toEqual(event);
    expect(envelope.version).toBe(2);
    expect(envelope.position).toBe(42n);
    expect(envelope.subject).toBe(grantId);
  });
});

describe('when a message is not a valid grant event', () => {
  const valid = encodeGrantEvent(recorded(revoked));

  it('rejects a missing header', () => {
    const { ce_type: _dropped, ...headers } = valid.headers;
    expect(decodeError({ value: valid.value, headers }).reason).toBe('missing headers ce_type');
  });

  it('rejects an unknown type', () => {
    const error = decodeError({ value: valid.value, headers: { ...valid.headers, ce_type: 'dev.offline-grants.grant.created.v9' } });
    expect(error.reason).toBe('unknown ce_type dev.offline-grants.grant.created.v9');
  });

  it('rejects a value that is not JSON', () => {
    expect(decodeError({ value: '{', headers: valid.headers }).reason).toBe('the value is not JSON');
  });

  it('rejects data that breaks the schema', () => {
    const value = JSON.stringify({ ...revoked.data, reason: 'bored' });
    expect(decodeError({ value, headers: valid.headers }).reason).toMatch(/^the data does not match dev\.offline-grants\.grant\.revoked\.v1: \/reason/);
  });

  it('rejects a subject that differs from the grant id', () => {
    const error = decodeError({ value: valid.value, headers: { ...valid.headers, ce_subject: 'a0000000-0000-4000-8000-000000000000' } });
    expect(error.reason).toContain('differs from data.grantId');
  });

  it('rejects a non-numeric stream version', () => {
    const error = decodeError({ value: valid.value, headers: { ...valid.headers, ce_streamversion: 'two' } });
    expect(error.reason).toContain('is not a positive integer');
  });

  it('names the event id in the message', () => {
    expect(decodeError({ value: '{', headers: valid.headers }).message).toContain('0f8fad5b-d9cb-469f-a165-70867728950e');
  });
});
