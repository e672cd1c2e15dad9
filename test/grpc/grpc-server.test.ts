// GrpcServer and unaryCall on a real grpc-js server and client, with a GrantService whose GetGrant
// is a test handler, so that the tests decide when the handler proceeds.
import { connectivityState, type ServerUnaryCall, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

import { errorCodeMetadataKey, GrpcCallError } from '#grpc/grpc-call-error.js';
import { GrpcServer } from '#grpc/grpc-server.js';
import { grantServiceName, grantsProtoFile, loadProtoFiles, protoLoaderOptions } from '#grpc/proto-files.js';
import { throwIfCancelled, unaryCall } from '#grpc/unary-call.js';
import { waitFor } from '#testing/wait-for.js';

import { healthProtoPath } from './grpc-protos.js';
import { GrpcTestClient, statusName } from './grpc-test-client.js';

interface LogLine {
  level: 'info' | 'warn' | 'error';
  context: object;
  message: string;
}

/** Collects log lines in memory; the logger is the one dependency of GrpcServer outside this system's code. */
function memoryLogger(lines: LogLine[]) {
  return {
    info: (context: object, message: string) => lines.push({ level: 'info', context, message }),
    warn: (context: object, message: string) => lines.push({ level: 'warn', context, message }),
    error: (context: object, message: string) => lines.push({ level: 'error', context, message }),
  };
}

/** A gate that a handler waits at until the test opens it. */
class Gate {
  reached = false;
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });

  async pass(): Promise<void> {
    this.reached = true;
    await this.opened;
  }

  release(): void {
    this.open();
  }
}

type GetGrantHandler = (request: { grant_id: string }, call: ServerUnaryCall<{ grant_id: string }, object>) => Promise<object>;

