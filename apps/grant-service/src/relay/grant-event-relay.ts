import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { createKafkaClient } from '#messaging/kafka-client.js';
import { GrantEventStore, type RelayCheckpoint } from '#persistence/grant-event-store.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../config/grant-service.config.js';
import { GrantEventsPublisher } from './grant-events-publisher.js';
import { readRelayCheckpoint, saveRelayCheckpoint } from './relay-checkpoint.js';
import { RelayLeaderLock, RelayLeaderLockLostError } from './relay-leader-lock.js';
import { relayMetrics, type RelayMetrics } from './relay.metrics.js';

/** The pause after a failed attempt starts here and doubles up to `maxBackoffMs`. */
const firstBackoffMs = 100;
const maxBackoffMs = 2000;

/**
 * Retries of the relay's Kafka client. With the kafkajs defaults (5 retries, waits growing up to
 * 30 s) a send during a broker outage hangs for tens of seconds, which hides the outage and delays
 * the recovery. With these it fails within seconds, and the relay's own backoff takes over.
 */
const kafkaRetry = { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 };

/**
 * State of one term as leader. A new term starts after a lost lock, so it reads the checkpoint and
 * checks the topic again.
 */
interface LeaderSession {
  checkpoint: RelayCheckpoint | undefined;
  topicReady: boolean;
  lockCheckedAt: number;
}

/** A run of failed attempts, logged once when it starts and once when it ends. */
interface Outage {
  startedAt: number;
  attempts: number;
  backoffMs: number;
}

/**
 * Publishes committed grant events from the event store to the grant-events topic, at least once
 * and in (transaction id, position) order, so every grant's events arrive in stream order.
 *
 * One instance relays at a time: the holder of a PostgreSQL advisory lock. The others try to take
 * the lock every RELAY_LEADER_RETRY_MS. The checkpoint advances only after the broker acknowledged
 * a batch, so a crash or a broker outage leads to re-publication, never to a skipped event.
 *
 * NOTE: new events are found by polling every RELAY_POLL_INTERVAL_MS, not by LISTEN/NOTIFY, because
 * PostgreSQL serializes the commits of transactions that send a NOTIFY. With a statement-level NOTIFY
 * trigger, 16 concurrent single-row INSERT transactions dropped from about 14,300 to 4,400 commits/s
 * (PostgreSQL 15 on a 2-core machine), which would cap the command rate.
 */
