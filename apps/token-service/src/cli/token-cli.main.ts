// `npm run client -- …` and `npm run keys -- …`: administration commands that work on the
// database directly, without a running token service. The first argument picks the command set.
import 'reflect-metadata';

import { DataSource } from 'typeorm';

import { dataSourceOptions } from '#persistence/data-source-options.js';
import { runMain } from '#platform/run-main.js';

import { ClientRegistry } from '../clients/client-registry.js';
import { runClientCommand } from '../clients/client.cli.js';
import { systemClock } from '../common/clock.js';
import { loadTokenCliConfig } from '../config/token-service.config.js';
import { runKeyCommand } from '../keys/key.cli.js';
import { SigningKeyStore } from '../keys/signing-key-store.js';

const output = { out: (line: string) => console.log(line), error: (line: string) => console.error(line) };

runMain(async () => {
  const [commandSet, ...argv] = process.argv.slice(2);
  if (commandSet !== 'client' && commandSet !== 'keys') {
    throw new Error(`the first argument must be client or keys, not ${commandSet ?? 'nothing'}`);
  }
  const config = loadTokenCliConfig(commandSet);
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl: config.DATABASE_URL, applicationName: `token-service-${commandSet}`, poolSize: 1 }));
  await dataSource.initialize();
  try {
    process.exitCode =
      commandSet === 'client'
        ? await runClientCommand(argv, new ClientRegistry(dataSource, systemClock), output)
        : await runKeyCommand(argv, new SigningKeyStore(dataSource, config.TOKEN_KEY_ENCRYPTION_KEY), config, systemClock, output);
  } finally {
    await dataSource.destroy();
  }
});
