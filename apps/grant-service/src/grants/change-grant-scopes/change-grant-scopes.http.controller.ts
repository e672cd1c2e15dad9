import { Controller, Param, Patch, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';

import { parseScopes } from '#grant-domain/scope-set.js';

import { callerOf, RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { toGrantJson } from '../http/grant.json.js';
import { actorFor, parseGrantIdParameter, readJsonObjectBody, rejectUnknownParameters } from '../http/request-input.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { ChangeGrantScopesCommand } from './change-grant-scopes.command.js';

@Controller('v1/grants')
@UseGuards(GrantApiGuard)
export class ChangeGrantScopesHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  /** `PATCH /v1/grants/{grant_id} {"scopes", "actor"?}`: replaces the scopes of an active grant. */
  @Patch(':grant_id')
  @RequiredScope('grants:write')
  @UseInterceptors(IdempotencyInterceptor)
  async changeGrantScopes(
    @Param('grant_id') grantIdParameter: string,
    @Req() request: FastifyRequest,
    @Query() query: Record<string, unknown>,
  ) {
    rejectUnknownParameters(query, []);
    const grantId = parseGrantIdParameter(grantIdParameter);
    const body = readJsonObjectBody(request, { allowedFields: ['scopes', 'actor'] });
    const command = new ChangeGrantScopesCommand(grantId, parseScopes(body.scopes), actorFor(callerOf(request), body.actor));

    const result = await this.commandBus.execute(command);

    return { grant: toGrantJson(result.grant), position: result.position.toString() };
  }
}
