import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) of the method, the request target and the body in canonical JSON, so that the
 * same request sent with keys in another order or other whitespace has the same fingerprint.
 */
export function requestFingerprint(method: string, target: string, body: unknown): string {
  const canonicalBody = body === undefined ? '' : canonicalJson(body);
  return createHash('sha256').update(`${method.toUpperCase()}\n${target}\n${canonicalBody}`).digest('hex');
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
