/**
 * Durations and timestamps as kube-apiserver prints them in Table cells:
 * ages like `45s`, `3m20s`, `5h`, `2d5h`, `45d`, `2y30d`, and RFC 3339 creation times.
 *
 * @module
 */

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/**
 * A duration in milliseconds, by upstream's `duration.HumanDuration` rules: exact to the second below two
 * minutes, then coarser as the duration grows. Up to a second in the future reads `0s`; more is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 2 * MINUTE) return `${seconds}s`;
  const minutes = Math.floor(seconds / MINUTE);
  if (minutes < 10) return withRest(`${minutes}m`, seconds % MINUTE, "s");
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.floor(seconds / HOUR);
  if (hours < 8) return withRest(`${hours}h`, minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(seconds / DAY);
  if (hours < 8 * 24) return withRest(`${days}d`, hours % 24, "h");
  if (hours < 2 * 365 * 24) return `${days}d`;
  const years = Math.floor(seconds / YEAR);
  if (hours < 8 * 365 * 24) return withRest(`${years}y`, days % 365, "d");
  return `${years}y`;
}

function withRest(head: string, rest: number, unit: string): string {
  return rest === 0 ? head : `${head}${rest}${unit}`;
}

/** The milliseconds since the epoch of a timestamp, or undefined when it is missing or unreadable. */
export function parseTime(timestamp: unknown): number | undefined {
  if (typeof timestamp !== "string" || timestamp === "") return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? undefined : t;
}

/** The time since `timestamp` as {@link humanDuration}, or `<unknown>` when there is none. */
export function age(timestamp: unknown, now: number): string {
  const t = parseTime(timestamp);
  return t === undefined ? "<unknown>" : humanDuration(now - t);
}

/** A timestamp as RFC 3339 in UTC to the second (`2025-01-01T12:00:00Z`), or the zero time when missing. */
export function rfc3339(timestamp: unknown): string {
  const t = parseTime(timestamp);
  if (t === undefined) return "0001-01-01T00:00:00Z";
  return new Date(Math.floor(t / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
