// Compares three ways the token service can sign and verify its tokens. The first is jose
// (SignJWT and compactVerify, which use WebCrypto). The second is node:crypto called synchronously
// on the event loop. The third, which compact-jws.ts uses, is node:crypto with a callback, which
// runs in libuv's thread pool.
//
//   npm run build && node dist/bench/jws-signing.js --iterations 20000
//
// For EdDSA (Ed25519) and ES256 (P-256) it prints a Markdown table: microseconds per operation one
// at a time, and operations per second with 64 in flight, which lets the thread pool use more cores.
import { compactVerify, SignJWT } from 'jose';
import { randomUUID, sign, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { generateSigningKeyPair, type SigningAlgorithm } from '../apps/token-service/src/keys/signing-key.js';
import { signCompactJws, verifyCompactJws } from '../apps/token-service/src/tokens/compact-jws.js';
import { parseArguments } from './lib/arguments.js';

const options = parseArguments(process.argv.slice(2), { iterations: 20_000, warmup: 2_000, inFlight: 64 });

/** Runs `operation` `iterations` times, one at a time, after a warm-up, and returns microseconds per call. */
async function microsecondsPerOperation(operation: () => unknown): Promise<number> {
  for (let index = 0; index < options.warmup; index += 1) await operation();
  const startedAt = performance.now();
  for (let index = 0; index < options.iterations; index += 1) await operation();
  return ((performance.now() - startedAt) * 1000) / options.iterations;
}

/** Runs `operation` `iterations` times with `inFlight` calls outstanding, and returns calls per second. */
async function operationsPerSecond(operation: () => unknown): Promise<number> {
  let started = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: options.inFlight }, async () => {
      while (started < options.iterations) {
        started += 1;
        await operation();
      }
    }),
  );
  return Math.round(options.iterations / ((performance.now() - startedAt) / 1000));
}

interface Row {
  algorithm: SigningAlgorithm;
  way: string;
  signMicroseconds: number;
  verifyMicroseconds: number;
  signPerSecond: number;
  verifyPerSecond: number;
}

async function measureWay(algorithm: SigningAlgorithm, way: string, signOnce: () => unknown, verifyOnce: () => unknown): Promise<Row> {
  return {
    algorithm,
    way,
    signMicroseconds: await microsecondsPerOperation(signOnce),
    verifyMicroseconds: await microsecondsPerOperation(verifyOnce),
    signPerSecond: await operationsPerSecond(signOnce),
    verifyPerSecond: await operationsPerSecond(verifyOnce),
  };
}

async function measure(algorithm: SigningAlgorithm): Promise<Row[]> {
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
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.');
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  const signature = Buffer.from(encodedSignature, 'base64url');
  const digest = algorithm === 'ES256' ? 'sha256' : null;
  const privateKey = algorithm === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const } : key.privateKey;
  const publicKey = algorithm === 'ES256' ? { key: key.publicKey, dsaEncoding: 'ieee-p1363' as const } : key.publicKey;
  const verificationKey = { algorithm, publicKey: key.publicKey };

  return [
    await measureWay(
      algorithm,
      'jose 6 (WebCrypto)',
      () => new SignJWT({ ...claims }).setProtectedHeader(header).sign(key.privateKey),
      () => compactVerify(token, async () => key.publicKey, { algorithms: [algorithm] }),
    ),
    await measureWay(
      algorithm,
      'node:crypto on the event loop',
      () => `${encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sign(digest, signingInput, privateKey).toString('base64url')}`,
      () => verify(digest, signingInput, publicKey, signature),
    ),
    await measureWay(
      algorithm,
      'node:crypto in the thread pool',
      () => signCompactJws(header, claims, key.privateKey),
      () => verifyCompactJws(token, async () => verificationKey),
    ),
  ];
}

const rows = [...(await measure('EdDSA')), ...(await measure('ES256'))];
console.log(`${options.iterations} operations per cell after ${options.warmup} warm-up operations, and ${options.inFlight} in flight for the throughput columns.\n`);
console.log('| Algorithm | Way | sign µs/op | verify µs/op | sign ops/s, 64 in flight | verify ops/s, 64 in flight |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(
    `| ${row.algorithm} | ${row.way} | ${row.signMicroseconds.toFixed(1)} | ${row.verifyMicroseconds.toFixed(1)} | ${row.signPerSecond} | ${row.verifyPerSecond} |`,
  );
}
