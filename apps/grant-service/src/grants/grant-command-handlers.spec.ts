import { Test, type TestingModule } from '@nestjs/testing';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';

import { GrantError } from '#grant-domain/grant-error.js';
import { dataSourceOptions } from '#persistence/data-source-options.js';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.js';

import { CLOCK, type Clock } from './clock.js';
import { CreateGrantCommand } from './create-grant/create-grant.command.js';
import { CreateGrantHandler } from './create-grant/create-grant.handler.js';
import { type GrantCommandResult } from './grant-command-result.js';
import { GrantCommandRunner, maxCommandAttempts } from './grant-command-runner.js';
import { GrantCommandMetrics } from './grant-command.metrics.js';
import { grantEventStoreProvider } from './grant-event-store.provider.js';
import { GRANT_ID_GENERATOR, type GrantIdGenerator } from './grant-id-generator.js';
import { RevokeGrantCommand } from './revoke-grant/revoke-grant.command.js';
import { RevokeGrantHandler } from './revoke-grant/revoke-grant.handler.js';

const frozenNow = new Date('2025-06-15T08:45:00.123Z');
const frozenClock: Clock = { now: () => frozenNow };
const service = { type: 'service', id: 'spec-service' } as const;

/** Hands out fixed grant ids in order, so that the tests know the id of each new grant. */
function sequentialGrantIds(ids: string[]): GrantIdGenerator {
  const remaining = [...ids];
  return {
    newGrantId: () => {
      const next = remaining.shift();
      if (next === undefined) throw new Error('the test ran out of grant ids');
      return next;
    },
  };
}

describe('grant command handlers on the real bus', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let commandBus: CommandBus;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('grant_handlers');
    moduleRef = await Test.createTestingModule({
      imports: [
        LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
        TypeOrmModule.forRoot(dataSourceOptions({ databaseUrl: database.url, applicationName: 'grant-handlers-spec' })),
        CqrsModule.forRoot(),
      ],
      providers: [
        grantEventStoreProvider,
        { provide: CLOCK, useValue: frozenClock },
        {
          provide: GRANT_ID_GENERATOR,
          useValue: sequentialGrantIds(['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']),
        },
        GrantCommandMetrics,
        GrantCommandRunner,
        CreateGrantHandler,
        RevokeGrantHandler,
      ],
    }).compile();
    await moduleRef.init();
    commandBus = moduleRef.get(CommandBus);
    dataSource = moduleRef.get(DataSource);
  });

  afterAll(async () => {
    await moduleRef.close();
    await database.drop();
  });

  describe('when a grant is created and recreated after revocation', () => {
    let first: GrantCommandResult;
    let second: GrantCommandResult;

    beforeAll(async () => {
      first = await commandBus.execute(new CreateGrantCommand('user-s', 'client-s', ['openid'], service));
      await commandBus.execute(new RevokeGrantCommand(first.grant.grantId, 'user', service));
      second = await commandBus.execute(new CreateGrantCommand('user-s', 'client-s', ['openid'], service));
    });

    it('takes grant ids from the generator', () => {
      expect(first.grant.grantId).toBe('00000000-0000-4000-8000-000000000001');
      expect(second.grant.grantId).toBe('00000000-0000-4000-8000-000000000002');
    });

    it('stamps events with the clock time', async () => {
      const rows: Array<{ occurred_at: string; recorded_at: Date }> = await dataSource.query(
        "SELECT data->>'occurredAt' AS occurred_at, recorded_at FROM grant_events ORDER BY position",
      );

      expect(rows).toHaveLength(3);
      for (const row of rows) {
        expect(row.occurred_at).toBe(frozenNow.toISOString());
        expect(row.recorded_at.toISOString()).toBe(frozenNow.toISOString());
      }
    });

    it('reports created and recorded', () => {
      expect(first).toMatchObject({ created: true, recorded: true });
      expect(first.grant).toMatchObject({ createdAt: frozenNow.toISOString(), updatedAt: frozenNow.toISOString(), version: 1 });
      expect(first.position).toBe(first.grant.position);
    });
  });
});

describe('GrantCommandRunner', () => {
  let moduleRef: TestingModule;
  let runner: GrantCommandRunner;
  const conflict = () => new GrantError('grant.concurrency_conflict', 'grant g was changed by another request at the same time', 'grant_id');
  const result = { recorded: false } as GrantCommandResult;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [LoggerModule.forRoot({ pinoHttp: { level: 'silent' } })],
      providers: [GrantCommandMetrics, GrantCommandRunner],
    }).compile();
    runner = moduleRef.get(GrantCommandRunner);
  });

  afterAll(async () => {
    await moduleRef.close();
  });

  describe('when every attempt conflicts', () => {
    it('raises the conflict after the maximum attempts', async () => {
      let attempts = 0;

      const outcome = runner.run('revoke_grant', {}, async () => {
        attempts += 1;
        throw conflict();
      });

      await expect(outcome).rejects.toMatchObject({ code: 'grant.concurrency_conflict' });
      expect(attempts).toBe(maxCommandAttempts);
    });
  });

  describe('when conflicts stop before the limit', () => {
    it('returns the result of the first successful attempt', async () => {
      let attempts = 0;

      const returned = await runner.run('revoke_grant', {}, async () => {
        attempts += 1;
        if (attempts < 3) throw conflict();
        return result;
      });

      expect(returned).toBe(result);
      expect(attempts).toBe(3);
    });
  });

  describe('when a grant rule rejects the command', () => {
    it('raises without repeating the attempt', async () => {
      let attempts = 0;

      const outcome = runner.run('change_grant_scopes', {}, async () => {
        attempts += 1;
        throw new GrantError('grant.revoked', 'grant g is revoked', 'grant_id');
      });

      await expect(outcome).rejects.toMatchObject({ code: 'grant.revoked' });
      expect(attempts).toBe(1);
    });
  });
});
