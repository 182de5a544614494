/**
 * Wall-clock arithmetic in an IANA time zone, with the semantics of Go's `time` package that the
 * CronJob controller's schedule library builds on: reading a time's fields in a zone, and
 * `time.Date`, which turns wall-clock fields into an instant even when those fields fall in a
 * skipped hour (spring forward) or a repeated one (fall back). Offsets come from `Intl`.
 *
 * Go's rule for `time.Date`: take the offset in force at the wall-clock fields read as if they
 * were UTC; if that offset's period does not contain the instant it implies, use the offset in
 * force at that implied instant instead. In a skipped hour the result therefore depends on the
 * side of UTC the zone lies (New York's 02:30 becomes 01:30 EST, Berlin's becomes 03:30 CEST), and
 * in a repeated hour likewise (New York's 01:30 is the first, EDT; Berlin's 02:30 the second, CET).
 */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** Offsets are sampled on this grid; two samples that agree mean no transition lies between. */
const SAMPLE = 15 * MINUTE;
const CACHE_LIMIT = 8192;

/** A time as a clock and calendar in one zone show it. Months run 1–12, weekdays 0 (Sunday)–6. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

/** Milliseconds since the epoch of the given fields read as UTC; fields out of range carry over. */
export function utcMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** One IANA zone's offsets and Go-style wall-clock arithmetic. Get one with `Zone.of(name)`. */
export class Zone {
  static #zones = new Map<string, Zone>();

  /** The zone named `name`; throws a RangeError when `Intl` knows no such zone. */
  static of(name: string): Zone {
    let zone = Zone.#zones.get(name);
    if (!zone) {
      zone = new Zone(name);
      Zone.#zones.set(name, zone);
    }
    return zone;
  }

  readonly name: string;
  readonly #format: Intl.DateTimeFormat | undefined;
  readonly #sampled = new Map<number, number>();
  readonly #exact = new Map<number, number>();

  private constructor(name: string) {
    this.name = name;
    if (name === "UTC") return;
    try {
      this.#format = new Intl.DateTimeFormat("en-US", {
        timeZone: name,
        hourCycle: "h23",
        era: "short",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new RangeError(`Unknown time zone ${JSON.stringify(name)}: expected an IANA time zone name`);
    }
  }

  /** The offset from UTC in force at instant `ms`, in milliseconds (east positive). */
  offset(ms: number): number {
    if (!this.#format) return 0;
    const slot = Math.floor(ms / SAMPLE);
    const before = this.#sample(slot);
    if (before === this.#sample(slot + 1)) return before;
    return this.#cached(this.#exact, Math.floor(ms / SECOND), (s) => this.#measure(s * SECOND));
  }

  /** The wall clock at instant `ms` (Go's `t.In(zone)` fields). */
  wall(ms: number): WallClock {
    const d = new Date(ms + this.offset(ms));
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }

  /** Go's `time.Date(year, month, day, hour, minute, second, 0, zone)` as milliseconds. */
  date(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
    const local = utcMillis(year, month, day, hour, minute, second);
    return local - this.offset(local - this.offset(local));
  }

  #sample(slot: number): number {
    return this.#cached(this.#sampled, slot, (s) => this.#measure(s * SAMPLE));
  }

  #cached(cache: Map<number, number>, key: number, compute: (key: number) => number): number {
    let v = cache.get(key);
    if (v === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      v = compute(key);
      cache.set(key, v);
    }
    return v;
  }

  /** The offset at a whole-second instant, read from `Intl`. */
  #measure(ms: number): number {
    const f: Record<string, string> = {};
    for (const part of this.#format!.formatToParts(ms)) f[part.type] = part.value;
    let year = Number(f.year);
    if (f.era === "BC" || f.era === "B") year = 1 - year;
    const local = utcMillis(
      year,
      Number(f.month),
      Number(f.day),
      Number(f.hour),
      Number(f.minute),
      Number(f.second),
    );
    return local - Math.floor(ms / SECOND) * SECOND;
  }
}
