import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Admin } from 'kafkajs';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';

import { InjectKafka, type Kafka, KafkaConnections } from '#messaging/kafka.module.js';

import { CLOCK, type Clock } from '../common/clock.js';
import { gauge } from '../common/metrics.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { ActiveGrants, type GrantStateStatus } from '../grants/active-grants.js';
import { PartitionLagTracker } from './partition-lag.js';

/** How far behind the event store the grant lookups may be, from the last measurement. */
export interface FreshnessReport {
  /** The largest of the parts below that lookups depend on, plus the age of the measurement itself. */
  stalenessSeconds: number;
  /** Age of the oldest event the relay has not published yet. */
  relayBacklogSeconds: number;
  /** Messages on the grant-events topic the projector's group has not committed yet. */
  projectorLagMessages: number;
  /** Age of the oldest message the projector has not committed yet, to within one measurement interval. */
  projectorBehindSeconds: number;
  /** Whether lookups use this instance's in-memory grant state, or still read the projection. */
  grantState: GrantStateStatus;
  /** Messages on the topic this instance's grant state has not applied yet, or 0 while it does not follow the topic. */
  grantStateLagMessages: number;
  /** Age of the oldest message the grant state has not applied yet, to within one measurement interval. */
  grantStateBehindSeconds: number;
  /** Whether staleness is above TOKEN_MAX_PROJECTION_STALENESS_SECONDS. */
  stale: boolean;
  measuredAt: string | null;
}

/** How long the start waits for the first measurement; until one succeeds, the projection counts as stale. */
const firstMeasurementWaitMs = 3000;

const metrics = {
  staleness: () => gauge('token_service_projection_staleness_seconds', 'How far the grants projection may be behind the event store'),
  relayBacklog: () => gauge('token_service_relay_backlog_seconds', 'Age of the oldest grant event the relay has not published'),
  projectorLag: () => gauge('token_service_projector_lag_messages', 'Grant-event messages the projector group has not committed'),
  projectorBehind: () => gauge('token_service_projector_behind_seconds', 'Age of the oldest grant-event message the projector has not committed'),
  grantStateBehind: () => gauge('token_service_grant_state_behind_seconds', 'Age of the oldest grant-event message the in-memory grant state has not applied'),
};

interface Measurement {
  relayBacklogSeconds: number;
  projectorLagMessages: number;
  projectorBehindSeconds: number;
  grantStateLagMessages: number;
  grantStateBehindSeconds: number;
  monotonicMs: number;
  at: Date;
}

/**
 * Measures, about once a second, how stale the grant lookups may be. Part (a) is the relay
 * backlog: the age of the first event after the relay checkpoint. Part (b) is the projector's
 * consumer lag on the grant-events topic and how long the oldest uncommitted message has waited.
 * Part (c), once lookups use the in-memory grant state, is that state's lag on the same topic.
 * The projection counts even then, because a grant the state does not know is read from it.
 * Above TOKEN_MAX_PROJECTION_STALENESS_SECONDS, refresh and issuance reject requests instead of
 * trusting the lookups.
 *
 * Event ages use the injected clock. The age of the measurement uses the monotonic clock, so a
 * monitor that cannot measure (database or broker down) turns stale after the same bound.
 */
