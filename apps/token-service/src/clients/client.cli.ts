import { parseArgs } from 'node:util';

import { TokenServiceError } from '../common/token-service-error.js';
import type { ClientRegistry } from './client-registry.js';
import { clientView, parseNewClient } from './oauth-client.js';

export const clientCommandUsage = `Usage: npm run client -- <command> [options]

Commands:
  create --name NAME [--scopes "SCOPE ..."] [--type confidential|public] [--client-id ID]
         [--access-token-lifetime SECONDS] [--idle-timeout SECONDS] [--max-lifetime SECONDS]
                  Registers a client and prints it as JSON; a confidential client's
                  client_secret is printed this once and never again.
  list            Prints every client as JSON, one per line.
  get CLIENT_ID   Prints one client as JSON.
  delete CLIENT_ID
                  Removes a client; its tokens stop refreshing and introspecting.`;

export interface CommandOutput {
  out(line: string): void;
  error(line: string): void;
}

function secondsOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) {
    throw new TokenServiceError('client.invalid_input', `${option} must be a whole number of seconds`, option);
  }
  return Number(value);
}

/** Runs `npm run client -- …` against `registry`; returns the exit code. */
export async function runClientCommand(argv: string[], registry: ClientRegistry, output: CommandOutput): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        scopes: { type: 'string' },
        type: { type: 'string' },
        'client-id': { type: 'string' },
        'access-token-lifetime': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'max-lifetime': { type: 'string' },
      },
    });
  } catch (error) {
    output.error(`${(error as Error).message}\n\n${clientCommandUsage}`);
    return 2;
  }
  const [command, argument] = parsed.positionals;
  const options = parsed.values;

  try {
    switch (command) {
      case 'create': {
        const input = parseNewClient({
          name: options.name,
          type: options.type,
          scopes: options.scopes === undefined ? undefined : options.scopes.split(' ').filter((scope) => scope !== ''),
          ...(options['client-id'] === undefined ? {} : { client_id: options['client-id'] }),
          access_token_lifetime_seconds: secondsOption(options['access-token-lifetime'], '--access-token-lifetime'),
          offline_idle_timeout_seconds: secondsOption(options['idle-timeout'], '--idle-timeout'),
          offline_max_lifetime_seconds: secondsOption(options['max-lifetime'], '--max-lifetime'),
        });
        const { client, clientSecret } = await registry.create(input);
        output.out(JSON.stringify({ ...clientView(client), ...(clientSecret === null ? {} : { client_secret: clientSecret }) }, null, 2));
        if (clientSecret !== null) output.error('Store client_secret now: only its hash is kept, so it cannot be shown again.');
        return 0;
      }
      case 'list': {
        let after: string | undefined;
        for (;;) {
          const page = await registry.list(200, after);
          for (const client of page) output.out(JSON.stringify(clientView(client)));
          if (page.length < 200) return 0;
          after = page.at(-1)!.clientId;
        }
      }
      case 'get':
      case 'delete': {
        if (argument === undefined) {
          output.error(`${command} needs a client id.\n\n${clientCommandUsage}`);
          return 2;
        }
        if (command === 'get') {
          output.out(JSON.stringify(clientView(await registry.get(argument)), null, 2));
        } else {
          await registry.delete(argument);
          output.out(`Deleted client ${argument}.`);
        }
        return 0;
      }
      default:
        output.error(`${command === undefined ? 'A command is missing.' : `Unknown command ${command}.`}\n\n${clientCommandUsage}`);
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
