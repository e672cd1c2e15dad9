import type { GrantErrorCode } from '#grant-domain/grant-error.js';
import type { GrpcErrorDescription } from '#grpc/grpc-call-error.js';
import type { MappedErrorCode } from '#grpc/grpc-status-codes.js';
import { type Problem, ProblemError } from '#platform/problem-details/problem.js';

import { grantProblemMapper } from '../grants/grant.problems.js';
import type { ProjectionBehindError } from '../grants/projection-behind.error.js';

/** Codes of the grant service that the gRPC status table lacks; a new code fails the type check here until it is mapped. */
type UnmappedCodes = Exclude<GrantErrorCode | ProjectionBehindError['code'], MappedErrorCode>;
const _everyCodeMapped: [UnmappedCodes] extends [never] ? true : UnmappedCodes = true;

/**
 * Translates the grant service's errors for the gRPC edge. The code, message and field come from
 * the same problem the REST API sends, and the gRPC status from the code alone.
 */
export function translateGrantServiceError(error: unknown): GrpcErrorDescription | undefined {
  const problem: Problem | undefined = error instanceof ProblemError ? error.problem : grantProblemMapper(error);
  if (problem === undefined) return undefined;
  return { code: problem.code, message: problem.detail ?? problem.title, field: problem.field };
}
