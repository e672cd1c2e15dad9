import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { JWK } from 'jose';

import { CLOCK, type Clock } from '../common/clock.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import type { SigningKey } from './signing-key.js';
import { SigningKeyStore } from './signing-key-store.js';

/** Reloads caused by unknown kids run at most this often. */
const unknownKidReloadIntervalMs = 1000;

/**
 * The signing keys held in memory. It creates the first key at start, reloads the keys
 * periodically so that rotations made by another instance or the CLI take effect, and promotes a
 * `next` key once its activation time has come.
 */
@Injectable()
export class KeyRing implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyRing.name);
  private keys: SigningKey[] = [];
  private keysByKid = new Map<string, SigningKey>();
  private lastReloadAt = 0;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloadFailing = false;
  private maintenance: Promise<void> | undefined;
  private unknownKidReload: Promise<void> | undefined;

  constructor(
    @Inject(SigningKeyStore) private readonly store: SigningKeyStore,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.store.ensureActiveKey(this.config.TOKEN_SIGNING_ALG, this.clock.now());
    await this.maintain();
    this.logger.log({ kids: this.keys.map((key) => key.kid), signingKid: this.signingKey().kid }, 'Signing keys loaded');

    this.reloadTimer = setInterval(() => void this.maintainInBackground(), this.config.TOKEN_KEY_RELOAD_INTERVAL_SECONDS * 1000);
    this.reloadTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.reloadTimer);
  }

  /**
   * Returns the key that signs now: the newest `next` key whose activation time has passed, else
   * the active key. A due `next` key signs at once, before its promotion is written, so instances
   * switch at the same moment of their clocks. An instance whose clock runs behind keeps signing
   * with the active key, which is still published.
   */
  signingKey(): SigningKey {
    const now = this.clock.now().getTime();
    let due: SigningKey | undefined;
    let active: SigningKey | undefined;
    for (const key of this.keys) {
      if (key.state === 'next' && key.activatesAt.getTime() <= now) due = key;
      if (key.state === 'active') active = key;
    }
    if (due) {
      void this.maintainInBackground();
      return due;
    }
    if (!active) throw new Error('no signing key is active; run `npm run keys -- rotate` with TOKEN_KEY_PUBLISH_DELAY_SECONDS=0');
    return active;
  }

  /**
   * Returns the key with `kid`. An unknown kid waits for a reload, in case another instance
   * rotated. Reloads for unknown kids run at most once a second, and concurrent requests share one.
   */
  async verificationKey(kid: string): Promise<SigningKey | undefined> {
    const known = this.keysByKid.get(kid);
    if (known) return known;
    await this.reloadForUnknownKid();
    return this.keysByKid.get(kid);
  }

  /** Returns the public keys for the JWKS (RFC 7517), next and retired keys included. */
  publicJwks(): JWK[] {
    return this.keys.map((key) => key.publicJwk);
  }

  all(): readonly SigningKey[] {
    return this.keys;
  }

  /**
   * Adds a key that is published now and signs after TOKEN_KEY_PUBLISH_DELAY_SECONDS; returns it.
   */
  async rotate(): Promise<SigningKey> {
    const now = this.clock.now();
    const activatesAt = new Date(now.getTime() + this.config.TOKEN_KEY_PUBLISH_DELAY_SECONDS * 1000);
    const kid = await this.store.addNextKey(this.config.TOKEN_SIGNING_ALG, now, activatesAt);
    await this.maintain();
    this.logger.log({ kid, activatesAt: activatesAt.toISOString() }, 'Signing key added');
    return this.keysByKid.get(kid)!;
  }

  async remove(kid: string): Promise<void> {
    await this.store.remove(kid);
    await this.maintain();
    this.logger.log({ kid }, 'Signing key removed');
  }

  private reloadForUnknownKid(): Promise<void> {
    this.unknownKidReload ??= (async () => {
      const waitMs = this.lastReloadAt + unknownKidReloadIntervalMs - Date.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      await this.maintainInBackground();
    })().finally(() => {
      this.unknownKidReload = undefined;
    });
    return this.unknownKidReload;
  }

  /** Promotes due keys and reloads; one run at a time, shared by concurrent callers. */
  private maintainInBackground(): Promise<void> {
    this.maintenance ??= this.maintain()
      .then(() => {
        if (this.reloadFailing) this.logger.log('Signing key reload recovered');
        this.reloadFailing = false;
      })
      .catch((error: unknown) => {
        // Logged once per outage; the keys in memory keep working meanwhile.
        if (!this.reloadFailing) this.logger.warn({ err: error }, 'Signing key reload failed; keeping the loaded keys');
        this.reloadFailing = true;
      })
      .finally(() => {
        this.maintenance = undefined;
      });
    return this.maintenance;
  }

  private async maintain(): Promise<void> {
    this.lastReloadAt = Date.now();
    await this.store.promoteDueKeys(this.clock.now());
    const keys = await this.store.load();
    this.keys = keys;
    this.keysByKid = new Map(keys.map((key) => [key.kid, key]));
  }
}