@Injectable()
export class GrantEventRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GrantEventRelay.name);
  private readonly metrics: RelayMetrics = relayMetrics();
  private readonly relayName: string;
  private readonly lock: RelayLeaderLock;
  private readonly publisher: GrantEventsPublisher;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private published = 0;
  /** Failed attempts to try the leader lock in a row; only the first one is logged. */
  private lockFailures = 0;
  /** Recording time of the oldest event read but not yet acknowledged by the broker. */
  private waitingSince: Date | undefined;

  constructor(
    @Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig,
    private readonly eventStore: GrantEventStore,
  ) {
    const kafka = createKafkaClient({ clientId: 'grant-service-relay', brokers: config.KAFKA_BROKERS, retry: kafkaRetry });
    // One checkpoint and one lock per target topic: a relay to a new topic starts from the beginning.
    this.relayName = config.GRANT_EVENTS_TOPIC;
    this.lock = new RelayLeaderLock(config.DATABASE_URL, `grant-events-relay:${this.relayName}`, 'grant-service-relay-lock');
    this.publisher = new GrantEventsPublisher(kafka, { topic: config.GRANT_EVENTS_TOPIC, partitions: config.GRANT_EVENTS_PARTITIONS });
  }

  /** Whether this instance holds the leader lock and therefore publishes. */
  get isLeader(): boolean {
    return this.lock.isHeld;
  }

  /** Events this instance published and the broker acknowledged since it started. */
  get publishedEventCount(): number {
    return this.published;
  }

  onApplicationBootstrap(): void {
    if (!this.config.RELAY_ENABLED) {
      this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC }, 'Relay is disabled by RELAY_ENABLED=false');
      return;
    }
    // The loop runs in the background, so the app starts even while Kafka or the lock is unavailable.
    this.loop = this.run().catch((error: unknown) => {
      this.logger.error({ err: error, topic: this.config.GRANT_EVENTS_TOPIC }, 'Relay stopped after an unexpected error');
    });
  }

  /**
   * Stops the loop after the batch in flight, then closes the producer and releases the lock.
   * This runs before the shutdown hooks that close the database pool and the Kafka connections.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.loop;
    await this.publisher.close();
    await this.lock.release();
    this.metrics.leader.set(0);
  }

  private async run(): Promise<void> {
    let session: LeaderSession | undefined;
    let outage: Outage | undefined;

    while (!this.stopping) {
      if (session === undefined || !this.lock.isHeld) {
        if (session !== undefined) {
          this.logger.warn({ topic: this.config.GRANT_EVENTS_TOPIC }, 'Relay lost the leader lock; publishing stops until it is taken again');
          this.metrics.leader.set(0);
        }
        session = await this.tryToLead();
        if (session === undefined) {
          await this.pause(this.config.RELAY_LEADER_RETRY_MS);
          continue;
        }
      }

      try {
        const count = await this.relayBatch(session);
        if (outage !== undefined) {
          this.logger.log(
            { topic: this.config.GRANT_EVENTS_TOPIC, attempts: outage.attempts, outageMs: Date.now() - outage.startedAt },
            'Relay publishes again',
          );
          outage = undefined;
        }
        // A full batch means more events are probably waiting: read again at once.
        if (count < this.config.RELAY_BATCH_SIZE) await this.pause(this.config.RELAY_POLL_INTERVAL_MS);
      } catch (error) {
        if (error instanceof RelayLeaderLockLostError || !this.lock.isHeld) continue;
        outage = this.recordFailure(outage, error);
        await this.pause(outage.backoffMs);
      }
    }
  }

  /** Takes the leader lock if it is free; returns a new session when this instance leads. */
  private async tryToLead(): Promise<LeaderSession | undefined> {
    let acquired: boolean;
    try {
      acquired = await this.lock.tryAcquire();
    } catch (error) {
      this.lockFailures += 1;
      if (this.lockFailures === 1) {
        this.logger.warn({ err: error, topic: this.config.GRANT_EVENTS_TOPIC }, 'Relay could not try the leader lock; trying again later');
      }
      return undefined;
    }
    if (this.lockFailures > 0) {
      this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC, failedAttempts: this.lockFailures }, 'Relay can try the leader lock again');
      this.lockFailures = 0;
    }
    if (!acquired) return undefined;

    this.metrics.leader.set(1);
    this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC }, 'Relay took the leader lock and starts publishing');
    return { checkpoint: undefined, topicReady: false, lockCheckedAt: Date.now() };
  }

  /** Publishes the next batch after the checkpoint; returns how many events it published. */
  private async relayBatch(session: LeaderSession): Promise<number> {
    session.checkpoint ??= await readRelayCheckpoint(this.lock, this.relayName);
    if (!session.topicReady) {
      const created = await this.publisher.ensureTopic();
      if (created) {
        this.logger.log({ topic: this.config.GRANT_EVENTS_TOPIC, partitions: this.config.GRANT_EVENTS_PARTITIONS }, 'Relay created the topic');
      }
      session.topicReady = true;
    }

    const events = await this.eventStore.readCommittedAfter(session.checkpoint, this.config.RELAY_BATCH_SIZE);
    if (events.length === 0) {
      this.metrics.lagSeconds.set(0);
      await this.checkLockWhileIdle(session);
      return 0;
    }

    this.waitingSince = events[0].recordedAt;
    await this.publisher.publish(events);

    const last = events[events.length - 1];
    const checkpoint = { transactionId: last.transactionId, position: last.position };
    await saveRelayCheckpoint(this.lock, this.relayName, checkpoint);
    session.checkpoint = checkpoint;
    session.lockCheckedAt = Date.now();
    this.waitingSince = undefined;

    this.published += events.length;
    this.metrics.eventsPublished.inc(events.length);
    this.metrics.lagSeconds.set(Math.max(0, Date.now() - last.recordedAt.getTime()) / 1000);
    return events.length;
  }

  /**
   * Runs a statement on the lock's session now and then while no event arrives. A dead session
   * is thereby noticed even without writes, and the lock is given up instead of kept in name only.
   */
  private async checkLockWhileIdle(session: LeaderSession): Promise<void> {
    if (Date.now() - session.lockCheckedAt < this.config.RELAY_LEADER_RETRY_MS) return;
    await this.lock.query('SELECT 1');
    session.lockCheckedAt = Date.now();
  }

  /** Logs the first failure of an outage only, and returns the outage with its next pause. */
  private recordFailure(outage: Outage | undefined, error: unknown): Outage {
    if (this.waitingSince !== undefined) {
      this.metrics.lagSeconds.set(Math.max(0, Date.now() - this.waitingSince.getTime()) / 1000);
    }
    if (outage === undefined) {
      this.logger.error(
        { err: error, topic: this.config.GRANT_EVENTS_TOPIC },
        'Relay could not publish grant events; retrying from the checkpoint until Kafka and PostgreSQL are available',
      );
      return { startedAt: Date.now(), attempts: 1, backoffMs: firstBackoffMs };
    }
    return { ...outage, attempts: outage.attempts + 1, backoffMs: Math.min(outage.backoffMs * 2, maxBackoffMs) };
  }

  /** Waits `milliseconds`, or less when shutdown begins. */
  private pause(milliseconds: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(finish, milliseconds);
      this.wakeUp = finish;
    });
  }
}
