/** A grant as the token service keeps it in memory. Times are epoch milliseconds. */
export interface GrantState {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: readonly string[];
  status: 'active' | 'revoked';
  /** NaN while unknown: the table learned of the grant from an event other than GrantCreated. */
  createdAtMs: number;
  /** Stream version of the last change applied, the marker that makes applying idempotent. */
  version: number;
  /** Global event-store position of that change, or 0 when it is unknown. */
  position: number;
  /** Last use as stored in grant_last_used or queued for it, or null before the first use. */
  lastUsedAtMs: number | null;
}

/** One change to a grant, from a grant event or from a row of the `grants` projection. */
export type GrantChange =
  | { kind: 'created'; grantId: string; version: number; position: number; userId: string; clientId: string; scopes: readonly string[]; occurredAtMs: number }
  | { kind: 'scopes_changed'; grantId: string; version: number; position: number; userId: string; clientId: string; scopes: readonly string[] }
  | { kind: 'revoked'; grantId: string; version: number; position: number; userId: string; clientId: string; scopes: readonly string[] };

const statusActive = 0;
const statusRevoked = 1;

const initialRowCapacity = 1024;
/** The slot array stays at most half full, so linear probing finds a key in a few steps. */
const maxLoadFactor = 0.5;

/** Interns repeated strings (user ids, client ids, scope sets) so that each grant stores an index. */
class Interner<Value> {
  private readonly indexes = new Map<string, number>();
  readonly values: Value[] = [];

  intern(key: string, value: () => Value): number {
    let index = this.indexes.get(key);
    if (index === undefined) {
      index = this.values.length;
      this.values.push(value());
      this.indexes.set(key, index);
    }
    return index;
  }

  indexOf(key: string): number | undefined {
    return this.indexes.get(key);
  }

  /** Lets `alias` find the value already interned at `index`. */
  addAlias(alias: string, index: number): void {
    this.indexes.set(alias, index);
  }

  get size(): number {
    return this.values.length;
  }
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function growUint32(array: Uint32Array, length: number): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(length);
  grown.set(array);
  return grown;
}

function growFloat64(array: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(length);
  grown.set(array);
  return grown;
}

/**
 * The grant states of one token-service instance, kept compact so that a million grants fit in
 * about 80 MB (approximateBytes). A grant id is four 32-bit words in an open-addressing hash
 * table, and the other fields are columns of typed arrays. User ids, client ids and scope sets are
 * interned. Rows are never removed, because a revocation is final and must stay known.
 *
 * Applying changes is idempotent by stream version, and a revoked grant never becomes active
 * again, whatever order the changes arrive in.
 */
export class ActiveGrantTable {
  private rowCapacity = initialRowCapacity;
  private rowCount = 0;
  private ids = new Uint32Array(initialRowCapacity * 4);
  private users = new Uint32Array(initialRowCapacity);
  private clients = new Uint32Array(initialRowCapacity);
  private scopeSets = new Uint32Array(initialRowCapacity);
  private versions = new Uint32Array(initialRowCapacity);
  private statuses = new Uint8Array(initialRowCapacity);
  private createdAts = new Float64Array(initialRowCapacity);
  private positions = new Float64Array(initialRowCapacity);
  private lastUsedAts = new Float64Array(initialRowCapacity);
  /** Row index + 1 per slot, where 0 marks an empty slot. */
  private slots = new Uint32Array(initialRowCapacity * 2);

  private readonly userIds = new Interner<string>();
  private readonly clientIds = new Interner<string>();
  private readonly scopeSetValues = new Interner<readonly string[]>();
  /** Scratch words of the id being looked up, to avoid an allocation per lookup. */
  private readonly key = new Uint32Array(4);
  private keyParsed = false;

  /** Number of grants, active or revoked. */
  get size(): number {
    return this.rowCount;
  }

  /** Bytes held by the typed arrays, plus an estimate for the interned strings. */
  approximateBytes(): number {
    const columns = [this.ids, this.users, this.clients, this.scopeSets, this.versions, this.statuses, this.createdAts, this.positions, this.lastUsedAts, this.slots];
    const columnBytes = columns.reduce((total, column) => total + column.byteLength, 0);
    // NOTE: 96 bytes per interned string (Map entry, array slot, string) is an estimate. With
    // --expose-gc, 100,000 user ids of 12 characters measured about 80 bytes each.
    const internedBytes = (this.userIds.size + this.clientIds.size + this.scopeSetValues.size) * 96;
    return columnBytes + internedBytes;
  }

  get(grantId: string): GrantState | undefined {
    const row = this.rowOf(grantId);
    if (row < 0) return undefined;
    const lastUsedAtMs = this.lastUsedAts[row];
    return {
      grantId: grantId.toLowerCase(),
      userId: this.userIds.values[this.users[row]],
      clientId: this.clientIds.values[this.clients[row]],
      scopes: this.scopeSetValues.values[this.scopeSets[row]],
      status: this.statuses[row] === statusRevoked ? 'revoked' : 'active',
      createdAtMs: this.createdAts[row],
      version: this.versions[row],
      position: this.positions[row],
      lastUsedAtMs: Number.isNaN(lastUsedAtMs) ? null : lastUsedAtMs,
    };
  }

