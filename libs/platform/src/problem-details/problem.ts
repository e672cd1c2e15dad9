/**
 * An RFC 9457 problem before it is serialized: the HTTP status, a stable code and the text a
 * client shows or logs.
 */
export interface Problem {
  status: number;
  /** Stable machine-readable code such as `grant.not_found`, which clients switch on. */
  code: string;
  /** Short summary of the problem type, the same for every occurrence of `code`. */
  title: string;
  /** One sentence about this occurrence: the value at fault and how to fix it. */
  detail?: string;
  /** The request field at fault, such as `scopes[2]`, `grant_id` or `Idempotency-Key`. */
  field?: string;
  /** Response headers sent with the problem, such as `WWW-Authenticate` or `Retry-After`. */
  headers?: Record<string, string>;
}

/** An error that the transport edge sends to the client as exactly this problem. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';

  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

/**
 * Translates an application error into a problem, or returns undefined for an error it does not
 * handle. Apps register mappers for their own error families, such as GrantError.
 */
export type ProblemMapper = (error: unknown) => Problem | undefined;

/** RFC 9457 media type of every problem response. */
export const problemContentType = 'application/problem+json';

/**
 * Base of the `type` URI of every problem, to which the code is appended. The URIs identify
 * problem types, and nothing is served at them.
 */
export const problemTypeBase = 'https://offline-grants.dev/problems/';

/** Builds the RFC 9457 JSON members of a problem, plus the `code` and `field` extension members. */
export function problemBody(problem: Problem): Record<string, unknown> {
  return {
    type: `${problemTypeBase}${problem.code}`,
    title: problem.title,
    status: problem.status,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    code: problem.code,
    ...(problem.field === undefined ? {} : { field: problem.field }),
  };
}
