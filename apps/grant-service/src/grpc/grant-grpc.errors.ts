import type { GrpcErrorDescription } from '#grpc/grpc-call-error.js';
import { type Problem, ProblemError } from '#platform/problem-details/problem.js';

import { grantProblemMapper } from '../grants/grant.problems.js';

/**
 * Translates the grant service's errors for the gRPC edge. The code, message and field come from
 * the same problem the REST API sends, and the gRPC status from the code alone.
 */
export function translateGrantServiceError(error: unknown): GrpcErrorDescription | undefined {
  const problem: Problem | undefined = error instanceof ProblemError ? error.problem : grantProblemMapper(error);
  if (problem === undefined) return undefined;
  return { code: problem.code, message: problem.detail ?? problem.title, field: problem.field };
}
