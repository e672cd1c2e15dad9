import { Module } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';

import { MetricsController } from './metrics.controller.js';

/** `GET /metrics`; collects Node's default metrics once per process. */
@Module({ controllers: [MetricsController] })
export class MetricsModule {
  constructor() {
    if (register.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
      collectDefaultMetrics();
    }
  }
}
