import { actorTypes } from '#grant-domain/actor.js';
import type { GrantEventType } from '#grant-domain/grant.events.js';
import { revokeReasons } from '#grant-domain/revoke-reason.js';
import { maxScopeLength, maxScopes } from '#grant-domain/scope-set.js';

import { cloudEventTypes } from './cloud-event-types.js';

const identifier = { type: 'string', minLength: 1, maxLength: 255 } as const;

const scopeSet = {
  type: 'array',
  minItems: 1,
  maxItems: maxScopes,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: maxScopeLength, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' },
} as const;

const common = {
  grantId: { type: 'string', format: 'uuid' },
  userId: identifier,
  clientId: identifier,
  actor: {
    type: 'object',
    required: ['type', 'id'],
    additionalProperties: false,
    properties: { type: { enum: [...actorTypes] }, id: identifier },
  },
  occurredAt: { type: 'string', format: 'date-time' },
} as const;

function schemaFor(eventType: GrantEventType, properties: Record<string, unknown>) {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://offline-grants.dev/schemas/${cloudEventTypes[eventType]}.json`,
    title: eventType,
    type: 'object',
    // New optional fields may be added within a version, so readers must accept unknown ones.
    additionalProperties: true,
    required: [...Object.keys(common), ...Object.keys(properties)],
    properties: { ...common, ...properties },
  };
}

/** JSON Schema (draft 2020-12) of the `data` of each event type, keyed by CloudEvents type. */
export const grantEventSchemas = {
  [cloudEventTypes.GrantCreated]: schemaFor('GrantCreated', { scopes: scopeSet }),
  [cloudEventTypes.GrantScopesChanged]: schemaFor('GrantScopesChanged', { scopes: scopeSet, previousScopes: scopeSet }),
  [cloudEventTypes.GrantRevoked]: schemaFor('GrantRevoked', { scopes: scopeSet, reason: { enum: [...revokeReasons] } }),
} as const;
