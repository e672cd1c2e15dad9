/**
 * PostgreSQL error codes for text it cannot store or parse: a NUL byte (22021, 22P05) or an
 * unpaired UTF-16 surrogate in JSON (22P02). They come from the caller's input, never from the
 * server, so the transports return a 4xx for them.
 */
const invalidTextCodes = new Set(['22021', '22P05', '22P02']);

/** Checks whether `error` is a PostgreSQL rejection of a text value sent by the caller. */
export function isInvalidTextError(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.driverError?.code ?? (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && invalidTextCodes.has(code);
}
