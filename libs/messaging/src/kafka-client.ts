import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  /** Bounds one connection attempt, so that a stopped broker is noticed within seconds. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Retries of connections and requests; kafkajs's own default when unset (5 retries, waits up to 30 s). */
  retry?: RetryOptions;
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Creates a kafkajs client whose own log lines go to the app's pino logger. */
export function createKafkaClient(options: KafkaClientOptions, logger?: Logger): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    retry: options.retry,
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!logger) return;
      const { message, ...context } = entry.log;
      logger[levels[entry.level] ?? 'info']({ ...context, kafkaNamespace: entry.namespace }, message);
    },
  });
}
