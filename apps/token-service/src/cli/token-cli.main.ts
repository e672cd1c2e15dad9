// `npm run client -- …` and `npm run keys -- …`: administration commands that work on the
// database directly, without a running token service. The first argument picks the command set.
import 'reflect-metadata';

import { DataSource } from 'typeorm';

import { dataSourceOptions } from '#persistence/data-source-options.js';
import { runMain } from '#platform/run-main.js';

import { ClientRegistry } from '../clients/client-registry.js';
import { clientCommandUsage, runClientCommand } from '../clients/client.cli.js';
import { systemClock } from '../common/clock.js';
import { loadTokenCliConfig } from '../config/token-service.config.js';
import { keyCommandUsage, runKeyCommand } from '../keys/key.cli.js';
import { SigningKeyStore } from '../keys/signing-key-store.js';

const output = { out: (line: string) => console.log(line), error: (line: string) => console.error(line) };

runMain(async () => {
  const [commandSet, ...argv] = process.argv.slice(2);
  if (commandSet !== 'client' && commandSet !== 'keys') {
    output.error(`The first argument must be client or keys, not ${commandSet ?? 'nothing'}.\n\n${clientCommandUsage}\n\n${keyCommandUsage}`);
    process.exitCode = 2;
    return;
  }
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    output.out(commandSet === 'client' ? clientCommandUsage : keyCommandUsage);
    process.exitCode = argv.length === 0 ? 2 : 0;
    return;
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