  /** Stream version of the grant in the table, or undefined when the table does not know it. */
  versionOf(grantId: string): number | undefined {
    const row = this.rowOf(grantId);
    return row < 0 ? undefined : this.versions[row];
  }

  /**
   * Applies a change from a grant event. Returns false when the table already reflects its
   * version, so a redelivered or replayed event changes nothing.
   */
  apply(change: GrantChange): boolean {
    const row = this.rowOf(change.grantId);
    if (row < 0) {
      this.insert(change.grantId, {
        userId: change.userId,
        clientId: change.clientId,
        scopes: change.scopes,
        status: change.kind === 'revoked' ? 'revoked' : 'active',
        createdAtMs: change.kind === 'created' ? change.occurredAtMs : Number.NaN,
        version: change.version,
        position: change.position,
        lastUsedAtMs: null,
      });
      return true;
    }
    // The creation time never changes, so it is taken whatever the version.
    if (change.kind === 'created' && Number.isNaN(this.createdAts[row])) this.createdAts[row] = change.occurredAtMs;
    if (change.version <= this.versions[row]) return false;

    this.versions[row] = change.version;
    this.positions[row] = change.position;
    // A revoked grant stays revoked: a later version only moves the marker.
    if (this.statuses[row] === statusRevoked) return true;
    if (change.kind === 'revoked') this.statuses[row] = statusRevoked;
    if (change.kind !== 'created') this.scopeSets[row] = this.internScopes(change.scopes);
    return true;
  }

  /**
   * Merges a grant as the `grants` projection stores it. The newer version wins for status and
   * scopes, except that a revocation already in the table is final. The creation time and the
   * later last use are kept from either side.
   */
  merge(grant: Omit<GrantState, 'grantId'> & { grantId: string }): void {
    const row = this.rowOf(grant.grantId);
    if (row < 0) {
      this.insert(grant.grantId, grant);
      return;
    }
    if (Number.isNaN(this.createdAts[row])) this.createdAts[row] = grant.createdAtMs;
    if (grant.lastUsedAtMs !== null) this.recordLastUse(grant.grantId, grant.lastUsedAtMs);
    if (grant.version <= this.versions[row]) return;

    this.versions[row] = grant.version;
    this.positions[row] = grant.position;
    if (this.statuses[row] === statusRevoked) return;
    if (grant.status === 'revoked') this.statuses[row] = statusRevoked;
    this.scopeSets[row] = this.internScopes(grant.scopes);
  }

  /**
   * Adds an active grant as the start-up load reads it, with its scopes space-separated. It does
   * what `merge` does, without the allocations that `merge` costs per row.
   */
  loadActive(
    grantId: string,
    userId: string,
    clientId: string,
    scopesText: string,
    createdAtMs: number,
    version: number,
    position: number,
    lastUsedAtMs: number | null,
  ): void {
    if (this.rowOf(grantId) >= 0) {
      const scopes = scopesText === '' ? [] : scopesText.split(' ');
      this.merge({ grantId, userId, clientId, scopes, status: 'active', createdAtMs, version, position, lastUsedAtMs });
      return;
    }
    let scopeSet = this.scopeSetValues.indexOf(scopesText);
    if (scopeSet === undefined) {
      scopeSet = this.internScopes(scopesText === '' ? [] : scopesText.split(' '));
    }
    this.insertRow(grantId, userId, clientId, scopeSet, 'active', createdAtMs, version, position, lastUsedAtMs);
  }

  /**
   * Marks a grant revoked without a version, after the grant service accepted its revocation and
   * before the event arrives. An unknown grant is stored as revoked with empty fields, so that
   * its tokens are refused without a database read.
   */
  markRevoked(grantId: string): void {
    const row = this.rowOf(grantId);
    if (row >= 0) {
      this.statuses[row] = statusRevoked;
      return;
    }
    this.insert(grantId, { userId: '', clientId: '', scopes: [], status: 'revoked', createdAtMs: Number.NaN, version: 0, position: 0, lastUsedAtMs: null });
  }

  /** Moves the grant's last use forward to `usedAtMs`. An earlier time changes nothing. */
  recordLastUse(grantId: string, usedAtMs: number): void {
    const row = this.rowOf(grantId);
    if (row < 0) return;
    const current = this.lastUsedAts[row];
    if (Number.isNaN(current) || usedAtMs > current) this.lastUsedAts[row] = usedAtMs;
  }

  /** Adds a row for the id that the preceding `rowOf` call parsed into the scratch key and did not find. */
  private insert(grantId: string, state: Omit<GrantState, 'grantId'>): void {
    this.insertRow(grantId, state.userId, state.clientId, this.internScopes(state.scopes), state.status, state.createdAtMs, state.version, state.position, state.lastUsedAtMs);
  }

