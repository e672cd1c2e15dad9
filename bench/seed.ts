// Creates realistic grants through the grant service's REST command path, so every grant has its
// events in the store and on Kafka:
//
//   npm run seed -- --users 100000 --grants 1000000
//
// Clients follow a Zipf distribution (a few large clients, a long tail); each user grants a distinct
// set of clients. The same --seed gives the same data. Needs the service running (`npm start`).
import { parseArguments } from './lib/arguments.js';
import { seedGrants } from './lib/grant-seeding.js';
import { ServiceToken } from './lib/service-token.js';

const options = parseArguments(process.argv.slice(2), {
  users: 10_000,
  grants: 100_000,
  clients: 500,
  zipfExponent: 1.1,
  concurrency: 32,
  seed: 1,
  grantServiceUrl: process.env.GRANT_SERVICE_URL ?? 'http://127.0.0.1:3000',
  tokenServiceUrl: process.env.TOKEN_SERVICE_URL ?? 'http://127.0.0.1:3001',
  clientId: process.env.BOOTSTRAP_CLIENT_ID ?? 'bootstrap-service',
  clientSecret: process.env.BOOTSTRAP_CLIENT_SECRET ?? 'development-bootstrap-secret-change-me',
});

const token = new ServiceToken(options.tokenServiceUrl, options.clientId, options.clientSecret, 'grants:write');
const summary = await seedGrants(options, token, (done, perSecond) => {
  console.log(`seed: ${done} of ${options.grants} grants, ${perSecond} per second`);
});
console.log(JSON.stringify(summary));
if (summary.failed > 0) process.exitCode = 1;
