import { z } from 'zod';

import { commonVariables, integerVariable, kafkaTopicVariable, portVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';
import { grantEventsDeadLetterTopic, grantEventsTopic } from '#grant-events/grant-events-topic.js';

export const grantProjectorVariables = {
  ...commonVariables,
  GRANT_PROJECTOR_PORT: portVariable.default(3002),
  GRANT_EVENTS_TOPIC: kafkaTopicVariable.default(grantEventsTopic),
  GRANT_EVENTS_PARTITIONS: integerVariable(1, 1000, 'partitions').default(3),
  GRANT_EVENTS_DLQ_TOPIC: kafkaTopicVariable.default(grantEventsDeadLetterTopic),
  GRANT_PROJECTOR_GROUP_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be a Kafka consumer group id: 1 to 255 printable ASCII characters without spaces' })
    .default('grant-projector'),
  PROJECTOR_MAX_ATTEMPTS: integerVariable(1, 100, 'attempts').default(5),
  /** Events per page and per upsert of `npm run projection:rebuild`. A replay from the topic uses it only to end catch-up passes. */
  PROJECTION_REBUILD_PAGE_SIZE: integerVariable(100, 100_000, 'events').default(10_000),
  /** Maximum wait of one swap attempt for the lock on grants, during which readers of grants queue behind it. */
  PROJECTION_REBUILD_LOCK_TIMEOUT_MS: integerVariable(10, 60_000, 'milliseconds').default(2000),
};

export type GrantProjectorConfig = ReturnType<typeof loadGrantProjectorConfig>;

export function loadGrantProjectorConfig(environment: Record<string, string | undefined> = process.env) {
  return loadConfig('grant-projector', grantProjectorVariables, environment);
}

export const GRANT_PROJECTOR_CONFIG = Symbol('GRANT_PROJECTOR_CONFIG');
