import type { GrantEventType } from '#grant-domain/grant.events.js';

/** CloudEvents `type` of each grant event. A breaking change of the data gets a new version suffix. */
export const cloudEventTypes: Readonly<Record<GrantEventType, string>> = {
  GrantCreated: 'dev.offline-grants.grant.created.v1',
  GrantScopesChanged: 'dev.offline-grants.grant.scopes_changed.v1',
  GrantRevoked: 'dev.offline-grants.grant.revoked.v1',
};

const eventTypeByCloudEventType = new Map<string, GrantEventType>(
  Object.entries(cloudEventTypes).map(([eventType, cloudEventType]) => [cloudEventType, eventType as GrantEventType]),
);

export function grantEventTypeOf(cloudEventType: string): GrantEventType | undefined {
  return eventTypeByCloudEventType.get(cloudEventType);
}
