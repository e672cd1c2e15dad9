import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';

import { InjectKafka, type Kafka, KafkaConnections } from '#messaging/kafka.module.js';

import { counter, gauge } from '../common/metrics.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { ActiveGrantTable, type GrantState } from './active-grant-table.js';
import { GrantEventsFollower } from './grant-events.follower.js';
import { GrantProjection, type ProjectedGrant } from './grant-projection.js';

/** Phase of the grant state: `loading` the table, `catching_up` on the events after the load, or `ready` to serve lookups. */
export type GrantStateStatus = 'loading' | 'catching_up' | 'ready';

/** How long the start waits for the consumer to reach the end of the topic before serving anyway. */
const catchUpWaitMs = 10_000;
const catchUpPollMs = 10;
const topicPollMs = 1000;
const gaugeIntervalMs = 5000;
const startBackoff = { firstMs: 500, maxMs: 10_000 };

const metrics = {
  grants: () => gauge('token_service_grant_state_grants', 'Grants held in the in-memory grant state, revoked ones included'),
  bytes: () => gauge('token_service_grant_state_bytes', 'Estimated bytes of the in-memory grant state'),
  loadSeconds: () => gauge('token_service_grant_state_load_seconds', 'Duration of the last load of the grant state from the projection'),
  databaseReads: () =>
    counter('token_service_grant_state_database_reads_total', 'Lookups of grants unknown to the in-memory state, answered by the projection', ['outcome']),
};

function toProjectedGrant(state: GrantState): ProjectedGrant {
  return {
    grantId: state.grantId,
    userId: state.userId,
    clientId: state.clientId,
    scopes: state.scopes as string[],
    status: state.status,
    createdAt: new Date(state.createdAtMs),
    version: state.version,
    position: BigInt(state.position),
    lastUsedAt: state.lastUsedAtMs === null ? null : new Date(state.lastUsedAtMs),
  };
}

/**
 * The grant state of this instance, which refresh and introspection read without a database
 * round trip. At start it notes where the projector's consumer group has committed on the
 * grant-events topic, loads the active grants from the projection (one cursor), and then
 * consumes the topic from those offsets in a consumer group of its own. The projector commits
 * only after its write, so every event before the noted offsets is in the loaded rows, and every
 * later one is consumed. An event in both is applied once, by stream version.
 *
 * The projection stays the authority when in doubt: until the consumer has caught up, lookups
 * read the projection, and a grant the table does not know is read from it once and kept.
 */
