import type { BenchResults } from './bench-results.js';

function megabytes(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value} MiB`;
}

/** Renders the results as the Markdown tables docs/benchmarks.md records. */
export function renderReport(results: BenchResults): string {
  const { machine, seed, projector, tokenServiceStart, propagation, rssMiB } = results;
  const lines = [
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB memory, Node.js ${machine.node}; ` +
      `PostgreSQL, Kafka, the three apps and the load generator share it. ` +
      `Load average (1, 5, 15 min) ${machine.loadAverageAtStart.join(', ')} at the start, ${machine.loadAverageAtEnd.join(', ')} at the end.`,
    '',
    '| Measurement | Result |',
    '| --- | --- |',
    `| Seed: ${seed.grants} grants through POST /v1/grants, ${results.options.seedConcurrency} concurrent | ` +
      `${seed.grantsPerSecond} grants/s, p50 ${seed.latencyMs.p50} ms, p99 ${seed.latencyMs.p99} ms, ${seed.failed} failed |`,
    `| Projector catch-up on ${projector.events} events, process start included | ${projector.eventsPerSecond} events/s (${projector.secondsFromStart} s) |`,
    ...results.replay.runs.map((run) => `| Replay into a fresh projection from the ${run.source} | ${run.eventsPerSecond} events/s (${run.events} events in ${run.seconds} s) |`),
    ...(results.replay.note === null ? [] : [`| Replay into a fresh projection | ${results.replay.note} |`]),
    `| Token-service start with ${tokenServiceStart.grants} active grants | ready in ${tokenServiceStart.secondsToReady} s ` +
      `(loading the grant state: ${tokenServiceStart.loadSeconds ?? 'n/a'} s), RSS ${megabytes(tokenServiceStart.rssMiB)} |`,
    `| Revocation propagation, ${propagation.grants} grants (revoke response → refresh rejected) | ` +
      `p50 ${propagation.p50Ms} ms, p99 ${propagation.p99Ms} ms, max ${propagation.maxMs} ms |`,
    `| The same, from the revoke request | p50 ${propagation.p50FromRequestMs} ms, p99 ${propagation.p99FromRequestMs} ms |`,
    '',
    '| Load (autocannon) | Connections | Offered rate | req/s | p50 | p99 | Non-2xx | Errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.loads.map(
      (load) =>
        `| ${load.name} | ${load.connections} | ${load.offeredRate ?? 'max'} | ${load.requestsPerSecond} | ${load.latencyMs.p50} ms | ` +
        `${load.latencyMs.p99} ms | ${load.non2xx} | ${load.errors + load.timeouts} |`,
    ),
    '',
    '| RSS | grant-service | token-service | grant-projector |',
    '| --- | ---: | ---: | ---: |',
    `| After the seed | ${megabytes(rssMiB.afterSeed['grant-service'])} | ${megabytes(rssMiB.afterSeed['token-service'])} | ${megabytes(rssMiB.afterSeed['grant-projector'])} |`,
    `| After the load runs | ${megabytes(rssMiB.afterLoad['grant-service'])} | ${megabytes(rssMiB.afterLoad['token-service'])} | ${megabytes(rssMiB.afterLoad['grant-projector'])} |`,
  ];
  return lines.join('\n');
}
