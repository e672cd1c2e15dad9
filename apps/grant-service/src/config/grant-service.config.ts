import { booleanVariable, commonVariables, integerVariable, kafkaTopicVariable, portVariable } from '#config/environment-variables.js';
import { loadConfig } from '#config/load-config.js';
import { grantEventsTopic } from '#grant-events/grant-events-topic.js';
import { grpcPortVariable } from '#grpc/grpc-port-variable.js';

import { accountVariables } from '../account/account.variables.js';
import { adminRevocationVariables } from '../admin/admin.variables.js';
import { grantApiVariables } from '../grants/grant-api.variables.js';

export const grantServiceVariables = {
  ...commonVariables,
  ...accountVariables,
  ...adminRevocationVariables,
  ...grantApiVariables,
  GRANT_SERVICE_PORT: portVariable.default(3000),
  /** Port of the gRPC grant API, bound to HTTP_HOST; 0 picks a free port. */
  GRANT_SERVICE_GRPC_PORT: grpcPortVariable.default(50051),
  // The relay: publishes committed grant events from the event store to Kafka.
  GRANT_EVENTS_TOPIC: kafkaTopicVariable.default(grantEventsTopic),
  GRANT_EVENTS_PARTITIONS: integerVariable(1, 1000, 'partitions').default(3),
  RELAY_ENABLED: booleanVariable.default(true),
  RELAY_POLL_INTERVAL_MS: integerVariable(1, 60_000, 'milliseconds').default(20),
  RELAY_BATCH_SIZE: integerVariable(1, 10_000, 'events').default(500),
  RELAY_LEADER_RETRY_MS: integerVariable(100, 600_000, 'milliseconds').default(3000),
};

export type GrantServiceConfig = ReturnType<typeof loadGrantServiceConfig>;

export function loadGrantServiceConfig(environment: Record<string, string | undefined> = process.env) {
  return loadConfig('grant-service', grantServiceVariables, environment);
}

export const GRANT_SERVICE_CONFIG = Symbol('GRANT_SERVICE_CONFIG');
