import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';

import { RequiredScope } from '../auth/grant-api-caller.js';
import { GrantApiGuard } from '../auth/grant-api.guard.js';
import { type GrantJson, toGrantJson } from '../http/grant.json.js';
import { invalidParameter, parseGrantIdParameter, rejectUnknownParameters } from '../http/request-input.js';
import { GetGrantQuery } from './get-grant.query.js';

/** Largest PostgreSQL bigint, the type of event positions. */
const maxPosition = 2n ** 63n - 1n;

@Controller('v1/grants')
@UseGuards(GrantApiGuard)
export class GetGrantHttpController {
  constructor(private readonly queryBus: QueryBus) {}

  /**
   * `GET /v1/grants/{grant_id}?min_position=N` reads the projection. With `min_position`, it
   * first waits for the projection to apply this grant's events up to N, and responds 503 with
   * `Retry-After` when that takes longer than GRANT_API_MIN_POSITION_WAIT_MS.
   */
  @Get(':grant_id')
  @RequiredScope('grants:read')
  async getGrant(@Param('grant_id') grantIdParameter: string, @Query() query: Record<string, unknown>): Promise<GrantJson> {
    rejectUnknownParameters(query, ['min_position']);
    const grantId = parseGrantIdParameter(grantIdParameter);
    const minPosition = query.min_position === undefined ? undefined : parsePosition(query.min_position);

    const grant = await this.queryBus.execute(new GetGrantQuery(grantId, minPosition));

    return toGrantJson(grant);
  }
}

function parsePosition(value: unknown): bigint {
  if (typeof value !== 'string' || !/^\d{1,19}$/.test(value) || BigInt(value) > maxPosition) {
    throw invalidParameter('min_position', `min_position must be a decimal event position from 0 to ${maxPosition}, such as the position a command returned.`);
  }
  return BigInt(value);
}
