import { invalidParameter, isUuid } from '../http/request-input.js';

/** Encodes the last grant id of a page as the opaque `next_cursor` (base64url). */
export function encodeGrantListCursor(lastGrantId: string): string {
  return Buffer.from(lastGrantId, 'utf8').toString('base64url');
}

/** Decodes a `cursor` back to the grant id after which the next page starts. */
export function decodeGrantListCursor(cursor: unknown): string {
  const grantId = typeof cursor === 'string' && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!isUuid(grantId)) {
    throw invalidParameter('cursor', 'cursor must be a next_cursor value from a previous page of this list.');
  }
  return grantId.toLowerCase();
}
