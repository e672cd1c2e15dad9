import type { SeedSummary } from './grant-seeding.js';
import type { LoadResult } from './load-spec.js';

/** Everything one `npm run bench` measured, as written to bench/results/<timestamp>.json. */
export interface BenchResults {
  /** The load averages (1, 5, 15 minutes) show how busy the machine was with other work. */
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  /** The command-line options in effect, defaults included. */
  options: Record<string, number | string>;
  seed: SeedSummary;
  /** Time from the projector's process start until its group had committed every event. */
  projector: { events: number; secondsFromStart: number; eventsPerSecond: number };
  /** Projection rebuilds by the projector's rebuild command, or a note on why there is no figure. */
  replay: { runs: Array<{ source: 'store' | 'topic'; events: number; seconds: number; eventsPerSecond: number }>; note: string | null };
  tokenServiceStart: { grants: number; secondsToReady: number; loadSeconds: number | null; rssMiB: number | undefined };
  loads: LoadResult[];
  /** Milliseconds from the revoke's response (and from its request) until a refresh was rejected. */
  propagation: { grants: number; p50Ms: number; p99Ms: number; maxMs: number; p50FromRequestMs: number; p99FromRequestMs: number };
  rssMiB: { afterSeed: Record<string, number | undefined>; afterLoad: Record<string, number | undefined> };
}
