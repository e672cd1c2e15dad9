import { GrantError } from './grant-error.js';

export const actorTypes = ['user', 'admin', 'client', 'service', 'system'] as const;
export type ActorType = (typeof actorTypes)[number];

/** The party that caused an event: the signed-in user, an administrator, an OAuth client, a service or the system. */
export interface Actor {
  type: ActorType;
  id: string;
}

export function parseActor(value: { type?: unknown; id?: unknown }): Actor {
  if (typeof value.type !== 'string' || !(actorTypes as readonly string[]).includes(value.type)) {
    throw new GrantError('grant.invalid_actor', `actor.type must be one of ${actorTypes.join(', ')}`, 'actor.type');
  }
  if (typeof value.id !== 'string' || !isPrintableIdentifier(value.id)) {
    throw new GrantError('grant.invalid_actor', 'actor.id must be 1 to 255 characters without control characters', 'actor.id');
  }
  return { type: value.type as ActorType, id: value.id };
}

/** Checks for 1 to 255 UTF-16 code units, no C0/C1 control character and no unpaired surrogate. */
export function isPrintableIdentifier(value: string): boolean {
  return (
    value.length >= 1 &&
    value.length <= 255 &&
    !/[\u0000-\u001f\u007f-\u009f]/.test(value) &&
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)
  );
}
