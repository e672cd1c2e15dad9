import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface CommonSpec {
  name: string;
  /** Base URL of the app under load. */
  url: string;
  connections: number;
  /** Seconds of load, ignored when `amount` is set. */
  durationSeconds?: number;
  /** Total requests to send. */
  amount?: number;
  /** Requests per second, evenly spaced, with at most `connections` open. Unset means as fast as possible. */
  overallRate?: number;
  /** The Authorization header of every request. */
  authorization: string;
}

/** One load run, as the benchmark hands it to bench/load-worker.ts. */
export type LoadSpec =
  | (CommonSpec & { kind: 'refresh' | 'introspect'; tokens: string[] })
  | (CommonSpec & { kind: 'create'; clientId: string; userPrefix: string })
  | (CommonSpec & { kind: 'revoke'; grantIds: string[] });

/** The measurements of one load run. Latencies cover 2xx responses only, timed from the planned send time in fixed-rate runs. */
export interface LoadResult {
  name: string;
  connections: number;
  offeredRate: number | null;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

/** Runs bench/load-worker.js in a child process with `spec` and returns its result. */
export async function runLoad(workerPath: string, spec: LoadSpec): Promise<LoadResult> {
  const directory = mkdtempSync(path.join(tmpdir(), 'offline-grants-bench-'));
  const specFile = path.join(directory, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [workerPath, specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`the load worker for ${spec.name} exited with ${code}`))));
    });
    return JSON.parse(output.trim().split('\n').at(-1)!) as LoadResult;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
