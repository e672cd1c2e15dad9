#!/usr/bin/env node
// Runs a single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM) on
// 127.0.0.1 for development and tests.
//
//   node scripts/kafka.mjs start    fetch the broker jars once, format storage once, start, wait
//   node scripts/kafka.mjs status   print whether the broker started by this script is running
//   node scripts/kafka.mjs stop     stop only the broker this script started, by its pid
//
// The jars come from Maven Central through scripts/kafka/pom.xml into .cache/kafka (git-ignored);
// the broker's data, configuration, pid and log live in .run/kafka.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pomFile = path.join(projectRoot, 'scripts/kafka/pom.xml');
const log4jFile = path.join(projectRoot, 'scripts/kafka/log4j.properties');
const kafkaVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'))[1];
const jarDir = path.join(projectRoot, '.cache/kafka', kafkaVersion, 'libs');
const runDir = process.env.KAFKA_LOCAL_DIR ?? path.join(projectRoot, '.run/kafka');
const dataDir = path.join(runDir, 'data');
const pidFile = path.join(runDir, 'broker.pid');
const logFile = path.join(runDir, 'broker.log');
const propertiesFile = path.join(runDir, 'server.properties');
const brokerPort = Number(process.env.KAFKA_LOCAL_PORT ?? 9092);
const controllerPort = Number(process.env.KAFKA_LOCAL_CONTROLLER_PORT ?? brokerPort + 1);
const heap = process.env.KAFKA_LOCAL_HEAP ?? '512m';
const startTimeoutMs = 120_000;

function fail(message) {
  console.error(`kafka: ${message}`);
  process.exit(1);
}

function requireTool(command, versionFlag, installHint) {
  const result = spawnSync(command, [versionFlag], { stdio: 'ignore' });
  if (result.error || result.status !== 0) {
    fail(`'${command}' was not found on PATH. Install ${installHint} and run the command again.`);
  }
}

function readPid() {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Returns the pid of the broker this script started, when that process still runs. */
function runningBrokerPid() {
  const pid = readPid();
  if (pid === undefined || !isAlive(pid)) return undefined;
  // A recycled pid must not be mistaken for the broker: check the command line.
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return commandLine.includes('kafka.Kafka') && commandLine.includes(propertiesFile) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function fetchJars() {
  if (existsSync(jarDir) && readdirSync(jarDir).some((name) => name.startsWith(`kafka_2.13-${kafkaVersion}`))) return;
  requireTool('mvn', '--version', 'Apache Maven 3.6 or newer (Debian: apt-get install maven)');
  console.log(`kafka: fetching Apache Kafka ${kafkaVersion} from Maven Central into ${path.relative(projectRoot, jarDir)}`);
  const result = spawnSync(
    'mvn',
    ['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${jarDir}`, '-DincludeScope=runtime'],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) {
    rmSync(jarDir, { recursive: true, force: true });
    fail(`mvn could not fetch org.apache.kafka:kafka_2.13:${kafkaVersion}; check access to Maven Central and run again.`);
  }
}

function writeProperties() {
  const properties = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.retention.hours=-1',
    '',
  ].join('\n');
  writeFileSync(propertiesFile, properties);
}

function java(args, options) {
  return [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4jFile}`,
    '-cp',
    path.join(jarDir, '*'),
    ...args,
  ].concat(options ?? []);
}

function formatStorage() {
  if (existsSync(path.join(dataDir, 'meta.properties'))) return;
  // A KRaft cluster id is 16 random bytes in URL-safe base64 without padding.
  const clusterId = randomBytes(16).toString('base64url');
  const result = spawnSync('java', java(['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile]), {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    fail(`formatting the KRaft storage in ${dataDir} failed:\n${result.stdout}${result.stderr}`);
  }
}

async function waitForBroker(pid) {
  const { Kafka, logLevel } = await import('kafkajs');
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      fail(`the broker exited during start; its log is ${logFile}:\n${tail(logFile)}`);
    }
    if (await portAnswers(brokerPort)) {
      const admin = new Kafka({
        clientId: 'kafka-script',
        brokers: [`127.0.0.1:${brokerPort}`],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 1000,
        retry: { retries: 0 },
      }).admin();
      try {
        await admin.connect();
        await admin.describeCluster();
        return;
      } catch {
        // The listener accepts connections before the controller quorum is ready; poll again.
      } finally {
        await admin.disconnect().catch(() => {});
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail(`the broker did not answer on 127.0.0.1:${brokerPort} within ${startTimeoutMs / 1000} s; its log is ${logFile}`);
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

async function start() {
  const running = runningBrokerPid();
  if (running !== undefined) {
    console.log(`kafka: already running (pid ${running}) on 127.0.0.1:${brokerPort}`);
    return;
  }
  if (await portAnswers(brokerPort)) {
    fail(
      `port 127.0.0.1:${brokerPort} is taken by a process this script did not start. ` +
        `Stop it, or set KAFKA_BROKERS=127.0.0.1:${brokerPort} to use it as the broker.`,
    );
  }
  requireTool('java', '-version', 'a Java 17 or newer runtime (Debian: apt-get install openjdk-17-jre-headless)');
  fetchJars();
  mkdirSync(dataDir, { recursive: true });
  writeProperties();
  formatStorage();

  const logFd = openSync(logFile, 'a');
  const child = spawn('java', java(['kafka.Kafka', propertiesFile]), {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  writeFileSync(pidFile, String(child.pid));
  child.unref();

  console.log(`kafka: starting Apache Kafka ${kafkaVersion} (pid ${child.pid}), log ${path.relative(projectRoot, logFile)}`);
  await waitForBroker(child.pid);
  console.log(`kafka: running on 127.0.0.1:${brokerPort}`);
}

async function stop() {
  const pid = runningBrokerPid();
  if (pid === undefined) {
    console.log('kafka: not running');
    rmSync(pidFile, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (isAlive(pid)) {
    console.log(`kafka: pid ${pid} ignored SIGTERM for 30 s; sending SIGKILL`);
    process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  console.log(`kafka: stopped (pid ${pid})`);
}

async function status() {
  const pid = runningBrokerPid();
  if (pid === undefined) {
    const other = await portAnswers(brokerPort);
    console.log(
      other
        ? `kafka: not running from this folder, but another process accepts connections on 127.0.0.1:${brokerPort}`
        : 'kafka: not running',
    );
    process.exitCode = 3;
    return;
  }
  console.log(`kafka: running (pid ${pid}) on 127.0.0.1:${brokerPort}`);
}

const commands = { start, stop, status };
const command = process.argv[2];
if (!(command in commands)) {
  fail(`unknown command '${command ?? ''}'; use one of: start, status, stop`);
}
await commands[command]();
