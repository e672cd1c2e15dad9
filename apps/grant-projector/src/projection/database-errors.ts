/**
 * SQLSTATE classes after which the same statement may succeed once the server or its
 * configuration is back. They are connection exception (08), invalid authorization (28),
 * insufficient resources (53), operator intervention such as a shutdown or a canceled statement
 * (57), and system error (58).
 */
const unavailableSqlStateClasses = new Set(['08', '28', '53', '57', '58']);

/**
 * Single SQLSTATEs of the same kind: a database that does not exist (3D000), a server that is read
 * only because it is a standby during a failover (25006), and a serialization failure or deadlock
 * with another transaction (40001, 40P01).
 */
const unavailableSqlStates = new Set(['3D000', '25006', '40001', '40P01']);

/** Node's socket error codes for a server that cannot be reached or that dropped the connection. */
const socketErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Messages of node-postgres and its pool for a connection that broke or could not be made. */
const connectionFailureMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/**
 * Returns whether `error` shows that the database could not serve the request, rather than that
 * the data is wrong. Such a failure is no fault of the message, so it is retried until it passes
 * and never parked.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error as { driverError?: { code?: unknown } }).driverError?.code;
  if (typeof code === 'string') {
    if (socketErrorCodes.has(code) || unavailableSqlStates.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && unavailableSqlStateClasses.has(code.slice(0, 2))) return true;
  }
  if (connectionFailureMessages.some((message) => error.message.includes(message))) return true;
  return error.cause !== undefined && isDatabaseUnavailable(error.cause);
}
