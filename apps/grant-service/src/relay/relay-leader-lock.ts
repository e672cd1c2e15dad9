import { createHash } from 'node:crypto';
import pg from 'pg';

/** Raised by a statement that needs the leader lock after the lock was lost or released. */
export class RelayLeaderLockLostError extends Error {
  override readonly name = 'RelayLeaderLockLostError';

  constructor(lockName: string) {
    super(`the relay no longer holds the leader lock ${lockName}; it stops until it takes the lock again`);
  }
}

/**
 * A PostgreSQL session advisory lock on a connection of its own. The lock must not be taken on a
 * pooled connection: the pool hands that connection to other queries and may close it at any time.
 * PostgreSQL releases a session lock when its session ends, so a holder whose connection dies loses
 * the lock and another instance can take it.
 */
export class RelayLeaderLock {
  /** The advisory lock key: the first 64 bits of the SHA-256 of the lock name, as a signed bigint. */
  private readonly key: string;
  private client: pg.Client | undefined;
  private held = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly lockName: string,
    private readonly applicationName: string,
  ) {
    this.key = createHash('sha256').update(lockName).digest().readBigInt64BE(0).toString();
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Tries once to take the lock without waiting, connecting first when needed; returns whether it is held. */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    const client = await this.connectedClient();
    const result = await client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS acquired', [this.key]);
    this.held = this.client === client && result.rows[0].acquired;
    return this.held;
  }

  /**
   * Runs a statement in the session that holds the lock. It fails once the lock is lost, so a
   * write made through it, such as the relay checkpoint, never comes from a former leader.
   */
  async query<Row extends object>(text: string, values: unknown[] = []): Promise<Row[]> {
    const client = this.client;
    if (!this.held || client === undefined) throw new RelayLeaderLockLostError(this.lockName);
    const result = await client.query<Row>(text, values);
    return result.rows;
  }

  /** Releases the lock and closes its connection; safe to call when the lock is not held. */
  async release(): Promise<void> {
    const client = this.client;
    const wasHeld = this.held;
    this.client = undefined;
    this.held = false;
    if (client === undefined) return;
    try {
      if (wasHeld) await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]);
    } catch {
      // Closing the session below releases the lock as well.
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async connectedClient(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: this.applicationName,
      connectionTimeoutMillis: 5000,
      // TCP keepalives let the client notice a peer that vanished without closing the connection.
      keepAlive: true,
    });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', () => this.forget(client));
    client.on('end', () => this.forget(client));
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  private forget(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.held = false;
    client.end().catch(() => undefined);
  }
}