@Injectable()
export class ActiveGrants implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ActiveGrants.name);
  private table = new ActiveGrantTable();
  private follower: GrantEventsFollower | undefined;
  private currentStatus: GrantStateStatus = 'loading';
  private topicMissing = false;
  private stopping = false;
  private readonly backgroundTasks = new Set<Promise<void>>();
  private readonly wakeUps = new Set<() => void>();
  private gaugeTimer: NodeJS.Timeout | undefined;
  private databaseReadCount = 0;
  /** This instance's consumer group, its own because every instance must read every event. */
  readonly groupId: string;

  constructor(
    @Inject(GrantProjection) private readonly projection: GrantProjection,
    @InjectKafka() private readonly kafka: Kafka,
    @Inject(KafkaConnections) private readonly connections: KafkaConnections,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
  ) {
    this.groupId = `${config.TOKEN_GRANT_STATE_GROUP_PREFIX}-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  get status(): GrantStateStatus {
    return this.currentStatus;
  }

  /** Number of lookups that read the projection because the grant was not in the table. */
  get databaseReads(): number {
    return this.databaseReadCount;
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Returns the next offset to apply per partition, for lag measurement. The map is empty while
   * the topic does not exist, and the result is undefined while nothing consumes.
   */
  nextOffsets(): ReadonlyMap<number, bigint> | undefined {
    if (this.topicMissing) return new Map();
    return this.follower?.nextOffsets();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.gaugeTimer = setInterval(() => this.updateGauges(), gaugeIntervalMs);
    this.gaugeTimer.unref();
    // The app waits for the first attempt, so that it serves with a loaded state. When Kafka or
    // the database fails it, the app starts anyway, reads the projection, and retries meanwhile.
    if (!(await this.tryStart(1))) this.runInBackground(this.retryUntilStarted());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.gaugeTimer);
    for (const wakeUp of this.wakeUps) wakeUp();
    await Promise.allSettled([...this.backgroundTasks]);
    if (this.follower) {
      await this.follower.stop();
      await this.deleteGroup();
    }
  }

  /** Returns the grant from the table, or reads it from the projection when the table lacks it. */
  async find(grantId: string): Promise<ProjectedGrant | undefined> {
    if (this.currentStatus !== 'ready') return this.projection.find(grantId);

    const known = this.table.get(grantId);
    // A grant first seen through a later event lacks its creation time until the projection has it.
    if (known && (known.status === 'revoked' || !Number.isNaN(known.createdAtMs))) return toProjectedGrant(known);

    this.databaseReadCount += 1;
    const row = await this.projection.find(grantId);
    metrics.databaseReads().inc({ outcome: row ? 'found' : 'missing' });
    if (!row) return undefined;
    this.table.merge({
      grantId: row.grantId,
      userId: row.userId,
      clientId: row.clientId,
      scopes: row.scopes,
      status: row.status,
      createdAtMs: row.createdAt.getTime(),
      version: row.version,
      position: Number(row.position),
      lastUsedAtMs: row.lastUsedAt?.getTime() ?? null,
    });
    const merged = this.table.get(grantId);
    return merged && toProjectedGrant(merged);
  }

  /** Returns the stream version the table holds for the grant, or undefined when the grant is not in it. */
  knownVersion(grantId: string): number | undefined {
    return this.table.versionOf(grantId);
  }

  /** Records that the grant service accepted a revocation, so the grant's tokens are rejected from now on. */
  markRevoked(grantId: string): void {
    this.table.markRevoked(grantId);
  }

  recordLastUse(grantId: string, usedAt: Date): void {
    this.table.recordLastUse(grantId, usedAt.getTime());
  }

  private async tryStart(attempt: number): Promise<boolean> {
    try {
      await this.start();
      if (attempt > 1) this.logger.log({ attempts: attempt }, 'Grant state started after retrying');
      return true;
    } catch (error) {
      if (attempt === 1) {
        this.logger.error(
          { err: error, topic: this.config.GRANT_EVENTS_TOPIC },
          'Grant state could not start, so lookups read the projection while the start is retried',
        );
      }
      await this.follower?.stop();
      this.follower = undefined;
      this.currentStatus = 'loading';
      return false;
    }
  }

  private async retryUntilStarted(): Promise<void> {
    for (let attempt = 2; !this.stopping; attempt += 1) {
      await this.pause(Math.min(startBackoff.firstMs * 2 ** (attempt - 2), startBackoff.maxMs));
      if (this.stopping || (await this.tryStart(attempt))) return;
    }
  }

  private async start(): Promise<void> {
    const topic = this.config.GRANT_EVENTS_TOPIC;
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      // Asking for offsets of a missing topic would make kafkajs track it and fail later calls.
      const topicExists = (await admin.listTopics()).includes(topic);
      const startOffsets = topicExists ? await this.projectorOffsets(admin, topic) : [];

      this.table = await this.load();
      if (!topicExists) {
        // Nothing was ever published, so the loaded rows are complete until the topic appears.
        this.topicMissing = true;
        this.currentStatus = 'ready';
        this.runInBackground(this.followOnceTopicExists());
        return;
      }

      const targets = await admin.fetchTopicOffsets(topic);
      this.follower = new GrantEventsFollower(this.kafka, this.connections, this.table, topic, this.groupId);
      await this.follower.start(startOffsets);
      this.currentStatus = 'catching_up';
      await this.waitForCatchUp(targets);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Offsets the projector group has committed, or the earliest offset where it has committed none. */
  private async projectorOffsets(admin: Admin, topic: string): Promise<Array<{ partition: number; offset: string }>> {
    const [watermarks, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: this.config.GRANT_PROJECTOR_GROUP_ID, topics: [topic] }),
    ]);
    const committedByPartition = new Map(committed.partitions.map((entry) => [entry.partition, entry.offset]));
    return watermarks.map(({ partition, low }) => {
      const offset = committedByPartition.get(partition);
      return { partition, offset: offset !== undefined && BigInt(offset) >= 0n ? offset : low };
    });
  }

  private async load(): Promise<ActiveGrantTable> {
    const startedAt = performance.now();
    const table = new ActiveGrantTable();
    await this.projection.readActive(this.config.TOKEN_GRANT_STATE_FETCH_SIZE, (rows) => {
      for (const [grantId, userId, clientId, scopes, createdAtMs, version, position, lastUsedAtMs] of rows) {
        table.loadActive(grantId, userId, clientId, scopes, Number(createdAtMs), Number(version), Number(position), lastUsedAtMs === null ? null : Number(lastUsedAtMs));
      }
    });

    const seconds = (performance.now() - startedAt) / 1000;
    metrics.loadSeconds().set(seconds);
    this.logger.log({ grants: table.size, seconds: Number(seconds.toFixed(3)), approximateBytes: table.approximateBytes() }, 'Grant state loaded');
    this.updateGauges(table);
    return table;
  }

  /** Waits until the consumer has applied everything up to `targets`. Past catchUpWaitMs, it waits in the background. */
  private async waitForCatchUp(targets: ReadonlyArray<{ partition: number; high: string }>): Promise<void> {
    const caughtUp = () => {
      const next = this.follower?.nextOffsets();
      return next !== undefined && targets.every(({ partition, high }) => (next.get(partition) ?? 0n) >= BigInt(high));
    };
    const deadline = performance.now() + catchUpWaitMs;
    while (!caughtUp() && !this.stopping) {
      if (performance.now() >= deadline) {
        this.logger.warn({ topic: this.config.GRANT_EVENTS_TOPIC, waitedMs: catchUpWaitMs }, 'Grant state is still catching up, so lookups read the projection until it has');
        this.runInBackground(
          (async () => {
            while (!caughtUp() && !this.stopping) await this.pause(catchUpPollMs * 10);
            this.markReady();
          })(),
        );
        return;
      }
      await this.pause(catchUpPollMs);
    }
    this.markReady();
  }

  private markReady(): void {
    if (this.stopping) return;
    this.currentStatus = 'ready';
    this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC, groupId: this.groupId, grants: this.table.size }, 'Grant state is following the topic');
  }

  /** Starts consuming from the beginning once the topic exists. Until then, no event can be missed. */
  private async followOnceTopicExists(): Promise<void> {
    const topic = this.config.GRANT_EVENTS_TOPIC;
    while (!this.stopping) {
      await this.pause(topicPollMs);
      if (this.stopping || !(await this.topicExists(topic))) continue;

      const follower = new GrantEventsFollower(this.kafka, this.connections, this.table, topic, this.groupId);
      this.follower = follower;
      try {
        await follower.start([]);
        this.topicMissing = false;
        this.logger.log({ topic, groupId: this.groupId }, 'Grant events topic appeared, so the grant state follows it from the beginning');
        return;
      } catch (error) {
        this.logger.warn({ err: error, topic }, 'Following the new grant events topic failed, retrying');
        await follower.stop();
        this.follower = undefined;
      }
    }
  }

  /** Checks whether `topic` exists. Returns false also when the broker does not respond, so the caller asks again. */
  private async topicExists(topic: string): Promise<boolean> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      return (await admin.listTopics()).includes(topic);
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private runInBackground(task: Promise<void>): void {
    this.backgroundTasks.add(task);
    void task
      .catch((error: unknown) => this.logger.error({ err: error }, 'Grant state background task failed'))
      .finally(() => this.backgroundTasks.delete(task));
  }

  /** Removes this instance's consumer group, which no other instance will ever use. */
  private async deleteGroup(): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch {
      // Best effort, because the broker drops an empty group's offsets after offsets.retention.minutes anyway.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private updateGauges(table = this.table): void {
    metrics.grants().set(table.size);
    metrics.bytes().set(table.approximateBytes());
  }

  /** Waits `milliseconds`, or less when shutdown begins. */
  private pause(milliseconds: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUps.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, milliseconds);
      this.wakeUps.add(finish);
    });
  }
}
