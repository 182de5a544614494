/**
 * The schedule arithmetic of the CronJob controller, pure: parsing `spec.schedule` as the API
 * server and the controller do (robfig/cron v3's standard parser), validating `spec.schedule` and
 * `spec.timeZone` with kube-apiserver's wording, finding the next activation in an IANA zone with
 * that library's daylight-saving behaviour, and the controller's helpers that decide which
 * activation is due (`mostRecentScheduleTime`, `nextScheduleTime`) and when to look again
 * (`nextScheduleTimeDuration`).
 *
 * Accepted: five fields `minute hour day-of-month month day-of-week`, each a comma list of `*`,
 * `?`, `N`, `N-M`, with an optional `/step` (`N/step` means `N-max/step`); month names `jan`…`dec`
 * and weekday names `sun`…`sat` in any case; weekdays run 0–6, so `7` is refused. When both day
 * fields are restricted (neither written as a bare `*` or `?`; a `*` with a step above 1 counts as
 * restricted) a day matches if either does; otherwise both must. Descriptors `@yearly`, `@annually`, `@monthly`,
 * `@weekly`, `@daily`, `@midnight`, `@hourly` and `@every <Go duration>` are accepted, and so is a
 * leading `TZ=<zone> ` or `CRON_TZ=<zone> ` (the parser takes it; validation refuses it on create
 * in favour of `spec.timeZone`, and an old object keeping one wins over `spec.timeZone`).
 */

import { field, type FieldError } from "../status.ts";
import { goAtoi, goFields, goParseDuration, goTrimSpace } from "./_go.ts";
import { HOUR, MINUTE, SECOND, Zone } from "./_zone.ts";

/** The values one cron field allows, as a bitset, and whether it was written with `*` or `?`. */
export class FieldSet {
  /** Bits for the values 0–31 and 32–63. */
  readonly #low: number;
  readonly #high: number;
  /** Written as `*` or `?` (without a step above 1): decides the day-of-month/day-of-week rule. */
  readonly star: boolean;

  constructor(low: number, high: number, star: boolean) {
    this.#low = low >>> 0;
    this.#high = high >>> 0;
    this.star = star;
  }

  /** The set of `start`, `start+step`, … up to `end`. */
  static range(start: number, end: number, step = 1, star = false): FieldSet {
    let low = 0;
    let high = 0;
    for (let v = start; v <= end; v += step) {
      if (v < 32) low |= 1 << v;
      else high |= 1 << (v - 32);
    }
    return new FieldSet(low, high, star);
  }