  private insertRow(
    grantId: string,
    userId: string,
    clientId: string,
    scopeSet: number,
    status: GrantState['status'],
    createdAtMs: number,
    version: number,
    position: number,
    lastUsedAtMs: number | null,
  ): void {
    if (!this.keyParsed) throw new TypeError(`grant id ${grantId} is not a UUID`);
    if (this.rowCount === this.rowCapacity) this.growRows();
    if ((this.rowCount + 1) / this.slots.length > maxLoadFactor) this.growSlots();

    const row = this.rowCount;
    this.rowCount += 1;
    this.ids.set(this.key, row * 4);
    this.users[row] = this.userIds.intern(userId, () => userId);
    this.clients[row] = this.clientIds.intern(clientId, () => clientId);
    this.scopeSets[row] = scopeSet;
    this.statuses[row] = status === 'revoked' ? statusRevoked : statusActive;
    this.createdAts[row] = createdAtMs;
    this.versions[row] = version;
    this.positions[row] = position;
    this.lastUsedAts[row] = lastUsedAtMs ?? Number.NaN;
    this.placeInSlots(row);
  }

  /** Interns a scope set in sorted order. The arrival order becomes an alias, so the next set in that order skips the sort. */
  private internScopes(scopes: readonly string[]): number {
    const arrivalKey = scopes.join(' ');
    const known = this.scopeSetValues.indexOf(arrivalKey);
    if (known !== undefined) return known;
    const sorted = [...scopes].sort();
    const index = this.scopeSetValues.intern(sorted.join(' '), () => Object.freeze(sorted));
    this.scopeSetValues.addAlias(arrivalKey, index);
    return index;
  }

  /** Returns the row of `grantId`, or -1 when it is unknown or not a UUID. */
  private rowOf(grantId: string): number {
    this.keyParsed = this.parseKey(grantId);
    if (!this.keyParsed) return -1;
    const mask = this.slots.length - 1;
    for (let slot = this.hashKey() & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot];
      if (entry === 0) return -1;
      const row = entry - 1;
      const offset = row * 4;
      if (
        this.ids[offset] === this.key[0] &&
        this.ids[offset + 1] === this.key[1] &&
        this.ids[offset + 2] === this.key[2] &&
        this.ids[offset + 3] === this.key[3]
      ) {
        return row;
      }
    }
  }

  /**
   * Parses a UUID (any case) into the scratch key, four big-endian words of its 128 bits, and
   * returns false for anything else. Hand-written because it runs for every lookup and every row loaded.
   */
  private parseKey(grantId: string): boolean {
    if (grantId.length !== 36) return false;
    let word = 0;
    let digits = 0;
    for (let index = 0; index < 36; index += 1) {
      const code = grantId.charCodeAt(index);
      if (index === 8 || index === 13 || index === 18 || index === 23) {
        if (code !== 0x2d) return false;
        continue;
      }
      const nibble = hexValue(code);
      if (nibble < 0) return false;
      word = ((word << 4) | nibble) >>> 0;
      digits += 1;
      if (digits % 8 === 0) {
        this.key[digits / 8 - 1] = word;
        word = 0;
      }
    }
    return true;
  }

  /** Mixes all four words, so that time-ordered ids (UUIDv7) spread as well as random ones. */
  private hashKey(): number {
    return this.hashWords(this.key[0], this.key[1], this.key[2], this.key[3]);
  }

  private hashWords(first: number, second: number, third: number, fourth: number): number {
    let hash = Math.imul(first ^ Math.imul(second, 0x9e3779b1), 0x85ebca6b);
    hash ^= Math.imul(third ^ (hash >>> 13), 0xc2b2ae35);
    hash ^= Math.imul(fourth ^ (hash >>> 16), 0x27d4eb2f);
    return (hash ^ (hash >>> 15)) >>> 0;
  }

  private placeInSlots(row: number): void {
    const offset = row * 4;
    const mask = this.slots.length - 1;
    let slot = this.hashWords(this.ids[offset], this.ids[offset + 1], this.ids[offset + 2], this.ids[offset + 3]) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = row + 1;
  }

  private growRows(): void {
    const capacity = this.rowCapacity * 2;
    this.ids = growUint32(this.ids, capacity * 4);
    this.users = growUint32(this.users, capacity);
    this.clients = growUint32(this.clients, capacity);
    this.scopeSets = growUint32(this.scopeSets, capacity);
    this.versions = growUint32(this.versions, capacity);
    const statuses = new Uint8Array(capacity);
    statuses.set(this.statuses);
    this.statuses = statuses;
    this.createdAts = growFloat64(this.createdAts, capacity);
    this.positions = growFloat64(this.positions, capacity);
    this.lastUsedAts = growFloat64(this.lastUsedAts, capacity);
    this.rowCapacity = capacity;
  }

  private growSlots(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    for (let row = 0; row < this.rowCount; row += 1) this.placeInSlots(row);
  }
}
