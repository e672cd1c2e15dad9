import { Controller, Post, Query, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { parseClientId, parseUserId } from '#grant-domain/grant-input.js';
import { parseScopes } from '#grant-domain/scope-set.js';

import { callerOf, RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { toGrantJson } from '../http/grant.json.js';
import { actorFor, readJsonObjectBody, rejectUnknownParameters } from '../http/request-input.js';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor.js';
import { CreateGrantCommand } from './create-grant.command.js';

@Controller('v1/grants')
@UseGuards(GrantApiGuard)
export class CreateGrantHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  /**
   * `POST /v1/grants {"user_id", "client_id", "scopes", "actor"?}`: 201 with a new grant, or 200
   * with the pair's active grant, its scopes replaced when they differ.
   */
  @Post()
  @RequiredScope('grants:write')
  @UseInterceptors(IdempotencyInterceptor)
  async createGrant(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: Record<string, unknown>,
  ) {
    rejectUnknownParameters(query, []);
    const body = readJsonObjectBody(request, { allowedFields: ['user_id', 'client_id', 'scopes', 'actor'] });
    const command = new CreateGrantCommand(
      parseUserId(body.user_id),
      parseClientId(body.client_id),
      parseScopes(body.scopes),
      actorFor(callerOf(request), body.actor),
    );

    const result = await this.commandBus.execute(command);

    void reply.status(result.created ? 201 : 200);
    if (result.created) void reply.header('Location', `/v1/grants/${result.grant.grantId}`);
    return { grant: toGrantJson(result.grant), position: result.position.toString() };
  }
}