  has(value: number): boolean {
    return value < 32 ? ((this.#low >>> value) & 1) === 1 : ((this.#high >>> (value - 32)) & 1) === 1;
  }

  union(other: FieldSet): FieldSet {
    return new FieldSet(this.#low | other.#low, this.#high | other.#high, this.star || other.star);
  }

  /** The allowed values, ascending. */
  values(): number[] {
    const out: number[] = [];
    for (let v = 0; v < 64; v++) if (this.has(v)) out.push(v);
    return out;
  }
}

/** A five-field schedule (descriptors other than `@every` parse to one too). */
export interface CronSchedule {
  readonly kind: "cron";
  readonly minute: FieldSet;
  readonly hour: FieldSet;
  readonly dayOfMonth: FieldSet;
  readonly month: FieldSet;
  readonly dayOfWeek: FieldSet;
  /** The zone of a `TZ=`/`CRON_TZ=` prefix; it wins over the zone `next` is given. */
  readonly timeZone?: string;
}

/** `@every <duration>`: activations a fixed number of whole seconds apart, from any start. */
export interface EverySchedule {
  readonly kind: "every";
  readonly seconds: number;
  readonly timeZone?: string;
}

export type Schedule = CronSchedule | EverySchedule;

/** A schedule the parser refuses; `message` is the text kube-apiserver shows after the value. */
export class ScheduleError extends Error {
  override name = "ScheduleError";
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DAYS_OF_MONTH: Bounds = { min: 1, max: 31 };
const named = (names: string[], from: number) => Object.fromEntries(names.map((n, i) => [n, from + i]));
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: named(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1),
};
const DAYS_OF_WEEK: Bounds = {
  min: 0,
  max: 6,
  names: named(["sun", "mon", "tue", "wed", "thu", "fri", "sat"], 0),
};

const every = (b: Bounds) => FieldSet.range(b.min, b.max, 1, true);
const first = (b: Bounds) => FieldSet.range(b.min, b.min);

/** Parses `spec.schedule`; returns a ScheduleError, worded as upstream, when it is not valid. */
export function parseSchedule(spec: string): Schedule | ScheduleError {
  try {
    return parse(spec);
  } catch (e) {
    if (e instanceof ScheduleError) return e;
    throw e;
  }
}

function parse(spec: string): Schedule {
  if (spec.length === 0) throw new ScheduleError("empty spec string");
  let timeZone: string | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const space = spec.indexOf(" ");
    const name = spec.slice(spec.indexOf("=") + 1, space < 0 ? undefined : space);
    const location = loadLocation(name);
    if ("error" in location) throw new ScheduleError(`provided bad location ${name}: ${location.error}`);
    timeZone = location.zone;
    spec = space < 0 ? "" : goTrimSpace(spec.slice(space));
  }
  if (spec.startsWith("@")) return parseDescriptor(spec, timeZone);
  const fields = goFields(spec);
  if (fields.length !== 5) {
    throw new ScheduleError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`);
  }
  return {
    kind: "cron",
    minute: parseField(fields[0], MINUTES),
    hour: parseField(fields[1], HOURS),
    dayOfMonth: parseField(fields[2], DAYS_OF_MONTH),
    month: parseField(fields[3], MONTHS),
    dayOfWeek: parseField(fields[4], DAYS_OF_WEEK),
    timeZone,
  };
}

function parseDescriptor(spec: string, timeZone: string | undefined): Schedule {
  const cron = (
    minute: FieldSet,
    hour: FieldSet,
    dom: FieldSet,
    month: FieldSet,
    dow: FieldSet,
  ): Schedule => ({
    kind: "cron",
    minute,
    hour,
    dayOfMonth: dom,
    month,
    dayOfWeek: dow,
    timeZone,
  });
  switch (spec) {
    case "@yearly":
    case "@annually":
      return cron(first(MINUTES), first(HOURS), first(DAYS_OF_MONTH), first(MONTHS), every(DAYS_OF_WEEK));
    case "@monthly":
      return cron(first(MINUTES), first(HOURS), first(DAYS_OF_MONTH), every(MONTHS), every(DAYS_OF_WEEK));
    case "@weekly":
      return cron(first(MINUTES), first(HOURS), every(DAYS_OF_MONTH), every(MONTHS), first(DAYS_OF_WEEK));
    case "@daily":
    case "@midnight":
      return cron(first(MINUTES), first(HOURS), every(DAYS_OF_MONTH), every(MONTHS), every(DAYS_OF_WEEK));
    case "@hourly":
      return cron(first(MINUTES), every(HOURS), every(DAYS_OF_MONTH), every(MONTHS), every(DAYS_OF_WEEK));
  }
  const prefix = "@every ";
  if (spec.startsWith(prefix)) {
    const d = goParseDuration(spec.slice(prefix.length));
    if ("error" in d) throw new ScheduleError(`failed to parse duration ${spec}: ${d.error}`);
    const seconds = d.nanos < 1_000_000_000n ? 1 : Number(d.nanos / 1_000_000_000n);
    return { kind: "every", seconds, timeZone };
  }
  throw new ScheduleError(`unrecognized descriptor: ${spec}`);
}

function parseField(text: string, bounds: Bounds): FieldSet {
  let set = new FieldSet(0, 0, false);
  for (const expr of text.split(",")) {
    if (expr !== "") set = set.union(parseRange(expr, bounds));
  }
  return set;
}

function parseRange(expr: string, bounds: Bounds): FieldSet {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = rangeAndStep[0].split("-");
  let start: bigint;
  let end: bigint;
  let star = false;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = BigInt(bounds.min);
    end = BigInt(bounds.max);
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0], bounds.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1], bounds.names);
    else throw new ScheduleError(`too many hyphens: ${expr}`);
  }
  let step = 1n;
  if (rangeAndStep.length === 2) {
    step = parseNonNegative(rangeAndStep[1]);
    if (lowAndHigh.length === 1) end = BigInt(bounds.max);
    if (step > 1n) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new ScheduleError(`too many slashes: ${expr}`);
  }
  if (start < bounds.min) {
    throw new ScheduleError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  }
  if (end > bounds.max) {
    throw new ScheduleError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  }
  if (start > end) {
    throw new ScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  }
  if (step === 0n) throw new ScheduleError(`step of range should be a positive number: ${expr}`);
  return FieldSet.range(Number(start), Number(end), Number(step), star);
}

function parseIntOrName(expr: string, names: Record<string, number> | undefined): bigint {
  const named = names && Object.hasOwn(names, expr.toLowerCase()) ? names[expr.toLowerCase()] : undefined;
  return named === undefined ? parseNonNegative(expr) : BigInt(named);
}

function parseNonNegative(expr: string): bigint {
  const n = goAtoi(expr);
  if ("error" in n) throw new ScheduleError(`failed to parse int from ${expr}: ${n.error}`);
  if (n.value < 0n) throw new ScheduleError(`negative number (${n.value}) not allowed: ${expr}`);
  return n.value;
}

// ---------------------------------------------------------------------------------------------
// Time zones

interface TemporalZones {
  ZonedDateTime: new (epochNanoseconds: bigint, timeZone: string) => { timeZoneId: string };
}

const knownZones = new Map<string, boolean>();

/**
 * Whether `name` is a zone of the tz database, spelt exactly (Go opens a file of that name, so
 * case matters and `+05:30` is no zone). `Intl` decides membership; where `Temporal` is present
 * it also checks the spelling, since `Intl` takes any case.
 */
function isKnownZone(name: string): boolean {
  let known = knownZones.get(name);
  if (known !== undefined) return known;
  known = false;
  if (name !== "" && !/^[+-]/.test(name)) {
    try {
      Zone.of(name);
      const temporal = (globalThis as unknown as { Temporal?: TemporalZones }).Temporal;
      known = temporal ? new temporal.ZonedDateTime(0n, name).timeZoneId === name : true;
    } catch {
      known = false;
    }
  }
  if (knownZones.size > 1024) knownZones.clear();
  knownZones.set(name, known);
  return known;
}

/** Go's `time.LoadLocation`: `""` and `UTC` are UTC, `Local` is the process's own zone. */
function loadLocation(name: string): { zone: string | undefined } | { error: string } {
  if (name === "" || name === "UTC") return { zone: "UTC" };
  if (name === "Local") return { zone: undefined };
  if (name.includes("..") || name.startsWith("/") || name.startsWith("\\")) {
    return { error: "time: invalid location name" };
  }
  if (isKnownZone(name)) return { zone: name };
  // Go opens the file of that name: under a zone's own file the error is the file system's.
  const parts = name.split("/");
  for (let i = 1; i < parts.length; i++) {
    if (isKnownZone(parts.slice(0, i).join("/"))) return { error: "not a directory" };
  }
  return { error: `unknown time zone ${name}` };
}

const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/**
 * kube-apiserver's checks of `spec.timeZone` (run on create, and on update when it changed):
 * the IANA naming rules, no `Local`, and a zone the tz database has. `null`/`undefined` is valid.
 */
export function validateTimeZone(timeZone: string | null | undefined, path = "spec.timeZone"): FieldError[] {
  if (timeZone === null || timeZone === undefined) return [];
  if (timeZone === "") return [field.invalid(path, timeZone, "timeZone must be nil or non-empty string")];
  for (const part of timeZone.split("/")) {
    if (part === "." || part === ".." || part.startsWith("-") || !TIME_ZONE_PART.test(part)) {
      return [field.invalid(path, timeZone, `unknown time zone ${timeZone}`)];
    }
  }
  const errors: FieldError[] = [];
  if (timeZone.toLowerCase() === "local") {
    errors.push(
      field.invalid(
        path,
        timeZone,
        "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
      ),
    );
  }
  const location = loadLocation(timeZone);
  if ("error" in location) errors.push(field.invalid(path, timeZone, location.error));
  return errors;
}

/** Whether `name` is accepted as `spec.timeZone`. */
export function validTimeZone(name: string): boolean {
  return validateTimeZone(name).length === 0;
}

export interface ValidateScheduleOptions {
  /** The stored object's schedule, on update: one that already had `TZ` may keep it. */
  oldSchedule?: string | null;
  /** `spec.timeZone` of the new object. */
  timeZone?: string | null;
  path?: string;
}

/** kube-apiserver's checks of `spec.schedule`: Required, the parser's error, and the `TZ` rules. */
export function validateSchedule(
  schedule: string | null | undefined,
  options: ValidateScheduleOptions = {},
): FieldError[] {
  const path = options.path ?? "spec.schedule";
  if (!schedule) return [field.required(path)];
  const errors: FieldError[] = [];
  const parsed = parseSchedule(schedule);
  if (parsed instanceof ScheduleError) errors.push(field.invalid(path, schedule, parsed.message));
  const allowTZ = options.oldSchedule !== undefined && options.oldSchedule !== null &&
    options.oldSchedule.includes("TZ");
  const hasTimeZone = options.timeZone !== undefined && options.timeZone !== null;
  if (allowTZ && schedule.includes("TZ") && hasTimeZone) {
    errors.push(
      field.invalid(path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"),
    );
  } else if (!allowTZ && schedule.includes("TZ")) {
    errors.push(
      field.invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    );
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Activations

/** Activations are looked for this many calendar years ahead of the start, no further. */
const YEARS_AHEAD = 5;
/** A guard against zone data that would keep the search from ending; far above any real search. */
const MAX_STEPS = 100_000;

/**
 * The first activation strictly after `after` (from the next whole second), read in the schedule's
 * own `TZ=` zone, else `timeZone`, else UTC; `null` when none falls within five years. Daylight
 * saving as robfig/cron has it: a wall-clock time skipped by a spring-forward does not run that
 * day, and one repeated by a fall-back runs twice. Throws a RangeError for an unknown zone.
 */
export function next(schedule: Schedule, after: Date, timeZone?: string | null): Date | null {
  const from = after.getTime();
  if (Number.isNaN(from)) throw new RangeError("Invalid date: expected a valid Date for `after`");
  const start = Math.floor(from / SECOND) * SECOND;
  if (schedule.kind === "every") return new Date(start + schedule.seconds * SECOND);
  const zone = Zone.of(schedule.timeZone ?? timeZone ?? "UTC");
  if (neverMatches(schedule)) return null;
  const t = nextCron(schedule, start + SECOND, zone);
  return t === null ? null : new Date(t);
}

/** A field with no value at all (`,` parses so) can never match; upstream searches five years. */
function neverMatches(s: CronSchedule): boolean {
  const empty = (f: FieldSet) => f.values().length === 0;
  if (empty(s.minute) || empty(s.hour) || empty(s.month)) return true;
  const dom = empty(s.dayOfMonth);
  const dow = empty(s.dayOfWeek);
  return s.dayOfMonth.star || s.dayOfWeek.star ? dom || dow : dom && dow;
}

/**
 * The field-by-field search: settle the month, then the day, hour, minute and second, each by
 * stepping forward; a step that carries into the field above starts again from the month. The
 * first step resets the smaller fields to their beginning. Steps are those of Go's `time`
 * (`AddDate` on the wall clock, `Add` on the instant) so DST shifts land where upstream's do.
 */
function nextCron(s: CronSchedule, start: number, zone: Zone): number | null {
  let t = start;
  let w = zone.wall(t);
  let steps = 0;
  const set = (ms: number) => {
    t = ms;
    w = zone.wall(t);
    steps++;
  };
  const yearLimit = w.year + YEARS_AHEAD;
  let reset = false;
  wrap: while (steps < MAX_STEPS) {
    if (w.year > yearLimit) return null;
    while (!s.month.has(w.month)) {
      if (!reset) {
        reset = true;
        set(zone.date(w.year, w.month, 1, 0, 0, 0));
      }
      set(zone.date(w.year, w.month + 1, w.day, w.hour, w.minute, w.second));
      if (w.month === 1) continue wrap;
    }
    while (!dayMatches(s, w.day, w.weekday)) {
      if (!reset) {
        reset = true;
        set(zone.date(w.year, w.month, w.day, 0, 0, 0));
      }
      const before = t;
      set(zone.date(w.year, w.month, w.day + 1, w.hour, w.minute, w.second));
      // A midnight skipped or doubled by DST leaves the hour off zero: move back to the day's start.
      if (w.hour !== 0) set(t + (w.hour > 12 ? 24 - w.hour : -w.hour) * HOUR);
      // A whole day skipped (Apia, 30 December 2011) maps back onto the same midnight; upstream
      // loops there for ever, this steps a day of elapsed time instead.
      if (t <= before) set(before + 24 * HOUR);
      if (w.day === 1 || steps >= MAX_STEPS) continue wrap;
    }
    while (!s.hour.has(w.hour)) {
      if (!reset) {
        reset = true;
        set(zone.date(w.year, w.month, w.day, w.hour, 0, 0));
      }
      set(t + HOUR);
      if (w.hour === 0) continue wrap;
    }
    while (!s.minute.has(w.minute)) {
      if (!reset) {
        reset = true;
        set(Math.floor(t / MINUTE) * MINUTE);
      }
      set(t + MINUTE);
      if (w.minute === 0) continue wrap;
    }
    while (w.second !== 0) {
      if (!reset) {
        reset = true;
        set(Math.floor(t / SECOND) * SECOND);
      }
      set(t + SECOND);
      if (w.second === 0) continue wrap;
    }
    return t;
  }
  return null;
}

function dayMatches(s: CronSchedule, day: number, weekday: number): boolean {
  const dom = s.dayOfMonth.has(day);
  const dow = s.dayOfWeek.has(weekday);
  return s.dayOfMonth.star || s.dayOfWeek.star ? dom && dow : dom || dow;
}

// ---------------------------------------------------------------------------------------------
// The controller's helpers

/** The requeue padding upstream adds to the time until the next activation (NTP skew). */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** Upstream's warning once more than this many activations were missed. */
export const MAX_MISSED_SCHEDULES = 100;
/** The message of upstream's `TooManyMissedTimes` warning event. */
export const TOO_MANY_MISSED_MESSAGE =
  "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";

/** The parts of a CronJob the schedule helpers read. */
export interface CronJobTimes {
  /** `metadata.creationTimestamp`. */
  creationTimestamp: Date | string;
  /** `status.lastScheduleTime`. */
  lastScheduleTime?: Date | string | null;
  /** `spec.startingDeadlineSeconds`. */
  startingDeadlineSeconds?: number | null;
}

export interface ScheduleTimeOptions {
  /** `spec.timeZone`; a `TZ=` in the schedule wins. Default: the controller's zone, UTC. */
  timeZone?: string | null;
  /** Whether `startingDeadlineSeconds` moves the earliest time up to `now − deadline`. Default: true. */
  includeStartingDeadlineSeconds?: boolean;
}

export type MissedSchedules = "none" | "few" | "many";

export interface MostRecentScheduleTime {
  /** `lastScheduleTime`, else `creationTimestamp`, moved up to `now − startingDeadlineSeconds`. */
  earliest: Date;
  /** The latest activation after `earliest` and not after `now`, or null. */
  mostRecent: Date | null;
  /** Upstream's estimate of the activations since `earliest`, from the first two intervals. */
  missedCount: number;
  /** `many` past MAX_MISSED_SCHEDULES, `few` when any, else `none`. */
  missed: MissedSchedules;
  /** Set when the schedule yields no two distinct activations (say `0 0 30 2 *`). */
  error?: string;
}

const toMillis = (t: Date | string) => (t instanceof Date ? t.getTime() : new Date(t).getTime());

/**
 * Upstream's `mostRecentScheduleTime`: from the earliest time that counts, take the first two
 * activations t1 and t2; if `now` is before t1 nothing is due, before t2 t1 is. Otherwise estimate
 * the missed count as `(now − t1) / (t2 − t1) + 1`, jump to about two intervals before `now`, and
 * step forward to the latest activation not after `now` (none, if the jump overshot one on an
 * irregular schedule, as upstream's does).
 */
export function mostRecentScheduleTime(
  cronJob: CronJobTimes,
  schedule: Schedule,
  now: Date,
  options: ScheduleTimeOptions = {},
): MostRecentScheduleTime {
  const nowMs = now.getTime();
  let earliestMs = toMillis(cronJob.lastScheduleTime ?? cronJob.creationTimestamp);
  const deadline = cronJob.startingDeadlineSeconds;
  if ((options.includeStartingDeadlineSeconds ?? true) && deadline !== undefined && deadline !== null) {
    earliestMs = Math.max(earliestMs, nowMs - deadline * SECOND);
  }
  const earliest = new Date(earliestMs);
  const none = { earliest, mostRecent: null, missedCount: 0, missed: "none" as const };
  const after = (t: Date) => next(schedule, t, options.timeZone);

  const t1 = after(earliest);
  if (t1 !== null && nowMs < t1.getTime()) return none;
  const t2 = t1 === null ? null : after(t1);
  if (t1 !== null && t2 !== null && nowMs < t2.getTime()) return { ...none, mostRecent: t1 };
  const interval = t1 === null || t2 === null ? 0 : Math.round((t2.getTime() - t1.getTime()) / SECOND);
  if (t1 === null || interval < 1) {
    return { ...none, error: "time difference between two schedules is less than 1 second" };
  }
  const elapsed = Math.trunc((nowMs - t1.getTime()) / SECOND);
  const missedCount = Math.floor(elapsed / interval) + 1;
  let mostRecent: Date | null = null;
  const jump = new Date(t1.getTime() + (missedCount - 2) * interval * SECOND);
  for (let t = after(jump); t !== null && t.getTime() <= nowMs; t = after(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > MAX_MISSED_SCHEDULES ? "many" : "few";
  return { earliest, mostRecent, missedCount, missed };
}

export interface NextScheduleTime {
  /** The activation to start a Job for now, or null when none is due. */
  scheduled: Date | null;
  /** Upstream then records a `TooManyMissedTimes` warning (TOO_MANY_MISSED_MESSAGE). */
  tooManyMissed: boolean;
  error?: string;
}

/**
 * Upstream's `nextScheduleTime`: the most recent due activation (with the starting deadline
 * applied), or null. The caller still refuses it as too late when
 * `scheduled + startingDeadlineSeconds < now`.
 */
export function nextScheduleTime(
  cronJob: CronJobTimes,
  schedule: Schedule,
  now: Date,
  options: Pick<ScheduleTimeOptions, "timeZone"> = {},
): NextScheduleTime {
  const r = mostRecentScheduleTime(cronJob, schedule, now, {
    ...options,
    includeStartingDeadlineSeconds: true,
  });
  const error = r.error === undefined ? {} : { error: r.error };
  if (r.mostRecent === null || r.mostRecent.getTime() > now.getTime()) {
    return { scheduled: null, tooManyMissed: false, ...error };
  }
  return { scheduled: r.mostRecent, tooManyMissed: r.missed === "many", ...error };
}

/**
 * Upstream's `nextScheduleTimeDuration`: milliseconds from `now` until the activation after the
 * most recent one (ignoring the starting deadline), plus NEXT_SCHEDULE_DELTA_MS. With missed
 * activations but none found, or a schedule error, it counts from `now`. Null when the schedule
 * has no further activation within five years (upstream would requeue at once).
 */
export function nextScheduleTimeDuration(
  cronJob: CronJobTimes,
  schedule: Schedule,
  now: Date,
  options: Pick<ScheduleTimeOptions, "timeZone"> = {},
): number | null {
  const r = mostRecentScheduleTime(cronJob, schedule, now, {
    ...options,
    includeStartingDeadlineSeconds: false,
  });
  let from = r.mostRecent;
  if (r.error !== undefined) from = now;
  else if (from === null) from = r.missed === "none" ? r.earliest : now;
  const t = next(schedule, from, options.timeZone);
  return t === null ? null : t.getTime() + NEXT_SCHEDULE_DELTA_MS - now.getTime();
}
