import { booleanVariable, integerVariable } from '#config/environment-variables.js';

/** Variables of administrative bulk revocation; spread into the grant service's config schema. */
export const adminRevocationVariables = {
  /** Grants a revocation job reads and revokes per batch; its cursor is saved after each batch. */
  ADMIN_REVOCATION_BATCH_SIZE: integerVariable(1, 10_000, 'grants').default(500),
  /** Revoke commands a job runs at the same time, each taking a database connection while it runs. */
  ADMIN_REVOCATION_CONCURRENCY: integerVariable(1, 64, 'commands').default(4),
  /** Whether unfinished jobs are resumed at start and by the periodic sweep, or only on request. */
  ADMIN_REVOCATION_AUTO_RESUME: booleanVariable.default(true),
  /** How often an instance looks for unfinished jobs that no instance is running, such as after a crash. */
  ADMIN_REVOCATION_SWEEP_INTERVAL_MS: integerVariable(100, 3_600_000, 'milliseconds').default(30_000),
};
