import { status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomUUID } from 'node:crypto';

import { GrantGrpcServer } from '../../apps/grant-service/src/grpc/grant-grpc.server.js';
import { errorCodeMetadataKey, errorDomain } from '#grpc/grpc-call-error.js';
import { grantServiceName, grantsProtoFile, loadProtoFiles, protoLoaderOptions } from '#grpc/proto-files.js';
import type { StartedHttpApp } from '#platform/start-http-app.js';
import { waitFor } from '#testing/wait-for.js';

import { eventsOf, type GrantApi, startGrantApi } from '../grant-api/grant-api-harness.js';
import { projectorNames, startProjector } from '../projector/projector-kit.js';
import { waitForTopic } from '../relay/topic-reader.js';
import { healthProtoPath, listReflectedServices } from './grpc-protos.js';
import { type CallOutcome, GrpcTestClient, statusName } from './grpc-test-client.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read messages field by field and assert each one
type Message = any;

/** Converts a google.protobuf.Timestamp, as proto-loader decodes it, to the REST API's ISO 8601 form. */
function isoOf(timestamp: { seconds: string; nanos: number } | null): string | null {
  if (timestamp === null) return null;
  return new Date(Number(timestamp.seconds) * 1000 + timestamp.nanos / 1_000_000).toISOString();
}

/** Converts a gRPC Grant message to the shape of the REST API's grant JSON. */
function asRestJson(grant: Message) {
  return {
    grant_id: grant.grant_id,
    user_id: grant.user_id,
    client_id: grant.client_id,
    scopes: grant.scopes,
    status: grant.status,
    created_at: isoOf(grant.created_at),
    updated_at: isoOf(grant.updated_at),
    revoked_at: isoOf(grant.revoked_at),
    revoke_reason: grant.revoke_reason === '' ? null : grant.revoke_reason,
    version: grant.version,
    position: grant.position,
  };
}

function expectGrpcError(outcome: CallOutcome<unknown>, expected: { status: status; code: string; field?: string }): void {
  expect(outcome.response).toBeUndefined();
  expect(statusName(outcome.error?.code)).toBe(statusName(expected.status));
  expect(outcome.error?.metadata.get(errorCodeMetadataKey)).toEqual([expected.code]);
  expect(outcome.details?.code).toBe(expected.status);
  expect(outcome.details?.message).toBe(outcome.error?.details);
  expect(outcome.details?.errorInfo?.reason).toBe(expected.code);
  expect(outcome.details?.errorInfo?.domain).toBe(errorDomain);
  expect(outcome.details?.errorInfo?.metadata.field).toBe(expected.field);
  expect(outcome.error?.details).toMatch(/\.$/);
}

