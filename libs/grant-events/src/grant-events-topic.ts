/** The topic every grant event is published to, keyed by grant id, with infinite retention. */
export const grantEventsTopic = 'grant-events';

/** Dead-letter topic for messages that consumers of this project cannot apply after bounded retries. */
export const grantEventsDeadLetterTopic = 'grant-events.dlq';

/** CloudEvents `source` of the events the grant service records. */
export const grantEventSource = '/offline-grants/grant-service';
