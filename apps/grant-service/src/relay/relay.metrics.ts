import { Counter, Gauge, register } from 'prom-client';

/**
 * Returns the metric already registered under `name`, or registers it. Every relay in a process
 * shares the registry that `GET /metrics` exposes, and prom-client rejects a second registration.
 */
function registered<Metric>(name: string, create: () => Metric): Metric {
  return (register.getSingleMetric(name) as Metric | undefined) ?? create();
}

export interface RelayMetrics {
  eventsPublished: Counter;
  lagSeconds: Gauge;
  leader: Gauge;
}

export function relayMetrics(): RelayMetrics {
  return {
    eventsPublished: registered(
      'grant_relay_events_published_total',
      () => new Counter({ name: 'grant_relay_events_published_total', help: 'Grant events the relay published and the broker acknowledged.' }),
    ),
    lagSeconds: registered(
      'grant_relay_lag_seconds',
      () =>
        new Gauge({
          name: 'grant_relay_lag_seconds',
          help: 'Seconds between recording and publishing the last published grant event; while a batch waits, its age; 0 when caught up.',
        }),
    ),
    leader: registered(
      'grant_relay_leader',
      () => new Gauge({ name: 'grant_relay_leader', help: '1 while this process holds the relay leader lock, else 0.' }),
    ),
  };
}
