import { unsupportedMediaType } from '#platform/problem-details/framework-problems.js';
import { ProblemError } from '#platform/problem-details/problem.js';

/** Rejects a body other than JSON with 415, so that a form body is never read as a JSON request. */
export function assertJsonBody(contentType: string | undefined): void {
  if (contentType?.split(';')[0].trim().toLowerCase() !== 'application/json') {
    throw new ProblemError(unsupportedMediaType(contentType));
  }
}
