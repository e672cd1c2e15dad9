// Compares the two ways the token service can sign and verify its tokens, per operation, in one
// thread: jose (SignJWT, compactVerify) and node:crypto with pre-imported KeyObjects (compact-jws.ts).
//
//   npm run build && node dist/bench/jws-signing.js --iterations 20000
//
// Prints a Markdown table of microseconds per operation for EdDSA (Ed25519) and ES256 (P-256).
import { compactVerify, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { generateSigningKeyPair, type SigningAlgorithm } from '../apps/token-service/src/keys/signing-key.js';
import { signCompactJws, verifyCompactJws } from '../apps/token-service/src/tokens/compact-jws.js';
import { parseArguments } from './lib/arguments.js';

const options = parseArguments(process.argv.slice(2), { iterations: 20_000, warmup: 2_000 });

/** Runs `operation` `iterations` times after a warm-up and returns the mean microseconds per call. */
async function microsecondsPerOperation(operation: () => unknown): Promise<number> {
  for (let index = 0; index < options.warmup; index += 1) await operation();
  const startedAt = performance.now();
  for (let index = 0; index < options.iterations; index += 1) await operation();
  return ((performance.now() - startedAt) * 1000) / options.iterations;
}

async function measure(algorithm: SigningAlgorithm) {
  const key = await generateSigningKeyPair(algorithm);
  const header = { alg: algorithm, typ: 'offline-rt+jwt', kid: key.kid };
  const claims = {
    iss: 'http://127.0.0.1:3001',
    sub: 'user-0000042',
    client_id: 'client-0007',
    grant_id: randomUUID(),
    scope: 'offline_access openid profile',
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
  };
  const token = await signCompactJws(header, claims, key.privateKey);
  const verificationKey = { algorithm, publicKey: key.publicKey };

  return {
    algorithm,
    joseSign: await microsecondsPerOperation(() => new SignJWT({ ...claims }).setProtectedHeader(header).sign(key.privateKey)),
    cryptoSign: await microsecondsPerOperation(() => signCompactJws(header, claims, key.privateKey)),
    joseVerify: await microsecondsPerOperation(() => compactVerify(token, async () => key.publicKey, { algorithms: [algorithm] })),
    cryptoVerify: await microsecondsPerOperation(() => verifyCompactJws(token, async () => verificationKey)),
  };
}

const rows = [await measure('EdDSA'), await measure('ES256')];
const format = (value: number) => value.toFixed(1);
console.log(`${options.iterations} operations each, after ${options.warmup} warm-up operations; microseconds per operation.\n`);
console.log('| Algorithm | jose sign | node:crypto sign | jose verify | node:crypto verify |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(`| ${row.algorithm} | ${format(row.joseSign)} | ${format(row.cryptoSign)} | ${format(row.joseVerify)} | ${format(row.cryptoVerify)} |`);
}
