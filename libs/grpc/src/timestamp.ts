/** google.protobuf.Timestamp as proto-loader takes it, with the seconds as a decimal string. */
export interface TimestampMessage {
  seconds: string;
  nanos: number;
}

/** Converts an ISO 8601 instant, such as the API's `created_at`, to a google.protobuf.Timestamp. */
export function toTimestamp(instant: string | Date): TimestampMessage {
  const milliseconds = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  if (Number.isNaN(milliseconds)) throw new TypeError(`${String(instant)} is not a valid instant`);
  const seconds = Math.floor(milliseconds / 1000);
  return { seconds: seconds.toString(), nanos: (milliseconds - seconds * 1000) * 1_000_000 };
}
