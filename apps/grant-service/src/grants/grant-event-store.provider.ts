import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { GrantEventStore } from '#persistence/grant-event-store.js';

/** Provides GrantEventStore, a plain class, over the app's TypeORM DataSource. */
export const grantEventStoreProvider: Provider = {
  provide: GrantEventStore,
  useFactory: (dataSource: DataSource) => new GrantEventStore(dataSource),
  inject: [DataSource],
};
