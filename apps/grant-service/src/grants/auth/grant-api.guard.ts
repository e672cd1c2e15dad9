import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { ProblemError } from '#platform/problem-details/problem.js';

import { AccessTokenVerifier } from './access-token.verifier.js';
import {
  attachCaller,
  type GrantApiScope,
  hasScope,
  insufficientScopeProblem,
  invalidTokenProblem,
  REQUIRED_SCOPE,
} from './grant-api-caller.js';

/** RFC 6750 §2.1: `Bearer` (case-insensitive scheme) followed by a token68 value. */
const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Authenticates grant API requests with a bearer access token and checks the scope that the
 * route declares with @RequiredScope. A route without a declared scope is rejected, so that a
 * forgotten decorator fails closed.
 */
@Injectable()
export class GrantApiGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<GrantApiScope | undefined>(REQUIRED_SCOPE, [context.getHandler(), context.getClass()]);
    if (required === undefined) {
      throw new TypeError(`${context.getClass().name}.${context.getHandler().name} has no @RequiredScope`);
    }
    const request = context.switchToHttp().getRequest<FastifyRequest>();

    const caller = await this.verifier.verify(bearerToken(request.headers.authorization));
    if (!hasScope(caller, required)) {
      throw new ProblemError(
        insufficientScopeProblem(required, `This request needs an access token with the ${required} or grants:admin scope.`),
      );
    }

    attachCaller(request, caller);
    return true;
  }
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') {
    throw new ProblemError(invalidTokenProblem('The Authorization header is missing, so send Authorization: Bearer <access token>.'));
  }
  const match = bearerPattern.exec(authorization.trim());
  if (match === null) {
    throw new ProblemError(invalidTokenProblem('The Authorization header must have the form Bearer <access token>.'));
  }
  return match[1];
}
