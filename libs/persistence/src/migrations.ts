import { CreateGrantStore1733300000000 } from './migrations/1733300000000-create-grant-store.js';

/** Every migration, oldest first. Listed by class so that bundlers and Jest need no file globs. */
export const migrations = [CreateGrantStore1733300000000];
