import type { ModuleRef } from '@nestjs/core';

import { HealthController } from '#health/health.controller.js';

/**
 * Returns a check that runs the same dependency checks as the app's `GET /health/ready`
 * (PostgreSQL, Kafka and the app's own readiness checks) and resolves whether all of them pass.
 */
export function appReadiness(moduleRef: ModuleRef): () => Promise<boolean> {
  // The health module does not export its controller, so it is looked up across modules.
  const health = moduleRef.get(HealthController, { strict: false });
  return async () => {
    try {
      await health.ready();
      return true;
    } catch {
      // terminus raises ServiceUnavailableException when a check fails, and NOT_SERVING reports that.
      return false;
    }
  };
}
