import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';

import { KafkaHealthIndicator } from './kafka.health.js';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness-check.js';

/** Each dependency gets this long to respond before it is reported down. */
const checkTimeoutMs = 2500;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
    @Inject(READINESS_CHECKS) private readonly extraChecks: ReadinessCheck[],
  ) {}

  /** Liveness: the process serves HTTP. It checks no dependency, so an outage does not restart it. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Reports readiness: PostgreSQL and Kafka respond and the app's own checks pass, or 503. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('postgres', { timeout: checkTimeoutMs }),
      () => this.kafka.check(checkTimeoutMs),
      ...this.extraChecks.map((extra) => () => extra.check(checkTimeoutMs)),
    ]);
  }
}
