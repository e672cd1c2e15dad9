import { Query } from '@nestjs/cqrs';

import type { GrantView } from '../grant-view.js';

/**
 * Reads a grant from the projection. With `minPosition`, the read first waits until the
 * projection has applied every event of this grant at or before that global position.
 */
export class GetGrantQuery extends Query<GrantView> {
  constructor(
    readonly grantId: string,
    readonly minPosition?: bigint,
  ) {
    super();
  }
}
