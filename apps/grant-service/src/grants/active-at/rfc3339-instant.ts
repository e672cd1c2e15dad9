/**
 * An instant parsed from an RFC 3339 date-time, kept to the microsecond because PostgreSQL
 * timestamps have that precision. Digits beyond the microsecond are dropped, which rounds down and
 * leaves every comparison with a stored timestamp as it would be with the full value.
 */
export interface Rfc3339Instant {
  /** Milliseconds since the Unix epoch, rounded down. */
  epochMilliseconds: number;
  /** Microseconds after `epochMilliseconds`, 0 to 999. */
  microseconds: number;
}

/** RFC 3339 §5.6 date-time: full-date "T" full-time, where T and Z may be lower case. */
const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time such as `2025-03-01T12:00:00Z` or `2025-03-01T13:00:00.250+01:00`.
 * Returns undefined for anything else: impossible dates, leap seconds (second 60), which the
 * JavaScript and PostgreSQL clocks cannot represent, and instants outside the years 0001 to 9999 UTC.
 */
export function parseRfc3339Instant(value: string): Rfc3339Instant | undefined {
  const match = dateTimePattern.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, offsetHour, offsetMinute] = match;
  const numbers = { year: Number(year), month: Number(month), day: Number(day), hour: Number(hour), minute: Number(minute), second: Number(second) };
  if (numbers.month < 1 || numbers.month > 12 || numbers.day < 1 || numbers.day > daysInMonth(numbers.year, numbers.month)) return undefined;
  if (numbers.hour > 23 || numbers.minute > 59 || numbers.second > 59) return undefined;
  const offsetMinutes = zulu !== undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHour) * 60 + Number(offsetMinute));
  if (zulu === undefined && (Number(offsetHour) > 23 || Number(offsetMinute) > 59)) return undefined;

  const digits = fraction.padEnd(6, '0');
  // Date.UTC maps years 0 to 99 to 1900 to 1999, so the year is set separately.
  const date = new Date(0);
  date.setUTCFullYear(numbers.year, numbers.month - 1, numbers.day);
  date.setUTCHours(numbers.hour, numbers.minute, numbers.second, Number(digits.slice(0, 3)));
  const epochMilliseconds = date.getTime() - offsetMinutes * 60_000;
  // An offset can move year 0000 or 9999 out of the four-digit years that formatRfc3339Instant writes.
  const utcYear = new Date(epochMilliseconds).getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return undefined;
  return { epochMilliseconds, microseconds: Number(digits.slice(3, 6)) };
}

/**
 * Formats `instant` in UTC as RFC 3339, with milliseconds, or with microseconds when it has any,
 * such as `2025-03-01T12:00:00.250Z` or `2025-03-01T12:00:00.250400Z`.
 */
export function formatRfc3339Instant(instant: Rfc3339Instant): string {
  const text = new Date(instant.epochMilliseconds).toISOString();
  return instant.microseconds === 0 ? text : `${text.slice(0, -1)}${String(instant.microseconds).padStart(3, '0')}Z`;
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}
