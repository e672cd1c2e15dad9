import { Counter, Gauge, register } from 'prom-client';

/**
 * Returns the metric already registered under `name`, or registers it. Every projector in a process
 * shares the registry that `GET /metrics` exposes, and prom-client rejects a second registration.
 */
function registered<Metric>(name: string, create: () => Metric): Metric {
  return (register.getSingleMetric(name) as Metric | undefined) ?? create();
}

export interface ProjectionMetrics {
  eventsApplied: Counter;
  duplicatesSkipped: Counter;
  gapsFilled: Counter;
  messagesParked: Counter;
  lagMessages: Gauge<'partition'>;
}

export function projectionMetrics(): ProjectionMetrics {
  return {
    eventsApplied: registered(
      'grant_projector_events_applied_total',
      () => new Counter({ name: 'grant_projector_events_applied_total', help: 'Grant events from Kafka applied to the grants table.' }),
    ),
    duplicatesSkipped: registered(
      'grant_projector_duplicates_skipped_total',
      () =>
        new Counter({
          name: 'grant_projector_duplicates_skipped_total',
          help: 'Grant events skipped because their row already reflected their stream version.',
        }),
    ),
    gapsFilled: registered(
      'grant_projector_gap_events_filled_total',
      () =>
        new Counter({
          name: 'grant_projector_gap_events_filled_total',
          help: 'Grant events read from the event store because a later version arrived before them.',
        }),
    ),
    messagesParked: registered(
      'grant_projector_messages_parked_total',
      () => new Counter({ name: 'grant_projector_messages_parked_total', help: 'Messages produced to the dead-letter topic.' }),
    ),
    lagMessages: registered(
      'grant_projector_lag_messages',
      () =>
        new Gauge({
          name: 'grant_projector_lag_messages',
          help: 'Messages after the last batch this consumer handled, by partition, as of that batch.',
          labelNames: ['partition'] as const,
        }),
    ),
  };
}
