#!/usr/bin/env node
// `npm start`: runs the whole service on this machine.
//
// 1. Loads the variables: the environment wins, then `.env`, then the development values in
//    `.env.example`.
// 2. Starts the local Kafka broker (scripts/kafka.mjs) unless KAFKA_BROKERS is set or a broker
//    already accepts connections on 127.0.0.1:9092.
// 3. Builds the TypeScript, creates the database if missing and runs the migrations.
// 4. Runs grant-service, token-service and grant-projector with their log lines prefixed by name,
//    and on Ctrl-C (SIGINT) or SIGTERM stops them and the broker it started, leaving no process behind.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { loadProjectEnvironment } from './env-file.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = path.join(projectRoot, '.run/start.pid');
const apps = [
  { name: 'grant-service', entry: 'dist/apps/grant-service/src/main.js', portVariable: 'GRANT_SERVICE_PORT', color: 36, readyPath: '/health/ready' },
  { name: 'token-service', entry: 'dist/apps/token-service/src/main.js', portVariable: 'TOKEN_SERVICE_PORT', color: 35, readyPath: '/health/ready' },
  { name: 'grant-projector', entry: 'dist/apps/grant-projector/src/main.js', portVariable: 'GRANT_PROJECTOR_PORT', color: 33, readyPath: '/health/ready' },
];

/** The development OpenID provider for the account page, run only while the account page points at it. */
const devIdentityProvider = {
  name: 'dev-idp',
  entry: 'dist/libs/testing/src/dev-identity-provider.main.js',
  portVariable: 'DEV_IDENTITY_PROVIDER_PORT',
  color: 32,
  readyPath: '/.well-known/openid-configuration',
};

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAnswers(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function log(message) {
  console.log(`\x1b[1mstart\x1b[0m  ${message}`);
}

function run(command, args, description, environment) {
  const result = spawnSync(command, args, { cwd: projectRoot, stdio: 'inherit', env: environment });
  if (result.status !== 0) {
    log(`${description} failed (exit code ${result.status ?? result.signal}); see the output above.`);
    process.exit(1);
  }
}

function takeLock() {
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    if (Number.isInteger(pid) && isAlive(pid) && pid !== process.pid) {
      log(`the service is already running from this folder (npm start, pid ${pid}). Stop it with Ctrl-C there, or: kill ${pid}`);
      process.exit(1);
    }
  }
  mkdirSync(path.dirname(lockFile), { recursive: true });
  writeFileSync(lockFile, String(process.pid));
}

function prefixLines(stream, label, color, target) {
  const lines = readline.createInterface({ input: stream });
  lines.on('line', (line) => target.write(`\x1b[${color}m${label.padEnd(15)}\x1b[0m | ${line}\n`));
}

async function main() {
  takeLock();
  const environment = loadProjectEnvironment(projectRoot);
  environment.DEV_IDENTITY_PROVIDER_PORT ??= '3003';
  if (environment.ACCOUNT_OIDC_ISSUER === `http://127.0.0.1:${environment.DEV_IDENTITY_PROVIDER_PORT}`) {
    apps.push(devIdentityProvider);
  }

  const portVariables = [...apps.map((app) => app.portVariable), 'GRANT_SERVICE_GRPC_PORT', 'TOKEN_SERVICE_GRPC_PORT'];
  for (const portVariable of portVariables) {
    const port = Number(environment[portVariable]);
    if (port && (await portAnswers(port, '127.0.0.1'))) {
      const hint = portVariable === 'DEV_IDENTITY_PROVIDER_PORT' ? ' and ACCOUNT_OIDC_ISSUER to match it' : '';
      log(`port ${port} (${portVariable}) is taken by another process. Stop that process or set ${portVariable}${hint} to a free port in .env.`);
      rmSync(lockFile, { force: true });
      process.exit(1);
    }
  }

  let startedKafka = false;
  if (process.env.KAFKA_BROKERS) {
    log(`using Kafka at ${process.env.KAFKA_BROKERS}`);
  } else if (await portAnswers(9092)) {
    log('using the Kafka broker already answering on 127.0.0.1:9092');
  } else {
    run(process.execPath, ['scripts/kafka.mjs', 'start'], 'starting Kafka', environment);
    startedKafka = true;
  }

  run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], 'building', environment);
  run(process.execPath, ['dist/libs/persistence/src/prepare-database.main.js'], 'preparing the database', environment);

  const children = apps.map((app) => {
    const child = spawn(process.execPath, ['--enable-source-maps', app.entry], {
      cwd: projectRoot,
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(child.stdout, app.name, app.color, process.stdout);
    prefixLines(child.stderr, app.name, app.color, process.stderr);
    return { app, child, exited: false };
  });

  let stopping = false;
  const stop = async (reason, exitCode) => {
    if (stopping) return;
    stopping = true;
    log(`${reason}; stopping the apps`);
    for (const { child, exited } of children) if (!exited) child.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while (children.some((entry) => !entry.exited) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const { child, exited } of children) if (!exited) child.kill('SIGKILL');
    if (startedKafka) run(process.execPath, ['scripts/kafka.mjs', 'stop'], 'stopping Kafka', environment);
    rmSync(lockFile, { force: true });
    process.exit(exitCode);
  };

  for (const entry of children) {
    entry.child.on('exit', (code, signal) => {
      entry.exited = true;
      if (!stopping) void stop(`${entry.app.name} exited (${signal ?? `code ${code}`})`, 1);
    });
  }
  process.on('SIGINT', () => void stop('Ctrl-C received', 0));
  process.on('SIGTERM', () => void stop('SIGTERM received', 0));

  const host = environment.HTTP_HOST && environment.HTTP_HOST !== '0.0.0.0' ? environment.HTTP_HOST : '127.0.0.1';
  const urls = apps.map((app) => `http://${host}:${environment[app.portVariable]}`);
  const readyDeadline = Date.now() + 60_000;
  const pending = new Set(urls);
  while (pending.size > 0 && Date.now() < readyDeadline && !stopping) {
    for (const [index, url] of urls.entries()) {
      if (!pending.has(url)) continue;
      const ready = await fetch(`${url}${apps[index].readyPath}`).then((response) => response.ok, () => false);
      if (ready) pending.delete(url);
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (stopping) return;
  if (pending.size > 0) {
    log(`not ready after 60 s: ${[...pending].join(', ')}; their log lines above say why`);
    return;
  }

  log('ready:');
  apps.forEach((app, index) => log(`  ${app.name.padEnd(16)} ${urls[index]}`));
  log(`  account page     ${urls[0]}/account${apps.includes(devIdentityProvider) ? ' (sign in as alice or bob, any password)' : ''}`);
  if (environment.BOOTSTRAP_CLIENT_ID) {
    log(`  bootstrap client ${environment.BOOTSTRAP_CLIENT_ID}, secret ${environment.BOOTSTRAP_CLIENT_SECRET} (development value from .env.example)`);
  }
  log(`Press Ctrl-C to stop everything (or send SIGINT or SIGTERM to pid ${process.pid}).`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