describe('gRPC server', () => {
  const lines: LogLine[] = [];
  let ready = true;
  let handler: GetGrantHandler = async () => ({});
  let server: GrpcServer;
  let client: GrpcTestClient;

  async function startServer(shutdownGraceMs = 5000): Promise<void> {
    server = await GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      protoFiles: [grantsProtoFile],
      services: [
        {
          name: grantServiceName,
          implementation: {
            GetGrant: unaryCall({
              method: 'GetGrant',
              logger: memoryLogger(lines),
              translateError: (error) =>
                error instanceof RangeError ? { code: 'grant.not_found', message: 'The grant was not found.', field: 'grant_id' } : undefined,
              handle: (request: { grant_id: string }, call: ServerUnaryCall<{ grant_id: string }, object>) => handler(request, call),
            }),
          },
        },
      ],
      readiness: async () => ready,
      logger: memoryLogger(lines),
      healthCheckIntervalMs: 100,
      shutdownGraceMs,
    });
    client = GrpcTestClient.connect(loadProtoFiles([grantsProtoFile]), grantServiceName, server.port);
  }

  afterEach(async () => {
    client?.close();
    await server?.stop();
    lines.length = 0;
    ready = true;
  });

  describe('when the client cancels the call before the handler starts its work', () => {
    it('skips the work', async () => {
      await startServer();
      const gate = new Gate();
      let serverCall: ServerUnaryCall<{ grant_id: string }, object> | undefined;
      let worked = false;
      let finished = false;
      handler = async (_request, call) => {
        serverCall = call;
        try {
          await gate.pass();
          throwIfCancelled(call);
          worked = true;
          return {};
        } finally {
          finished = true;
        }
      };

      const raw = client.client as unknown as { GetGrant(request: object, callback: (error: { code: number } | null) => void): { cancel(): void } };
      const outcome = new Promise<number | undefined>((resolve) => {
        const call = raw.GetGrant({ grant_id: 'g' }, (error) => resolve(error?.code));
        void waitFor(() => gate.reached).then(() => call.cancel());
      });

      expect(statusName(await outcome)).toBe('CANCELLED');
      await waitFor(() => serverCall?.cancelled === true, { description: 'the server to see the cancellation' });
      gate.release();
      await waitFor(() => finished);
      expect(worked).toBe(false);
    });
  });

  describe('when the deadline passes before the handler starts its work', () => {
    it('responds DEADLINE_EXCEEDED and skips work', async () => {
      await startServer();
      const gate = new Gate();
      let serverCall: ServerUnaryCall<{ grant_id: string }, object> | undefined;
      let worked = false;
      let finished = false;
      handler = async (_request, call) => {
        serverCall = call;
        try {
          await gate.pass();
          throwIfCancelled(call);
          worked = true;
          return {};
        } finally {
          finished = true;
        }
      };

      const outcome = await client.call('GetGrant', { grant_id: 'g' }, { deadlineMs: 200 });
      // The client's timer may fire a moment before the server's deadline, which starts on arrival.
      await waitFor(() => Number(serverCall?.getDeadline()) <= Date.now(), { description: 'the server-side deadline to pass' });
      gate.release();
      await waitFor(() => finished);

      expect(statusName(outcome.error?.code)).toBe('DEADLINE_EXCEEDED');
      expect(worked).toBe(false);
    });
  });

  describe('when the handler raises an unexpected error', () => {
    it('responds INTERNAL without detail, logged once', async () => {
      await startServer();
      handler = async () => {
        throw new Error('connection to 10.0.0.7 refused');
      };

      const outcome = await client.call('GetGrant', { grant_id: 'g' });

      expect(statusName(outcome.error?.code)).toBe('INTERNAL');
      expect(outcome.error?.metadata.get(errorCodeMetadataKey)).toEqual(['internal_error']);
      expect(outcome.error?.details).toBe('The server failed to handle the call; retry later.');
      const errors = lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toBe('gRPC call failed with an unexpected error');
      expect(errors[0].context).toMatchObject({ method: 'GetGrant' });
    });
  });

  describe('when the handler raises an error the translator knows', () => {
    it('responds the status of its code', async () => {
      await startServer();
      handler = async () => {
        throw new RangeError('no such grant');
      };

      const outcome = await client.call('GetGrant', { grant_id: 'g' });

      expect(statusName(outcome.error?.code)).toBe('NOT_FOUND');
      expect(outcome.details?.errorInfo).toMatchObject({ reason: 'grant.not_found', metadata: { field: 'grant_id' } });
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    });
  });

  describe('when the handler raises GrpcCallError', () => {
    it('responds the described error', async () => {
      await startServer();
      handler = async () => {
        throw new GrpcCallError({ code: 'auth.insufficient_scope', message: 'The token lacks grants:read.', details: { scope: 'grants:read' } });
      };

      const outcome = await client.call('GetGrant', { grant_id: 'g' });

      expect(statusName(outcome.error?.code)).toBe('PERMISSION_DENIED');
      expect(outcome.error?.details).toBe('The token lacks grants:read.');
      expect(outcome.details?.errorInfo?.metadata).toEqual({ scope: 'grants:read' });
    });
  });

  describe('when the app is not ready', () => {
    it('reports NOT_SERVING until readiness passes', async () => {
      ready = false;
      await startServer();
      const health = GrpcTestClient.connect(loadSync(healthProtoPath, protoLoaderOptions), 'grpc.health.v1.Health', server.port);
      try {
        const notServing = await health.call<{ status: string }>('Check', { service: grantServiceName });
        ready = true;
        const serving = await waitFor(async () => {
          const outcome = await health.call<{ status: string }>('Check', { service: grantServiceName });
          return outcome.response?.status === 'SERVING' ? outcome : undefined;
        });

        expect(notServing.response?.status).toBe('NOT_SERVING');
        expect(serving.response?.status).toBe('SERVING');
      } finally {
        health.close();
      }
    });
  });

  describe('when the server stops during a call', () => {
    it('lets the call finish within the grace period', async () => {
      await startServer();
      const gate = new Gate();
      handler = async (request) => {
        await gate.pass();
        return { grant_id: request.grant_id, status: 'active' };
      };

      const outcome = client.call<{ grant_id: string }>('GetGrant', { grant_id: 'in-flight' });
      await waitFor(() => gate.reached);
      const stopped = server.stop();
      gate.release();

      expect((await outcome).response?.grant_id).toBe('in-flight');
      await stopped;
      const afterStop = await client.call('GetGrant', { grant_id: 'late' }, { deadlineMs: 1000 });
      expect(statusName(afterStop.error?.code)).toBe('UNAVAILABLE');
    });

    it('waits for a handler whose deadline passed', async () => {
      await startServer();
      const gate = new Gate();
      const events: string[] = [];
      handler = async () => {
        await gate.pass();
        events.push('handler finished');
        return {};
      };
      // A channel of its own, so that its connection state shows when the server closed the connection.
      const ownClient = GrpcTestClient.connect(loadProtoFiles([grantsProtoFile]), grantServiceName, server.port, {
        'grpc.use_local_subchannel_pool': 1,
      });
      client.close();

      try {
        const outcome = await ownClient.call('GetGrant', { grant_id: 'late' }, { deadlineMs: 100 });
        const stopped = server.stop().then(() => events.push('server stopped'));
        // Once the server has closed the idle connection, grpc-js has nothing left to drain.
        await waitFor(() => ownClient.client.getChannel().getConnectivityState(false) !== connectivityState.READY);
        const stoppedEarly = events.includes('server stopped');
        gate.release();
        await stopped;

        expect(statusName(outcome.error?.code)).toBe('DEADLINE_EXCEEDED');
        expect(stoppedEarly).toBe(false);
        expect(events).toEqual(['handler finished', 'server stopped']);
      } finally {
        ownClient.close();
      }
    });

    it('cancels a call that outlasts the grace period', async () => {
      await startServer(200);
      const gate = new Gate();
      handler = async () => {
        await gate.pass();
        return {};
      };

      const outcome = client.call('GetGrant', { grant_id: 'stuck' });
      await waitFor(() => gate.reached);
      await server.stop();
      const result = await outcome;
      gate.release();

      expect(result.error?.code).toBeDefined();
      expect(result.error?.code).not.toBe(status.OK);
      expect(lines.some((line) => line.message === 'gRPC calls still running after the grace period are cancelled')).toBe(true);
    });
  });

  describe('when the port is taken', () => {
    it('fails to start, naming the address', async () => {
      await startServer();

      await expect(
        GrpcServer.start({
          host: '127.0.0.1',
          port: server.port,
          protoFiles: [grantsProtoFile],
          services: [],
          readiness: async () => true,
          logger: memoryLogger(lines),
        }),
      ).rejects.toThrow(`the gRPC server could not listen on 127.0.0.1:${server.port}`);
    });
  });
});
