/**
 * JSON spellings of the Kubernetes types whose protobuf form differs: RFC 3339 times, Go
 * durations, base64 bytes.
 */

import { ProtobufError } from "./wire.ts";

/** Seconds and nanoseconds since the Unix epoch. */
export interface Timestamp {
  seconds: number;
  nanos: number;
}

/** Formats a timestamp as `metav1.Time` (`2024-01-02T03:04:05Z`) or, with `micro`, `MicroTime` (`…05.123456Z`). */
export function formatTime(ts: Timestamp, options: { micro?: boolean } = {}): string {
  const date = new Date(ts.seconds * 1000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999 || ts.nanos < 0 || ts.nanos > 999_999_999) {
    throw new ProtobufError(`Time out of range: seconds ${ts.seconds}, nanos ${ts.nanos}`);
  }
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const base = `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return options.micro ? `${base}.${pad(Math.floor(ts.nanos / 1000), 6)}Z` : `${base}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 time into seconds and nanoseconds. */
export function parseTime(text: string): Timestamp {
  const m = RFC3339.exec(text);
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${m[4].toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new Error(`Invalid RFC 3339 time ${JSON.stringify(text)}`);
  const nanos = m[3] ? Number(m[3].slice(1, 10).padEnd(9, "0")) : 0;
  return { seconds: ms / 1000, nanos };
}

const UNITS: [bigint, string][] = [[1_000_000n, "ms"], [1_000n, "µs"]];

/** Nanoseconds as Go's `time.Duration.String()` prints them: `1h0m0s`, `30s`, `1.5ms`, `0s`. */
export function formatGoDuration(nanoseconds: bigint | number): string {
  const ns = BigInt(nanoseconds);
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  const u = ns < 0n ? -ns : ns;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) return `${sign}${u}ns`;
    const [unit, name] = u < 1_000_000n ? UNITS[1] : UNITS[0];
    return `${sign}${u / unit}${fraction(u % unit, unit)}${name}`;
  }
  const seconds = u / 1_000_000_000n;
  let out = `${seconds % 60n}${fraction(u % 1_000_000_000n, 1_000_000_000n)}s`;
  const minutes = seconds / 60n;
  if (minutes > 0n) {
    out = `${minutes % 60n}m${out}`;
    const hours = minutes / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return sign + out;
}

/** `.5` for 500 of 1000; "" for 0. */
function fraction(rest: bigint, unit: bigint): string {
  if (rest === 0n) return "";
  const digits = String(unit).length - 1;
  return "." + String(rest).padStart(digits, "0").replace(/0+$/, "");
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Parses a Go duration (`1h30m`, `1.5s`, `-2ms`) into nanoseconds. */
export function parseGoDuration(text: string): bigint {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (text === "0" || text === "+0" || text === "-0") return 0n;
  if (!m) throw new Error(`Invalid duration ${JSON.stringify(text)}`);
  let total = 0n;
  for (const [, whole, frac = "", unit] of text.matchAll(/(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g)) {
    const scale = DURATION_UNITS[unit];
    total += BigInt(whole || "0") * scale;
    if (frac) total += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
  }
  return m[1] === "-" ? -total : total;
}

/** Standard base64 of bytes, as Go's JSON writes `[]byte`. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Bytes of a standard base64 string. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
