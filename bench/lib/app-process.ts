import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';

/** Lines of an app's output kept to explain a failed start. */
const keptOutputLines = 40;

/** One of the three apps, run from `dist/` as a child process, the way `npm start` runs it. */
export class AppProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];

  constructor(
    readonly name: string,
    private readonly entry: string,
    readonly url: string,
    readonly environment: Record<string, string>,
    private readonly projectRoot: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  start(): void {
    const child = spawn(process.execPath, ['--enable-source-maps', this.entry], {
      cwd: this.projectRoot,
      env: this.environment,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output.length = 0;
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream! }).on('line', (line) => {
        this.output.push(line);
        if (this.output.length > keptOutputLines) this.output.shift();
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /**
   * Polls `GET /health/ready` until it returns 200 and `isReady` accepts its body, and returns the
   * seconds since `since` (a performance.now() value).
   */
  async waitUntilReady(timeoutMs: number, since: number, isReady: (body: ReadinessBody) => boolean = () => true): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.child?.exitCode !== null) throw new Error(`${this.name} exited with ${this.child?.exitCode}, and its last lines were:\n${this.output.join('\n')}`);
      const body = await fetch(`${this.url}/health/ready`).then(
        async (response) => (response.ok ? ((await response.json()) as ReadinessBody) : undefined),
        () => undefined,
      );
      if (body && isReady(body)) return (performance.now() - since) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms, and its last lines were:\n${this.output.join('\n')}`);
  }

  /** Stops the process with SIGTERM, and SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resident set size from /proc/<pid>/status (Linux), in mebibytes. */
  residentMebibytes(): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  }
}

/** The parts of a readiness body the benchmark reads. */
export interface ReadinessBody {
  status: string;
  details?: Record<string, { status: string; grant_state?: string }>;
}
