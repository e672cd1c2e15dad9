import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { ProblemError } from '#platform/problem-details/problem.js';

import { missingTokenProblem } from './account-problems.js';
import { type AccountUser, AccountTokenVerifier } from './account-token.verifier.js';

type AccountRequest = FastifyRequest & { accountUser?: AccountUser };

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). */
const bearerHeader = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Admits a request only with a valid account access token in the Authorization header, never
 * from a cookie, so that another site cannot make the browser send it (no CSRF).
 */
@Injectable()
export class AccountAuthGuard implements CanActivate {
  constructor(private readonly verifier: AccountTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AccountRequest>();
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw new ProblemError(missingTokenProblem());

    const token = bearerHeader.exec(header)?.[1];
    if (token === undefined) throw new ProblemError(missingTokenProblem());

    request.accountUser = await this.verifier.verify(token);
    return true;
  }
}

/** Route parameter decorator for the signed-in user that AccountAuthGuard admitted. */
export const SignedInUser = createParamDecorator((_data: unknown, context: ExecutionContext): AccountUser => {
  const user = context.switchToHttp().getRequest<AccountRequest>().accountUser;
  if (user === undefined) throw new TypeError('SignedInUser is used on a route without AccountAuthGuard');
  return user;
});
