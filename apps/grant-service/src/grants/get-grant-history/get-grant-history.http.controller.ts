import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';

import { RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { type GrantHistoryEventJson, toHistoryEventJson } from '../http/grant.json.js';
import { parseGrantIdParameter, rejectUnknownParameters } from '../http/request-input.js';
import { GetGrantHistoryQuery } from './get-grant-history.query.js';

@Controller('v1/grants')
@UseGuards(GrantApiGuard)
export class GetGrantHistoryHttpController {
  constructor(private readonly queryBus: QueryBus) {}

  /** `GET /v1/grants/{grant_id}/history`: every event of the grant from the event store, oldest first. */
  @Get(':grant_id/history')
  @RequiredScope('grants:read')
  async getGrantHistory(
    @Param('grant_id') grantIdParameter: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ grant_id: string; events: GrantHistoryEventJson[] }> {
    rejectUnknownParameters(query, []);
    const grantId = parseGrantIdParameter(grantIdParameter);

    const events = await this.queryBus.execute(new GetGrantHistoryQuery(grantId));

    return { grant_id: grantId, events: events.map(toHistoryEventJson) };
  }
}
