import { ConfigError } from '#config/config-error.js';

/**
 * Runs an app's entry point. A configuration error ends the process with exit code 1 and the
 * message alone; any other start failure also prints the error and its stack.
 */
export function runMain(start: () => Promise<unknown>): void {
  start().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
    } else {
      console.error('Start failed:', error);
    }
    process.exit(1);
  });
}
