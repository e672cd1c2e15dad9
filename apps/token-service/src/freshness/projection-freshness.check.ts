import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

import type { ReadinessCheck } from '#health/readiness-check.js';

import { ProjectionFreshness } from './projection-freshness.js';

/**
 * Reports projection staleness in readiness, and whether this instance's in-memory grant state
 * serves lookups yet (`grant_state: ready`). A stale projection makes the check `degraded`, not
 * `down`: every instance reads the same projection, so taking them all out of the load balancer
 * would also stop the JWKS, introspection and client_credentials, which do not depend on it.
 */
@Injectable()
export class ProjectionFreshnessCheck implements ReadinessCheck {
  constructor(
    @Inject(ProjectionFreshness) private readonly freshness: ProjectionFreshness,
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
  ) {}

  async check() {
    const report = this.freshness.report();
    const data = {
      staleness_seconds: Number.isFinite(report.stalenessSeconds) ? Number(report.stalenessSeconds.toFixed(3)) : null,
      relay_backlog_seconds: report.relayBacklogSeconds,
      projector_lag_messages: report.projectorLagMessages,
      projector_behind_seconds: report.projectorBehindSeconds,
      grant_state: report.grantState,
      grant_state_lag_messages: report.grantStateLagMessages,
      grant_state_behind_seconds: report.grantStateBehindSeconds,
      measured_at: report.measuredAt,
    };
    const session = this.health.check('projection');
    return report.stale ? session.degraded(data) : session.up(data);
  }
}
