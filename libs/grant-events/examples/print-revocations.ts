// A minimal subscriber: prints every grant revocation published on `grant-events`.
//
//   KAFKA_BROKERS=127.0.0.1:9092 npm run example:revocations
//
// It joins its own consumer group, so it sees every event; a subscriber with several instances
// shares one group id instead. Redeliveries are possible (at-least-once), so a real subscriber
// keeps the (source, id) pairs it has handled, or makes its reaction idempotent.
import { Kafka, logLevel } from 'kafkajs';

import { decodeGrantEvent, GrantEventDecodeError } from '#grant-events/grant-event-codec.js';
import { grantEventsTopic } from '#grant-events/grant-events-topic.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const groupId = process.env.SUBSCRIBER_GROUP_ID ?? `print-revocations-${process.pid}`;

const kafka = new Kafka({ clientId: 'print-revocations', brokers, logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId });

await consumer.connect();
await consumer.subscribe({ topic: process.env.GRANT_EVENTS_TOPIC ?? grantEventsTopic, fromBeginning: process.env.FROM_BEGINNING === 'true' });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    try {
      const { event, id } = decodeGrantEvent(message);
      if (event.type !== 'GrantRevoked') return;
      const { grantId, userId, clientId, reason, actor, occurredAt } = event.data;
      console.log(JSON.stringify({ eventId: id, grantId, userId, clientId, reason, actor, occurredAt }));
    } catch (error) {
      if (!(error instanceof GrantEventDecodeError)) throw error;
      console.error(`skipping partition ${partition} offset ${message.offset}: ${error.message}`);
    }
  },
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void consumer.disconnect().finally(() => process.exit(0));
  });
}
