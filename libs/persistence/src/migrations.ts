import { CreateGrantStore1733300000000 } from './migrations/1733300000000-create-grant-store.js';
import { CreateTokenStore1733400000000 } from './migrations/1733400000000-create-token-store.js';
import { CreateRevocationJobs1733700000000 } from './migrations/1733700000000-create-revocation-jobs.js';
import { IndexGrantCreations1733800000000 } from './migrations/1733800000000-index-grant-creations.js';
import { CreateDeletedClients1733900000000 } from './migrations/1733900000000-create-deleted-clients.js';

/** Every migration, oldest first. Listed by class so that bundlers and Jest need no file globs. */
export const migrations = [
  CreateGrantStore1733300000000,
  CreateTokenStore1733400000000,
  CreateRevocationJobs1733700000000,
  IndexGrantCreations1733800000000,
  CreateDeletedClients1733900000000,
];
