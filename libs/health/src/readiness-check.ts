import type { HealthIndicatorResult } from '@nestjs/terminus';

/** An app-specific readiness check that runs beside the PostgreSQL and Kafka checks. */
export interface ReadinessCheck {
  check(timeoutMs: number): PromiseLike<HealthIndicatorResult>;
}

/** Multi-provider token under which apps register their extra readiness checks. */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
