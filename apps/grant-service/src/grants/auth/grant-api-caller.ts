import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import type { Problem } from '#platform/problem-details/problem.js';

/** Scopes of grant API access tokens. `grants:admin` includes the other two. */
export type GrantApiScope = 'grants:read' | 'grants:write' | 'grants:admin';

/** The authenticated caller of a grant API request. */
export interface GrantApiCaller {
  /** The token's `client_id` claim, or its `sub` when it has no `client_id`. */
  id: string;
  scopes: ReadonlySet<string>;
  isAdmin: boolean;
}

export function hasScope(caller: GrantApiCaller, required: GrantApiScope): boolean {
  return caller.isAdmin || caller.scopes.has(required);
}

export const REQUIRED_SCOPE = Symbol('REQUIRED_SCOPE');

/** Declares the scope a route needs. GrantApiGuard rejects a route without one. */
export const RequiredScope = (scope: GrantApiScope) => SetMetadata(REQUIRED_SCOPE, scope);

const callers = new WeakMap<FastifyRequest, GrantApiCaller>();

export function attachCaller(request: FastifyRequest, caller: GrantApiCaller): void {
  callers.set(request, caller);
}

/** Returns the caller that GrantApiGuard authenticated. Raises TypeError when the route has no guard, which is a bug. */
export function callerOf(request: FastifyRequest): GrantApiCaller {
  const caller = callers.get(request);
  if (caller === undefined) {
    throw new TypeError(`no authenticated caller on ${request.method} ${request.url}; the route needs GrantApiGuard`);
  }
  return caller;
}

/** Route parameter decorator for the authenticated caller. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  callerOf(context.switchToHttp().getRequest<FastifyRequest>()),
);

/** RFC 6750 §3.1 `invalid_token`: the token is missing, malformed, expired or not trusted. */
export function invalidTokenProblem(detail: string): Problem {
  return {
    status: 401,
    code: 'auth.invalid_token',
    title: 'Invalid access token',
    detail,
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  };
}

/** RFC 6750 §3.1 `insufficient_scope`: a valid token without the scope the request needs. */
export function insufficientScopeProblem(required: GrantApiScope, detail: string): Problem {
  return {
    status: 403,
    code: 'auth.insufficient_scope',
    title: 'Insufficient scope',
    detail,
    headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${required}"` },
  };
}
