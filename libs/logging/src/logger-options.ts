import type { LoggerOptions } from 'pino';

/**
 * Paths that pino replaces with "[Redacted]": credentials in request headers and any field
 * named like a token, secret or key, so that no log line carries one.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.client_secret',
  '*.token',
  '*.refresh_token',
  '*.access_token',
  '*.privateKey',
];

/** Options for the pino logger of one app: JSON lines with the app name on each. */
export function loggerOptions(appName: string, level: string): LoggerOptions {
  return {
    name: appName,
    level,
    redact: { paths: redactedPaths, censor: '[Redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
  };
}