@Injectable()
export class ProjectionFreshness implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProjectionFreshness.name);
  private admin: Admin | undefined;
  private timer: NodeJS.Timeout | undefined;
  private measuring: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  private readonly projectorLagTracker = new PartitionLagTracker();
  private readonly grantStateLagTracker = new PartitionLagTracker();
  private last: Measurement | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectKafka() private readonly kafka: Kafka,
    @Inject(KafkaConnections) private readonly connections: KafkaConnections,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ActiveGrants) private readonly activeGrants: ActiveGrants,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The first measurement runs before the app serves, so readiness and refresh start informed.
    // With the broker down it can take much longer, so the start waits only a bounded time.
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      this.measureNow(),
      new Promise((resolve) => {
        timeout = setTimeout(resolve, firstMeasurementWaitMs);
      }),
    ]);
    clearTimeout(timeout);
    this.timer = setInterval(() => void this.measureNow(), this.config.TOKEN_FRESHNESS_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  report(): FreshnessReport {
    const max = this.config.TOKEN_MAX_PROJECTION_STALENESS_SECONDS;
    const grantState = this.activeGrants.status;
    if (!this.last) {
      return {
        stalenessSeconds: Infinity,
        relayBacklogSeconds: 0,
        projectorLagMessages: 0,
        projectorBehindSeconds: 0,
        grantState,
        grantStateLagMessages: 0,
        grantStateBehindSeconds: 0,
        stale: true,
        measuredAt: null,
      };
    }
    const measurementAgeSeconds = Math.max(0, performance.now() - this.last.monotonicMs) / 1000;
    // Before the grant state is ready, lookups read the projection and its lag does not matter.
    const grantStateBehindSeconds = grantState === 'ready' ? this.last.grantStateBehindSeconds : 0;
    const stalenessSeconds = Math.max(this.last.relayBacklogSeconds, this.last.projectorBehindSeconds, grantStateBehindSeconds) + measurementAgeSeconds;
    return {
      stalenessSeconds,
      relayBacklogSeconds: this.last.relayBacklogSeconds,
      projectorLagMessages: this.last.projectorLagMessages,
      projectorBehindSeconds: this.last.projectorBehindSeconds,
      grantState,
      grantStateLagMessages: this.last.grantStateLagMessages,
      grantStateBehindSeconds: this.last.grantStateBehindSeconds,
      stale: stalenessSeconds > max,
      measuredAt: this.last.at.toISOString(),
    };
  }

  /** Runs one measurement now (or joins the running one); tests call it instead of waiting a tick. */
  measureNow(): Promise<void> {
    this.measuring ??= this.measure().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }

  private async measure(): Promise<void> {
    try {
      const now = this.clock.now();
      const [relayBacklogSeconds, lags] = await Promise.all([this.relayBacklogSeconds(now), this.topicLags(now)]);
      this.last = { relayBacklogSeconds, ...lags, monotonicMs: performance.now(), at: now };

      const report = this.report();
      metrics.staleness().set(report.stalenessSeconds);
      metrics.relayBacklog().set(relayBacklogSeconds);
      metrics.projectorLag().set(lags.projectorLagMessages);
      metrics.projectorBehind().set(lags.projectorBehindSeconds);
      metrics.grantStateBehind().set(lags.grantStateBehindSeconds);
      if (this.failing) this.logger.log('Projection freshness measurement recovered');
      this.failing = false;
    } catch (error) {
      // Logged once per outage; the report turns stale as the last measurement ages.
      if (!this.failing && !this.stopped) this.logger.warn({ err: error }, 'Projection freshness measurement failed');
      this.failing = true;
      await this.resetAdmin();
    }
  }

  /** Age of the first event after the relay checkpoint, in the relay's (transaction, position) order. */
  private async relayBacklogSeconds(now: Date): Promise<number> {
    const rows: Array<{ recorded_at: Date }> = await this.dataSource.query(
      `SELECT e.recorded_at
         FROM grant_events e
        WHERE (e.transaction_id, e.position) > (
                SELECT coalesce(max(c.transaction_id), '0'::xid8), coalesce(max(c.position), 0)
                  FROM relay_checkpoints c WHERE c.relay_name = $1)
        ORDER BY e.transaction_id, e.position
        LIMIT 1`,
      [this.config.RELAY_NAME],
    );
    return rows.length === 0 ? 0 : Math.max(0, (now.getTime() - rows[0].recorded_at.getTime()) / 1000);
  }

  /** Measures the projector group's lag and this instance's grant-state lag on the grant-events topic. */
  private async topicLags(now: Date): Promise<Omit<Measurement, 'relayBacklogSeconds' | 'monotonicMs' | 'at'>> {
    const topic = this.config.GRANT_EVENTS_TOPIC;
    const admin = await this.connectedAdmin();
    // Asking for offsets of a missing topic would make kafkajs track it and fail every later call.
    if (!(await admin.listTopics()).includes(topic)) {
      this.projectorLagTracker.reset();
      this.grantStateLagTracker.reset();
      return { projectorLagMessages: 0, projectorBehindSeconds: 0, grantStateLagMessages: 0, grantStateBehindSeconds: 0 };
    }
    const [watermarks, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: this.config.GRANT_PROJECTOR_GROUP_ID, topics: [topic] }),
    ]);
    // -1 means the group never committed there: everything from the low watermark is pending.
    const committedByPartition = new Map(
      committed.partitions.filter((entry) => BigInt(entry.offset) >= 0n).map((entry) => [entry.partition, BigInt(entry.offset)]),
    );
    const projector = this.projectorLagTracker.measure(now.getTime(), watermarks, (partition) => committedByPartition.get(partition));

    const applied = this.activeGrants.nextOffsets();
    const grantState = applied
      ? this.grantStateLagTracker.measure(now.getTime(), watermarks, (partition) => applied.get(partition))
      : { lagMessages: 0, behindMs: 0 };
    return {
      projectorLagMessages: projector.lagMessages,
      projectorBehindSeconds: projector.behindMs / 1000,
      grantStateLagMessages: grantState.lagMessages,
      grantStateBehindSeconds: grantState.behindMs / 1000,
    };
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.connections.track(this.kafka.admin({ retry: { retries: 0 } }));
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  private async resetAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}
