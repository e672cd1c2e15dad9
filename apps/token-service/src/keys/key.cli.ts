import { parseArgs } from 'node:util';

import type { CommandOutput } from '../clients/client.cli.js';
import type { Clock } from '../common/clock.js';
import { TokenServiceError } from '../common/token-service-error.js';
import type { TokenCliConfig } from '../config/token-service.config.js';
import { signingKeySummary } from './signing-key.js';
import type { SigningKeyStore } from './signing-key-store.js';

export const keyCommandUsage = `Usage: npm run keys -- <command>

Commands:
  list         Prints every signing key (kid, algorithm, state, dates) as JSON, one per line.
  rotate       Adds a key with TOKEN_SIGNING_ALG that is published at once and starts signing
               after TOKEN_KEY_PUBLISH_DELAY_SECONDS; the current key then retires but keeps
               verifying. Running token services pick it up within TOKEN_KEY_RELOAD_INTERVAL_SECONDS.
  remove KID   Deletes a retired key. Tokens it signed stop verifying, offline refresh tokens
               included, so remove a key only when none of them may still be presented.`;

/** Runs `npm run keys -- …` against `store`; returns the exit code. */
export async function runKeyCommand(
  argv: string[],
  store: SigningKeyStore,
  config: Pick<TokenCliConfig, 'TOKEN_SIGNING_ALG' | 'TOKEN_KEY_PUBLISH_DELAY_SECONDS'>,
  clock: Clock,
  output: CommandOutput,
): Promise<number> {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} }));
  } catch (error) {
    output.error(`${(error as Error).message}\n\n${keyCommandUsage}`);
    return 2;
  }
  const [command, kid] = positionals;

  try {
    switch (command) {
      case 'list':
        await store.promoteDueKeys(clock.now());
        for (const key of await store.load()) output.out(JSON.stringify(signingKeySummary(key)));
        return 0;
      case 'rotate': {
        const now = clock.now();
        const activatesAt = new Date(now.getTime() + config.TOKEN_KEY_PUBLISH_DELAY_SECONDS * 1000);
        const newKid = await store.addNextKey(config.TOKEN_SIGNING_ALG, now, activatesAt);
        await store.promoteDueKeys(now);
        const key = (await store.load()).find((candidate) => candidate.kid === newKid)!;
        output.out(JSON.stringify(signingKeySummary(key), null, 2));
        return 0;
      }
      case 'remove':
        if (kid === undefined) {
          output.error(`remove needs a kid.\n\n${keyCommandUsage}`);
          return 2;
        }
        await store.remove(kid);
        output.out(`Removed signing key ${kid}.`);
        return 0;
      default:
        output.error(`${command === undefined ? 'A command is missing.' : `Unknown command ${command}.`}\n\n${keyCommandUsage}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof TokenServiceError) {
      output.error(`${error.message} (${error.code})`);
      return 1;
    }
    throw error;
  }
}
