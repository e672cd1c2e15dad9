import type { RelayCheckpoint } from '#persistence/grant-event-store.js';

import type { RelayLeaderLock } from './relay-leader-lock.js';

/** Checkpoint of a relay that has none yet: before every transaction and position. */
export const initialRelayCheckpoint: RelayCheckpoint = { transactionId: 0n, position: 0n };

/** Reads the checkpoint of `relayName` through the leader's session. */
export async function readRelayCheckpoint(lock: RelayLeaderLock, relayName: string): Promise<RelayCheckpoint> {
  const rows = await lock.query<{ transaction_id: string; position: string }>(
    'SELECT transaction_id::text AS transaction_id, position::text AS position FROM relay_checkpoints WHERE relay_name = $1',
    [relayName],
  );
  if (rows.length === 0) return initialRelayCheckpoint;
  return { transactionId: BigInt(rows[0].transaction_id), position: BigInt(rows[0].position) };
}

/**
 * Records that every event up to `checkpoint` is on the topic. The write goes through the leader's
 * session, so it fails once that session lost the lock, and it never moves the checkpoint back.
 */
export async function saveRelayCheckpoint(lock: RelayLeaderLock, relayName: string, checkpoint: RelayCheckpoint): Promise<void> {
  await lock.query(
    `INSERT INTO relay_checkpoints (relay_name, transaction_id, position, updated_at)
     VALUES ($1, $2::text::xid8, $3::bigint, now())
     ON CONFLICT (relay_name) DO UPDATE
        SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position, updated_at = EXCLUDED.updated_at
      WHERE (relay_checkpoints.transaction_id, relay_checkpoints.position) < (EXCLUDED.transaction_id, EXCLUDED.position)`,
    [relayName, checkpoint.transactionId.toString(), checkpoint.position.toString()],
  );
}
