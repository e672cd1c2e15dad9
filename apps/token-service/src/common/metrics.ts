import { Counter, Gauge, register } from 'prom-client';

/**
 * Returns the metric registered under `name`, creating it on first use. Several app instances in
 * one process (as in tests) then share one metric instead of failing on a duplicate name.
 */
export function gauge(name: string, help: string, labelNames: string[] = []): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames });
}

export function counter(name: string, help: string, labelNames: string[] = []): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}
