import { z } from 'zod';

/** `host:port`, with a hostname, an IPv4 address or a bracketed IPv6 address. */
const hostPort = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A TCP port number, 1 to 65535, written in decimal. */
export const portVariable = z
  .string({ error: 'is missing; expected a TCP port number from 1 to 65535' })
  .regex(/^\d{1,5}$/, { error: 'must be a TCP port number from 1 to 65535' })
  .transform(Number)
  .refine((port) => port >= 1 && port <= 65_535, { error: 'must be a TCP port number from 1 to 65535' });

/** A PostgreSQL connection URL such as `postgres://user@host:5432/database`. */
export const databaseUrlVariable = z
  .string({ error: 'is missing; expected a URL such as postgres://user:password@host:5432/database' })
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.pathname.length > 1;
      } catch {
        return false;
      }
    },
    { error: 'must be a URL such as postgres://user:password@host:5432/database' },
  );

/** A comma-separated list of Kafka bootstrap brokers, `host:port[,host:port…]`. */
export const kafkaBrokersVariable = z
  .string({ error: 'is missing; expected a comma-separated list of host:port, such as 127.0.0.1:9092' })
  .transform((value) => value.split(',').map((broker) => broker.trim()))
  .refine((brokers) => brokers.length > 0 && brokers.every((broker) => hostPort.test(broker)), {
    error: 'must be a comma-separated list of host:port, such as 127.0.0.1:9092',
  });

export const logLevelVariable = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'must be one of fatal, error, warn, info, debug, trace, silent',
  })
  .default('info');

export const nodeEnvVariable = z
  .enum(['development', 'test', 'production'], { error: 'must be one of development, test, production' })
  .default('development');

/** The address the HTTP server binds to; 0.0.0.0 inside containers. */
export const hostVariable = z
  .string()
  .regex(/^[A-Za-z0-9.:-]+$/, { error: 'must be an IP address or host name such as 127.0.0.1 or 0.0.0.0' })
  .default('127.0.0.1');

/** The variables every app reads. */
export const commonVariables = {
  NODE_ENV: nodeEnvVariable,
  LOG_LEVEL: logLevelVariable,
  HTTP_HOST: hostVariable,
  DATABASE_URL: databaseUrlVariable,
  KAFKA_BROKERS: kafkaBrokersVariable,
};

/** A Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', and neither '.' nor '..'. */
export const kafkaTopicVariable = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: 'must be a Kafka topic name: 1 to 249 letters, digits, ".", "_" or "-"' })
  .refine((topic) => topic !== '.' && topic !== '..', { error: 'must be a Kafka topic name other than "." and ".."' });

/** Creates the schema of a whole number from `minimum` to `maximum`, written in decimal. `unit` names what it counts in the error. */
export function integerVariable(minimum: number, maximum: number, unit: string) {
  const expected = `must be a whole number of ${unit} from ${minimum} to ${maximum}`;
  return z
    .string()
    .regex(/^\d{1,15}$/, { error: expected })
    .transform(Number)
    .refine((value) => value >= minimum && value <= maximum, { error: expected });
}

/** `true` or `false`. */
export const booleanVariable = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');