describe('gRPC grant API with the relay and projector running', () => {
  const names = projectorNames('grpc-grants');
  let api: GrantApi;
  let projector: StartedHttpApp;
  let grants: GrpcTestClient;
  let writeToken: string;

  beforeAll(async () => {
    api = await startGrantApi('grpc_grants', { RELAY_ENABLED: 'true', GRANT_EVENTS_TOPIC: names.topic });
    await waitForTopic(names.topic);
    projector = await startProjector(api.database.url, names);
    grants = GrpcTestClient.connect(loadProtoFiles([grantsProtoFile]), grantServiceName, api.app.get(GrantGrpcServer).port);
    writeToken = await api.token({ scope: 'grants:read grants:write' });
  });

  afterAll(async () => {
    grants?.close();
    await projector?.app.close();
    await api?.close();
  });

  describe('when a grant is created over gRPC', () => {
    it('records the grant and returns its position', async () => {
      const created = await grants.call<Message>(
        'CreateGrant',
        { user_id: 'user-g1', client_id: 'client-g1', scopes: ['openid', 'offline_access', 'openid'] },
        { token: writeToken },
      );

      expect(created.error).toBeUndefined();
      const { grant, position } = created.response;
      expect(created.response.created).toBe(true);
      expect(grant).toMatchObject({ user_id: 'user-g1', client_id: 'client-g1', scopes: ['offline_access', 'openid'], status: 'active' });
      expect(grant.revoked_at).toBeNull();
      expect(grant.revoke_reason).toBe('');
      expect(grant.version).toBe(1);
      expect(position).toBe(grant.position);
      const events = await eventsOf(api.db, grant.grant_id);
      expect(events.map((event) => event.type)).toEqual(['GrantCreated']);
      expect(events[0].position).toBe(position);
      expect(events[0].data.actor).toEqual({ type: 'service', id: 'test-service' });
    });

    it('returns the same grant over gRPC and REST', async () => {
      const created = await grants.call<Message>('CreateGrant', { user_id: 'user-g2', client_id: 'client-g2', scopes: ['email'] }, { token: writeToken });
      const { grant_id: grantId } = created.response.grant;

      const read = await grants.call<Message>('GetGrant', { grant_id: grantId, min_position: created.response.position }, { token: writeToken });
      const rest = await api.request('GET', `/v1/grants/${grantId}?min_position=${created.response.position}`);

      expect(read.error).toBeUndefined();
      expect(rest.status).toBe(200);
      expect(asRestJson(read.response)).toEqual(rest.body);
      expect(asRestJson(created.response.grant)).toEqual(rest.body);
    });

    it('reuses the active grant of the pair', async () => {
      const first = await grants.call<Message>('CreateGrant', { user_id: 'user-g3', client_id: 'client-g3', scopes: ['email'] }, { token: writeToken });
      const again = await grants.call<Message>('CreateGrant', { user_id: 'user-g3', client_id: 'client-g3', scopes: ['email'] }, { token: writeToken });

      expect(again.response.created).toBe(false);
      expect(again.response.grant.grant_id).toBe(first.response.grant.grant_id);
      expect(again.response.position).toBe(first.response.position);
    });
  });

  describe('when a grant is created over REST', () => {
    it('reads the grant over gRPC', async () => {
      const created = await api.request('POST', '/v1/grants', { json: { user_id: 'user-r1', client_id: 'client-r1', scopes: ['openid', 'profile'] } });
      expect(created.status).toBe(201);

      const read = await grants.call<Message>(
        'GetGrant',
        { grant_id: created.body.grant.grant_id.toUpperCase(), min_position: created.body.position },
        { token: writeToken },
      );

      expect(read.error).toBeUndefined();
      expect(asRestJson(read.response)).toEqual(created.body.grant);
    });
  });

  describe('when the scopes change and the grant is revoked', () => {
    it('records each command and returns the history', async () => {
      const created = await grants.call<Message>('CreateGrant', { user_id: 'user-h1', client_id: 'client-h1', scopes: ['openid'] }, { token: writeToken });
      const grantId = created.response.grant.grant_id;

      const changed = await grants.call<Message>('ChangeGrantScopes', { grant_id: grantId, scopes: ['openid', 'email'] }, { token: writeToken });
      const revoked = await grants.call<Message>('RevokeGrant', { grant_id: grantId, reason: 'user' }, { token: writeToken });
      const history = await grants.call<Message>('GetGrantHistory', { grant_id: grantId }, { token: writeToken });
      const read = await grants.call<Message>('GetGrant', { grant_id: grantId, min_position: revoked.response.position }, { token: writeToken });

      expect(changed.response.grant.scopes).toEqual(['email', 'openid']);
      expect(changed.response.grant.version).toBe(2);
      expect(revoked.response.grant.status).toBe('revoked');
      expect(revoked.response.grant.revoke_reason).toBe('user');
      expect(BigInt(revoked.response.position)).toBeGreaterThan(BigInt(changed.response.position));
      expect(history.response.grant_id).toBe(grantId);
      expect(history.response.events.map((event: Message) => event.type)).toEqual(['GrantCreated', 'GrantScopesChanged', 'GrantRevoked']);
      expect(history.response.events[1].previous_scopes).toEqual(['openid']);
      expect(history.response.events[1].scopes).toEqual(['email', 'openid']);
      expect(history.response.events[2].reason).toBe('user');
      expect(history.response.events[2].position).toBe(revoked.response.position);
      expect(history.response.events[0].actor).toEqual({ type: 'service', id: 'test-service' });
      expect(read.response.status).toBe('revoked');
      expect(read.response.revoke_reason).toBe('user');
      expect(isoOf(read.response.revoked_at)).toBe(isoOf(revoked.response.grant.revoked_at));

      const restHistory = await api.request('GET', `/v1/grants/${grantId}/history`);
      expect(restHistory.body.events.map((event: Message) => event.event_id)).toEqual(history.response.events.map((event: Message) => event.event_id));
      expect(restHistory.body.events.map((event: Message) => event.occurred_at)).toEqual(
        history.response.events.map((event: Message) => isoOf(event.occurred_at)),
      );
    });

    it('records the actor that an admin caller names', async () => {
      const adminToken = await api.token({ scope: 'grants:admin' });
      const created = await grants.call<Message>(
        'CreateGrant',
        { user_id: 'user-h2', client_id: 'client-h2', scopes: ['openid'], actor: { type: 'user', id: 'user-h2' } },
        { token: adminToken },
      );

      const events = await eventsOf(api.db, created.response.grant.grant_id);
      expect(events[0].data.actor).toEqual({ type: 'user', id: 'user-h2' });
    });
  });

  describe('when grants are listed', () => {
    it('pages with page_size and page_token', async () => {
      const positions: string[] = [];
      for (const client of ['client-l1', 'client-l2', 'client-l3']) {
        const created = await grants.call<Message>('CreateGrant', { user_id: 'user-list', client_id: client, scopes: ['openid'] }, { token: writeToken });
        positions.push(created.response.position);
      }
      await waitFor(async () => (await api.db.query("SELECT 1 FROM grants WHERE user_id = 'user-list'")).rowCount === 3);

      const first = await grants.call<Message>('ListGrants', { user_id: 'user-list', page_size: 2 }, { token: writeToken });
      const second = await grants.call<Message>('ListGrants', { user_id: 'user-list', page_size: 2, page_token: first.response.next_page_token }, { token: writeToken });
      const rest = await api.request('GET', '/v1/grants?user_id=user-list&limit=2');

      expect(first.response.grants).toHaveLength(2);
      expect(first.response.next_page_token).toBe(rest.body.next_cursor);
      expect(first.response.grants.map(asRestJson)).toEqual(rest.body.items);
      expect(second.response.grants).toHaveLength(1);
      expect(second.response.next_page_token).toBe('');
      const clients = [...first.response.grants, ...second.response.grants].map((grant: Message) => grant.client_id).sort();
      expect(clients).toEqual(['client-l1', 'client-l2', 'client-l3']);
    });

    it('filters by client and status', async () => {
      const created = await grants.call<Message>('CreateGrant', { user_id: 'user-f1', client_id: 'client-filter', scopes: ['openid'] }, { token: writeToken });
      await grants.call<Message>('CreateGrant', { user_id: 'user-f2', client_id: 'client-filter', scopes: ['openid'] }, { token: writeToken });
      const revoked = await grants.call<Message>('RevokeGrant', { grant_id: created.response.grant.grant_id }, { token: writeToken });
      await grants.call<Message>('GetGrant', { grant_id: created.response.grant.grant_id, min_position: revoked.response.position }, { token: writeToken });

      const listed = await grants.call<Message>('ListGrants', { client_id: 'client-filter', status: 'revoked' }, { token: writeToken });

      expect(listed.response.grants.map((grant: Message) => grant.grant_id)).toEqual([created.response.grant.grant_id]);
      expect(listed.response.grants[0].revoke_reason).toBe('admin');
    });
  });

  describe('when a mutating call carries an idempotency-key', () => {
    it('replays the first response for a retry', async () => {
      const key = randomUUID();
      const request = { user_id: 'user-i1', client_id: 'client-i1', scopes: ['openid'] };

      const first = await grants.call<Message>('CreateGrant', request, { token: writeToken, metadata: { 'idempotency-key': key } });
      await grants.call<Message>('ChangeGrantScopes', { grant_id: first.response.grant.grant_id, scopes: ['email'] }, { token: writeToken });
      const retry = await grants.call<Message>('CreateGrant', request, { token: writeToken, metadata: { 'idempotency-key': key } });

      expect(first.headers.get('idempotent-replayed')).toEqual([]);
      expect(retry.headers.get('idempotent-replayed')).toEqual(['true']);
      expect(retry.response).toEqual(first.response);
      expect((await eventsOf(api.db, first.response.grant.grant_id)).map((event) => event.type)).toEqual(['GrantCreated', 'GrantScopesChanged']);
    });

    it('rejects the key for a different request', async () => {
      const key = randomUUID();
      await grants.call<Message>('CreateGrant', { user_id: 'user-i2', client_id: 'client-i2', scopes: ['openid'] }, { token: writeToken, metadata: { 'idempotency-key': key } });

      const reused = await grants.call<Message>(
        'CreateGrant',
        { user_id: 'user-i2', client_id: 'client-i2', scopes: ['email'] },
        { token: writeToken, metadata: { 'idempotency-key': key } },
      );

      expectGrpcError(reused, { status: status.FAILED_PRECONDITION, code: 'idempotency.key_reused', field: 'idempotency-key' });
    });
  });

  describe('when the health and reflection services are asked', () => {
    it('reports SERVING for the service', async () => {
      const port = api.app.get(GrantGrpcServer).port;
      const health = GrpcTestClient.connect(loadSync(healthProtoPath, protoLoaderOptions), 'grpc.health.v1.Health', port);
      try {
        const overall = await waitFor(async () => {
          const outcome = await health.call<Message>('Check', { service: '' });
          return outcome.response?.status === 'SERVING' ? outcome : undefined;
        });
        const service = await health.call<Message>('Check', { service: grantServiceName });
        const unknown = await health.call<Message>('Check', { service: 'no.such.Service' });

        expect(overall.response.status).toBe('SERVING');
        expect(service.response.status).toBe('SERVING');
        expect(statusName(unknown.error?.code)).toBe('NOT_FOUND');
      } finally {
        health.close();
      }
    });

    it('lists the services through reflection', async () => {
      const services = await listReflectedServices(api.app.get(GrantGrpcServer).port);

      expect(services).toEqual(expect.arrayContaining([grantServiceName, 'grpc.health.v1.Health']));
    });
  });
});

