import { Controller, Delete, Param, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';

import { parseRevokeReason } from '#grant-domain/revoke-reason.js';

import { callerOf, RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { actorFor, parseGrantIdParameter, readJsonObjectBody, rejectUnknownParameters } from '../http/request-input.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { RevokeGrantCommand } from './revoke-grant.command.js';

@Controller('v1/grants')
@UseGuards(GrantApiGuard)
export class RevokeGrantHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  /**
   * `DELETE /v1/grants/{grant_id}` with an optional body `{"reason"?, "actor"?}`, where the
   * reason defaults to `admin`. Revoking a revoked grant returns the position of its revocation.
   */
  @Delete(':grant_id')
  @RequiredScope('grants:write')
  @UseInterceptors(IdempotencyInterceptor)
  async revokeGrant(
    @Param('grant_id') grantIdParameter: string,
    @Req() request: FastifyRequest,
    @Query() query: Record<string, unknown>,
  ) {
    rejectUnknownParameters(query, []);
    const grantId = parseGrantIdParameter(grantIdParameter);
    const body = readJsonObjectBody(request, { allowedFields: ['reason', 'actor'], optional: true });
    const reason = body.reason === undefined ? 'admin' : parseRevokeReason(body.reason);
    const command = new RevokeGrantCommand(grantId, reason, actorFor(callerOf(request), body.actor));

    const result = await this.commandBus.execute(command);

    return { grant_id: result.grant.grantId, status: result.grant.status, position: result.position.toString() };
  }
}
