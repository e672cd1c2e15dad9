import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

import { GrantError } from '#grant-domain/grant-error.js';

import { GRANT_SERVICE_CONFIG, type GrantServiceConfig } from '../../config/grant-service.config.js';
import { GrantProjectionReader } from '../grant-projection.reader.js';
import type { GrantView } from '../grant-view.js';
import { ProjectionBehindError } from '../projection-behind.error.js';
import { GetGrantQuery } from './get-grant.query.js';

/** Interval between two reads of the projection row while a read waits for `min_position`. */
const pollIntervalMs = 25;

@QueryHandler(GetGrantQuery)
export class GetGrantHandler implements IQueryHandler<GetGrantQuery> {
  constructor(
    private readonly reader: GrantProjectionReader,
    @Inject(GRANT_SERVICE_CONFIG) private readonly config: GrantServiceConfig,
  ) {}

  async execute(query: GetGrantQuery): Promise<GrantView> {
    const requiredPosition =
      query.minPosition === undefined ? undefined : await this.reader.latestPositionAtOrBefore(query.grantId, query.minPosition);
    const grant = requiredPosition === undefined ? await this.reader.findGrant(query.grantId) : await this.waitForProjection(query.grantId, requiredPosition);

    if (grant === undefined) {
      throw new GrantError('grant.not_found', `grant ${query.grantId} was not found`, 'grant_id');
    }
    return grant;
  }

  /** Polls the projection row until it reaches `requiredPosition`, and raises ProjectionBehindError when the configured wait ends first. */
  private async waitForProjection(grantId: string, requiredPosition: bigint): Promise<GrantView> {
    const waitMs = this.config.GRANT_API_MIN_POSITION_WAIT_MS;
    const deadline = performance.now() + waitMs;
    for (;;) {
      const grant = await this.reader.findGrant(grantId);
      if (grant !== undefined && grant.position >= requiredPosition) return grant;
      if (performance.now() >= deadline) throw new ProjectionBehindError(grantId, requiredPosition, waitMs);
      await sleep(pollIntervalMs);
    }
  }
}