describe('gRPC grant API errors and limits', () => {
  const unknownGrantId = '3f8e2d1c-0b9a-4876-9543-210fedcba987';
  let api: GrantApi;
  let grants: GrpcTestClient;
  let writeToken: string;
  let readToken: string;
  let adminToken: string;
  let revokedGrantId: string;
  let unprojectedGrant: { grantId: string; position: string };

  beforeAll(async () => {
    // No relay and no projector run here, so the projection never catches up with the event store.
    api = await startGrantApi('grpc_grant_errors', { GRANT_API_MIN_POSITION_WAIT_MS: '300' });
    grants = GrpcTestClient.connect(loadProtoFiles([grantsProtoFile]), grantServiceName, api.app.get(GrantGrpcServer).port);
    writeToken = await api.token({ scope: 'grants:read grants:write' });
    readToken = await api.token({ scope: 'grants:read' });
    adminToken = await api.token({ scope: 'grants:admin' });

    const revoked = await grants.call<Message>('CreateGrant', { user_id: 'user-e1', client_id: 'client-e1', scopes: ['openid'] }, { token: writeToken });
    revokedGrantId = revoked.response.grant.grant_id;
    await grants.call<Message>('RevokeGrant', { grant_id: revokedGrantId }, { token: writeToken });
    const unprojected = await grants.call<Message>('CreateGrant', { user_id: 'user-e2', client_id: 'client-e2', scopes: ['openid'] }, { token: writeToken });
    unprojectedGrant = { grantId: unprojected.response.grant.grant_id, position: unprojected.response.position };
  });

  afterAll(async () => {
    grants?.close();
    await api?.close();
  });

  const validCreate = { user_id: 'user-x', client_id: 'client-x', scopes: ['openid'] };

  interface ErrorCase {
    name: string;
    method: string;
    request: () => object;
    settings: () => Promise<{ token?: string; metadata?: Record<string, string | string[]> }>;
    status: status;
    code: string;
    field?: string;
  }

  const errorCases: ErrorCase[] = [
    {
      name: 'a call without authorization metadata',
      method: 'GetGrant',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({}),
      status: status.UNAUTHENTICATED,
      code: 'auth.invalid_token',
      field: 'authorization',
    },
    {
      name: 'authorization metadata of another scheme',
      method: 'GetGrant',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({ metadata: { authorization: 'Basic dXNlcjpwYXNz' } }),
      status: status.UNAUTHENTICATED,
      code: 'auth.invalid_token',
      field: 'authorization',
    },
    {
      name: 'an expired access token',
      method: 'GetGrant',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({ token: await api.token({ expiresAt: Math.floor(Date.now() / 1000) - 60 }) }),
      status: status.UNAUTHENTICATED,
      code: 'auth.invalid_token',
    },
    {
      name: 'an access token of another audience',
      method: 'GetGrant',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({ token: await api.token({ audience: 'another-api' }) }),
      status: status.UNAUTHENTICATED,
      code: 'auth.invalid_token',
    },
    {
      name: 'a command with a read-only token',
      method: 'CreateGrant',
      request: () => validCreate,
      settings: async () => ({ token: readToken }),
      status: status.PERMISSION_DENIED,
      code: 'auth.insufficient_scope',
    },
    {
      name: 'a read with a token without grant scopes',
      method: 'ListGrants',
      request: () => ({ user_id: 'user-x' }),
      settings: async () => ({ token: await api.token({ scope: 'openid' }) }),
      status: status.PERMISSION_DENIED,
      code: 'auth.insufficient_scope',
    },
    {
      name: 'an actor from a caller without grants:admin',
      method: 'CreateGrant',
      request: () => ({ ...validCreate, actor: { type: 'user', id: 'user-x' } }),
      settings: async () => ({ token: writeToken }),
      status: status.PERMISSION_DENIED,
      code: 'auth.insufficient_scope',
    },
    {
      name: 'an empty user_id',
      method: 'CreateGrant',
      request: () => ({ ...validCreate, user_id: '' }),
      settings: async () => ({ token: writeToken }),
      status: status.INVALID_ARGUMENT,
      code: 'grant.invalid_user_id',
      field: 'user_id',
    },
    {
      name: 'a client_id with a control character',
      method: 'CreateGrant',
      request: () => ({ ...validCreate, client_id: 'client\u0007' }),
      settings: async () => ({ token: writeToken }),
      status: status.INVALID_ARGUMENT,
      code: 'grant.invalid_client_id',
      field: 'client_id',
    },
    {
      name: 'a scope with a space',
      method: 'CreateGrant',
      request: () => ({ ...validCreate, scopes: ['openid', 'two words'] }),
      settings: async () => ({ token: writeToken }),
      status: status.INVALID_ARGUMENT,
      code: 'grant.invalid_scopes',
      field: 'scopes[1]',
    },
    {
      name: 'no scopes',
      method: 'CreateGrant',
      request: () => ({ ...validCreate, scopes: [] }),
      settings: async () => ({ token: writeToken }),
      status: status.INVALID_ARGUMENT,
      code: 'grant.invalid_scopes',
      field: 'scopes',
    },
    {
      name: 'an unknown actor type',
      method: 'CreateGrant',
      request: () => ({ ...validCreate, actor: { type: 'robot', id: 'r2' } }),
      settings: async () => ({ token: adminToken }),
      status: status.INVALID_ARGUMENT,
      code: 'grant.invalid_actor',
      field: 'actor.type',
    },
    {
      name: 'an unknown revoke reason',
      method: 'RevokeGrant',
      request: () => ({ grant_id: revokedGrantId, reason: 'bored' }),
      settings: async () => ({ token: writeToken }),
      status: status.INVALID_ARGUMENT,
      code: 'grant.invalid_reason',
      field: 'reason',
    },
    {
      name: 'a grant_id that is no UUID',
      method: 'GetGrant',
      request: () => ({ grant_id: 'not-a-uuid' }),
      settings: async () => ({ token: readToken }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_parameter',
      field: 'grant_id',
    },
    {
      name: 'a min_position beyond the bigint range',
      method: 'GetGrant',
      request: () => ({ grant_id: unknownGrantId, min_position: '9223372036854775808' }),
      settings: async () => ({ token: readToken }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_parameter',
      field: 'min_position',
    },
    {
      name: 'a list without user_id or client_id',
      method: 'ListGrants',
      request: () => ({ page_size: 10 }),
      settings: async () => ({ token: readToken }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_parameter',
      field: 'user_id',
    },
    {
      name: 'a page_size above 200',
      method: 'ListGrants',
      request: () => ({ user_id: 'user-x', page_size: 201 }),
      settings: async () => ({ token: readToken }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_parameter',
      field: 'page_size',
    },
    {
      name: 'a page_token from elsewhere',
      method: 'ListGrants',
      request: () => ({ user_id: 'user-x', page_token: 'bm90LWEtZ3JhbnQ' }),
      settings: async () => ({ token: readToken }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_parameter',
      field: 'page_token',
    },
    {
      name: 'an unknown status filter',
      method: 'ListGrants',
      request: () => ({ user_id: 'user-x', status: 'expired' }),
      settings: async () => ({ token: readToken }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_parameter',
      field: 'status',
    },
    {
      name: 'an idempotency-key with a space',
      method: 'CreateGrant',
      request: () => validCreate,
      settings: async () => ({ token: writeToken, metadata: { 'idempotency-key': 'two words' } }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_idempotency_key',
      field: 'idempotency-key',
    },
    {
      name: 'a repeated idempotency-key',
      method: 'CreateGrant',
      request: () => validCreate,
      settings: async () => ({ token: writeToken, metadata: { 'idempotency-key': ['key-1', 'key-2'] } }),
      status: status.INVALID_ARGUMENT,
      code: 'request.invalid_idempotency_key',
      field: 'idempotency-key',
    },
    {
      name: 'a read of an unknown grant',
      method: 'GetGrant',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({ token: readToken }),
      status: status.NOT_FOUND,
      code: 'grant.not_found',
      field: 'grant_id',
    },
    {
      name: 'the history of an unknown grant',
      method: 'GetGrantHistory',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({ token: readToken }),
      status: status.NOT_FOUND,
      code: 'grant.not_found',
      field: 'grant_id',
    },
    {
      name: 'a revocation of an unknown grant',
      method: 'RevokeGrant',
      request: () => ({ grant_id: unknownGrantId }),
      settings: async () => ({ token: writeToken }),
      status: status.NOT_FOUND,
      code: 'grant.not_found',
      field: 'grant_id',
    },
    {
      name: 'a scope change of a revoked grant',
      method: 'ChangeGrantScopes',
      request: () => ({ grant_id: revokedGrantId, scopes: ['email'] }),
      settings: async () => ({ token: writeToken }),
      status: status.FAILED_PRECONDITION,
      code: 'grant.revoked',
      field: 'grant_id',
    },
    {
      name: 'a read whose min_position the projection does not reach',
      method: 'GetGrant',
      request: () => ({ grant_id: unprojectedGrant.grantId, min_position: unprojectedGrant.position }),
      settings: async () => ({ token: readToken }),
      status: status.UNAVAILABLE,
      code: 'projection.behind',
    },
  ];

  describe.each(errorCases)('when the call is $name', (errorCase) => {
    it(`fails with ${status[errorCase.status]} ${errorCase.code}`, async () => {
      const outcome = await grants.call(errorCase.method, errorCase.request(), await errorCase.settings());

      expectGrpcError(outcome, errorCase);
    });
  });

  describe('when the request message is malformed', () => {
    it('fails with INVALID_ARGUMENT request.malformed_message', async () => {
      // Field 2 (min_position) starts a varint whose continuation bit promises a byte that never comes.
      const outcome = await grants.callRaw(`/${grantServiceName}/GetGrant`, Buffer.from([0x10, 0xff]), { token: readToken });

      expectGrpcError(outcome, { status: status.INVALID_ARGUMENT, code: 'request.malformed_message' });
    });
  });

  describe('when the request message exceeds 64 KiB', () => {
    it('fails with RESOURCE_EXHAUSTED and records nothing', async () => {
      const scopes = Array.from({ length: 100 }, (_, index) => `scope-${index}-${'x'.repeat(700)}`);

      const outcome = await grants.call('CreateGrant', { user_id: 'user-big', client_id: 'client-big', scopes }, { token: writeToken });

      expect(statusName(outcome.error?.code)).toBe('RESOURCE_EXHAUSTED');
      const rows = await api.db.query("SELECT 1 FROM grant_events WHERE data->>'userId' = 'user-big'");
      expect(rows.rowCount).toBe(0);
    });
  });

  describe('when the deadline passes while the call waits', () => {
    it('fails with DEADLINE_EXCEEDED', async () => {
      const outcome = await grants.call(
        'GetGrant',
        { grant_id: unprojectedGrant.grantId, min_position: unprojectedGrant.position },
        { token: readToken, deadlineMs: 50 },
      );

      expect(statusName(outcome.error?.code)).toBe('DEADLINE_EXCEEDED');
    });
  });
});
