import { randomUUID } from 'node:crypto';

/** Source of new grant ids, so that tests can predict them. */
export interface GrantIdGenerator {
  newGrantId(): string;
}

export const GRANT_ID_GENERATOR = Symbol('GRANT_ID_GENERATOR');

/** Random (version 4) UUIDs: a new consent after a revocation must never reuse an id. */
export const randomGrantIdGenerator: GrantIdGenerator = { newGrantId: () => randomUUID() };
