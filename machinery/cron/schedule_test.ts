import { test } from "uvu";
import * as assert from "uvu/assert";
import { fieldErrorString } from "../status.ts";
import {
  mostRecentScheduleTime,
  next,
  nextScheduleTime,
  nextScheduleTimeDuration,
  parseSchedule,
  type Schedule,
  ScheduleError,
  validateSchedule,
  validateTimeZone,
  validTimeZone,
} from "./schedule.ts";

function parsed(spec: string): Schedule {
  const s = parseSchedule(spec);
  if (s instanceof ScheduleError) throw new Error(`${spec}: ${s.message}`);
  return s;
}

function cron(spec: string) {
  const s = parsed(spec);
  if (s.kind !== "cron") throw new Error(`${spec} is not a cron schedule`);
  return s;
}

/** The activations after `from`, as ISO strings in UTC. */
function runs(spec: string, from: string, count: number, timeZone?: string): string[] {
  const s = parsed(spec);
  const out: string[] = [];
  let t: Date | null = new Date(from);
  for (let i = 0; i < count && t; i++) {
    t = next(s, t, timeZone);
    out.push(t ? t.toISOString().replace(".000Z", "Z") : "none");
  }
  return out;
}

const at = (iso: string) => new Date(iso);

// ---------------------------------------------------------------------------------------------
// parseSchedule

test("parseSchedule reads lists, ranges, steps and names into field sets", () => {
  const s = cron("5/15 1-10/2 1,15,31 JAN,jul-Sep mon-FRI");
  assert.equal(s.minute.values(), [5, 20, 35, 50]);
  assert.equal(s.hour.values(), [1, 3, 5, 7, 9]);
  assert.equal(s.dayOfMonth.values(), [1, 15, 31]);
  assert.equal(s.month.values(), [1, 7, 8, 9]);
  assert.equal(s.dayOfWeek.values(), [1, 2, 3, 4, 5]);
  assert.equal(cron("*/20 * * * *").minute.values(), [0, 20, 40]);
  assert.equal(cron("? ? ? ? ?").dayOfWeek.values(), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(cron("0 0 * * sun").dayOfWeek.values(), [0]);
  assert.equal(cron("0 0 * * 0-6/3").dayOfWeek.values(), [0, 3, 6]);
  assert.equal(cron("0,,5, * * * *").minute.values(), [0, 5], "empty list items are skipped");
});

test("parseSchedule marks `*` and `?` (not `*/n` with n > 1) for the day-of-month/day-of-week rule", () => {
  assert.ok(cron("0 0 * * 1").dayOfMonth.star);
  assert.ok(cron("0 0 ? * 1").dayOfMonth.star);
  assert.ok(cron("0 0 */1 * 1").dayOfMonth.star);
  assert.not.ok(cron("0 0 */5 * 1").dayOfMonth.star);
  assert.not.ok(cron("0 0 1-31 * 1").dayOfMonth.star);
});

test("parseSchedule accepts the descriptors, @every and a TZ= prefix", () => {
  const hourly = cron("@hourly");
  assert.equal(hourly.minute.values(), [0]);
  assert.equal(hourly.hour.values().length, 24);
  assert.equal(cron("@weekly").dayOfWeek.values(), [0]);
  for (const d of ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]) {
    assert.is(parsed(d).kind, "cron", d);
  }
  assert.equal(parsed("@every 1h30m"), { kind: "every", seconds: 5400, timeZone: undefined });
  assert.equal(parsed("@every 1.5s"), { kind: "every", seconds: 1, timeZone: undefined }, "whole seconds");
  assert.equal(parsed("@every 300ms"), { kind: "every", seconds: 1, timeZone: undefined }, "at least 1s");
  assert.is(cron("TZ=America/New_York 0 9 * * *").timeZone, "America/New_York");
  assert.is(cron("CRON_TZ=Asia/Kolkata   @daily").timeZone, "Asia/Kolkata");
  assert.is(cron("TZ=UTC 0 9 * * *").timeZone, "UTC");
  assert.is(cron("TZ=Local 0 9 * * *").timeZone, undefined, "Local is the controller's zone");
});

test("parseSchedule refuses bad schedules with upstream's messages", () => {
  const cases: Array<[string, string]> = [
    ["", "empty spec string"],
    ["* * *", "expected exactly 5 fields, found 3: [* * *]"],
    ["0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"],
    ["   ", "expected exactly 5 fields, found 0: []"],
    ["61 * * * *", "end of range (61) above maximum (59): 61"],
    ["* 24 * * *", "end of range (24) above maximum (23): 24"],
    ["0 0 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["0 0 * 13 *", "end of range (13) above maximum (12): 13"],
    ["0 0 * * 7", "end of range (7) above maximum (6): 7"],
    ["0 0 * * 5-7", "end of range (7) above maximum (6): 5-7"],
    ["5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["*/-1 * * * *", "negative number (-1) not allowed: -1"],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
    ["1/2/3 * * * *", "too many slashes: 1/2/3"],
    ["a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'],
    ["MON * * * *", 'failed to parse int from MON: strconv.Atoi: parsing "MON": invalid syntax'],
    ["0 0 * * monday", 'failed to parse int from monday: strconv.Atoi: parsing "monday": invalid syntax'],
    ["-5 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'],
    [
      "99999999999999999999 * * * *",
      'failed to parse int from 99999999999999999999: strconv.Atoi: parsing "99999999999999999999": value out of range',
    ],
    ["@every", "unrecognized descriptor: @every"],
    ["@daily ", "unrecognized descriptor: @daily "],
    ["@reboot", "unrecognized descriptor: @reboot"],
    ["@every 1d", 'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"'],
    ["@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ["@every x", 'failed to parse duration @every x: time: invalid duration "x"'],
    ["TZ=Mars/Olympus 0 0 * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"],
    ["TZ=../etc 0 0 * * *", "provided bad location ../etc: time: invalid location name"],
  ];
  for (const [spec, message] of cases) {
    const r = parseSchedule(spec);
    assert.instance(r, ScheduleError, spec);
    assert.is((r as ScheduleError).message, message, spec);
  }
});

// ---------------------------------------------------------------------------------------------
// validateSchedule, validateTimeZone

test("validateSchedule reports as kube-apiserver does, TZ= refused on create", () => {
  const shown = (schedule: string, options = {}) => validateSchedule(schedule, options).map(fieldErrorString);
  assert.equal(shown(""), ["spec.schedule: Required value"]);
  assert.equal(shown("*/5 * * * *"), []);
  assert.equal(shown("@every 2h"), []);
  assert.equal(shown("x"), ['spec.schedule: Invalid value: "x": expected exactly 5 fields, found 1: [x]']);
  assert.equal(shown("TZ=UTC * * * * *"), [
    'spec.schedule: Invalid value: "TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
  ]);
  assert.equal(shown("CRON_TZ=Bad/Zone 0 * * * *"), [
    'spec.schedule: Invalid value: "CRON_TZ=Bad/Zone 0 * * * *": provided bad location Bad/Zone: unknown time zone Bad/Zone',
    'spec.schedule: Invalid value: "CRON_TZ=Bad/Zone 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
  ]);
});

test("validateSchedule lets an object that had TZ= keep it, but not beside spec.timeZone", () => {
  const old = "TZ=UTC 0 * * * *";
  assert.equal(validateSchedule("TZ=UTC 5 * * * *", { oldSchedule: old }), []);
  assert.equal(
    validateSchedule("TZ=UTC 5 * * * *", { oldSchedule: old, timeZone: "UTC" }).map((e) => e.detail),
    [
      "cannot use both timeZone field and TZ or CRON_TZ in schedule",
    ],
  );
  assert.equal(validateSchedule("TZ=UTC 5 * * * *", { oldSchedule: "0 * * * *" }).map((e) => e.detail), [
    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
  ]);
});

test("validateTimeZone accepts tz database names, aliases included", () => {
  for (
    const tz of [
      "America/New_York",
      "Asia/Kolkata",
      "Asia/Calcutta",
      "US/Eastern",
      "UTC",
      "Etc/GMT+5",
      "EST5EDT",
    ]
  ) {
    assert.equal(validateTimeZone(tz), [], tz);
    assert.ok(validTimeZone(tz), tz);
  }
  assert.equal(validateTimeZone(undefined), []);
  assert.equal(validateTimeZone(null), []);
});

test("validateTimeZone refuses with kube-apiserver's messages", () => {
  const shown = (tz: string) => validateTimeZone(tz).map(fieldErrorString);
  assert.equal(shown("Europe/Pariss"), [
    'spec.timeZone: Invalid value: "Europe/Pariss": unknown time zone Europe/Pariss',
  ]);
  assert.equal(shown(""), ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string']);
  assert.equal(shown("Local"), [
    'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
  ]);
  assert.equal(shown("+05:30"), ['spec.timeZone: Invalid value: "+05:30": unknown time zone +05:30']);
  assert.equal(shown("America/New_York/x"), [
    'spec.timeZone: Invalid value: "America/New_York/x": not a directory',
  ]);
  for (
    const tz of ["+0530", "America//New_York", "a/../b", "-Foo", "Too_Long_Zone_Name/X", "Europe/Paris "]
  ) {
    assert.equal(validateTimeZone(tz).map((e) => e.detail), [`unknown time zone ${tz}`], tz);
    assert.not.ok(validTimeZone(tz), tz);
  }
});

test("validateTimeZone is case-sensitive, as a file name is, where Temporal can tell", () => {
  if (!("Temporal" in globalThis)) return;
  assert.equal(validateTimeZone("america/new_york").map((e) => e.detail), [
    "unknown time zone america/new_york",
  ]);
  assert.equal(validateTimeZone("utc").map((e) => e.detail), ["unknown time zone utc"]);
  assert.equal(validateTimeZone("local").map((e) => e.detail), [
    "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
    "unknown time zone local",
  ]);
});

// ---------------------------------------------------------------------------------------------
// next

test("next is strictly after, from the next whole second", () => {
  assert.equal(runs("* * * * *", "2024-05-01T10:00:00Z", 1), ["2024-05-01T10:01:00Z"]);
  assert.equal(runs("* * * * *", "2024-05-01T10:00:59.999Z", 1), ["2024-05-01T10:01:00Z"]);
  assert.equal(runs("*/20 * * * *", "2024-05-01T10:05:00Z", 3), [
    "2024-05-01T10:20:00Z",
    "2024-05-01T10:40:00Z",
    "2024-05-01T11:00:00Z",
  ]);
  assert.equal(runs("5/15 * * * *", "2024-05-01T10:51:00Z", 2), [
    "2024-05-01T11:05:00Z",
    "2024-05-01T11:20:00Z",
  ]);
});

test("next crosses month and year ends, skipping months without the day", () => {
  assert.equal(runs("0 0 31 * *", "2024-01-31T00:00:00Z", 3), [
    "2024-03-31T00:00:00Z",
    "2024-05-31T00:00:00Z",
    "2024-07-31T00:00:00Z",
  ]);
  assert.equal(runs("0 0 1 * *", "2024-12-15T08:00:00Z", 2), [
    "2025-01-01T00:00:00Z",
    "2025-02-01T00:00:00Z",
  ]);
  assert.equal(runs("@yearly", "2024-06-01T00:00:00Z", 1), ["2025-01-01T00:00:00Z"]);
  assert.equal(runs("59 23 31 12 *", "2024-12-31T23:59:00Z", 1), ["2025-12-31T23:59:00Z"]);
});

test("next finds leap days, and none beyond five years", () => {
  assert.equal(runs("0 0 29 2 *", "2023-01-01T00:00:00Z", 3), [
    "2024-02-29T00:00:00Z",
    "2028-02-29T00:00:00Z",
    "2032-02-29T00:00:00Z",
  ]);
  // 2100 is no leap year, and 2104 is past the five-year horizon from 2096.
  assert.equal(runs("0 0 29 2 *", "2096-03-01T00:00:00Z", 1), ["none"]);
  assert.equal(runs("0 0 30 2 *", "2024-01-01T00:00:00Z", 1), ["none"]);
  assert.equal(runs(", * * * *", "2024-01-01T00:00:00Z", 1), ["none"]);
});

test("next ORs day-of-month and day-of-week when both are restricted, ANDs otherwise", () => {
  // 2024-09-01 is a Sunday; the 13th is a Friday.
  assert.equal(runs("0 0 13 * 5", "2024-09-01T00:00:00Z", 4), [
    "2024-09-06T00:00:00Z",
    "2024-09-13T00:00:00Z",
    "2024-09-20T00:00:00Z",
    "2024-09-27T00:00:00Z",
  ]);
  assert.equal(runs("0 0 * * 5", "2024-09-01T00:00:00Z", 2), [
    "2024-09-06T00:00:00Z",
    "2024-09-13T00:00:00Z",
  ]);
  assert.equal(runs("0 0 13 * *", "2024-09-01T00:00:00Z", 2), [
    "2024-09-13T00:00:00Z",
    "2024-10-13T00:00:00Z",
  ]);
  // `*/5` is a restriction: days 1, 6, 11, … or Mondays.
  assert.equal(runs("0 0 */5 * mon", "2024-09-01T00:00:00Z", 4), [
    "2024-09-02T00:00:00Z",
    "2024-09-06T00:00:00Z",
    "2024-09-09T00:00:00Z",
    "2024-09-11T00:00:00Z",
  ]);
  assert.equal(runs("0 12 * JAN,jul Mon", "2024-06-01T00:00:00Z", 2), [
    "2024-07-01T12:00:00Z",
    "2024-07-08T12:00:00Z",
  ]);
  assert.equal(runs("@weekly", "2024-09-01T00:00:00Z", 1), ["2024-09-08T00:00:00Z"]);
});

test("next of @every adds the interval to the whole second", () => {
  assert.equal(runs("@every 90s", "2024-05-01T10:00:00.500Z", 2), [
    "2024-05-01T10:01:30Z",
    "2024-05-01T10:03:00Z",
  ]);
});

test("next reads the schedule in the given zone, UTC by default, a TZ= prefix first", () => {
  assert.equal(runs("0 9 * * *", "2024-06-01T00:00:00Z", 1), ["2024-06-01T09:00:00Z"]);
  assert.equal(runs("0 9 * * *", "2024-06-01T00:00:00Z", 2, "Asia/Kolkata"), [
    "2024-06-01T03:30:00Z",
    "2024-06-02T03:30:00Z",
  ]);
  assert.equal(runs("*/45 * * * *", "2024-06-01T00:00:00Z", 2, "Asia/Kolkata"), [
    "2024-06-01T00:15:00Z", // 05:45 IST
    "2024-06-01T00:30:00Z", // 06:00 IST
  ]);
  assert.equal(runs("TZ=Asia/Kolkata 0 9 * * *", "2024-06-01T00:00:00Z", 1, "America/New_York"), [
    "2024-06-01T03:30:00Z",
  ]);
  assert.throws(() => next(parsed("0 9 * * *"), at("2024-06-01T00:00:00Z"), "Mars/Olympus"), RangeError);
});

test("next skips a wall-clock time that a spring-forward removes (America/New_York)", () => {
  // 2024-03-10: 02:00 EST becomes 03:00 EDT; 02:30 does not exist that day.
  assert.equal(runs("30 2 * * *", "2024-03-09T17:00:00Z", 2, "America/New_York"), [
    "2024-03-11T06:30:00Z",
    "2024-03-12T06:30:00Z",
  ]);
  assert.equal(runs("0 * * * *", "2024-03-10T05:00:00Z", 2, "America/New_York"), [
    "2024-03-10T06:00:00Z", // 01:00 EST
    "2024-03-10T07:00:00Z", // 03:00 EDT
  ]);
  assert.equal(runs("0 0 * * *", "2024-03-09T12:00:00Z", 2, "America/New_York"), [
    "2024-03-10T05:00:00Z",
    "2024-03-11T04:00:00Z",
  ]);
  assert.equal(runs("30 2 * * *", "2024-03-30T12:00:00Z", 1, "Europe/Berlin"), ["2024-04-01T00:30:00Z"]);
});

test("next runs a wall-clock time that a fall-back repeats twice (America/New_York)", () => {
  // 2024-11-03: 02:00 EDT becomes 01:00 EST; 01:30 happens twice.
  assert.equal(runs("30 1 * * *", "2024-11-03T04:00:00Z", 3, "America/New_York"), [
    "2024-11-03T05:30:00Z", // 01:30 EDT
    "2024-11-03T06:30:00Z", // 01:30 EST
    "2024-11-04T06:30:00Z",
  ]);
  assert.equal(runs("0 * * * *", "2024-11-03T04:30:00Z", 3, "America/New_York"), [
    "2024-11-03T05:00:00Z", // 01:00 EDT
    "2024-11-03T06:00:00Z", // 01:00 EST
    "2024-11-03T07:00:00Z", // 02:00 EST
  ]);
  assert.equal(runs("30 2 * * *", "2024-10-26T12:00:00Z", 2, "Europe/Berlin"), [
    "2024-10-27T00:30:00Z",
    "2024-10-27T01:30:00Z",
  ]);
});

test("next gets past a calendar day the zone skipped (Pacific/Apia, 30 December 2011)", () => {
  assert.equal(runs("0 12 30,31 12 *", "2011-12-29T10:00:00Z", 1, "Pacific/Apia"), ["2011-12-30T22:00:00Z"]);
});

test("next is fast enough to call on every sync", () => {
  const schedules = ["*/5 * * * *", "0 9 * * 1-5", "0 0 29 2 *", "0 0 30 2 *", "30 2 * * *"].map(parsed);
  const start = performance.now();
  let calls = 0;
  for (const zone of ["UTC", "America/New_York", "Asia/Kolkata"]) {
    for (const s of schedules) {
      for (let i = 0; i < 100; i++, calls++) next(s, new Date(Date.UTC(2024, 0, 1) + i * 7_777_777), zone);
    }
  }
  const perCall = (performance.now() - start) / calls;
  assert.ok(perCall < 2, `${perCall.toFixed(3)} ms a call`);
});

// ---------------------------------------------------------------------------------------------
// mostRecentScheduleTime, nextScheduleTime, nextScheduleTimeDuration

const every5 = parsed("*/5 * * * *");

test("mostRecentScheduleTime: nothing due before the first activation", () => {
  const r = mostRecentScheduleTime(
    { creationTimestamp: "2024-05-01T10:00:30Z" },
    every5,
    at("2024-05-01T10:03:00Z"),
  );
  assert.equal(r, { earliest: at("2024-05-01T10:00:30Z"), mostRecent: null, missedCount: 0, missed: "none" });
});

test("mostRecentScheduleTime: the one activation due, counted as none missed", () => {
  const r = mostRecentScheduleTime(
    { creationTimestamp: "2024-05-01T10:00:30Z" },
    every5,
    at("2024-05-01T10:05:10Z"),
  );
  assert.equal(r.mostRecent, at("2024-05-01T10:05:00Z"));
  assert.is(r.missed, "none");
});

test("mostRecentScheduleTime: several missed since lastScheduleTime, the latest returned", () => {
  const cj = { creationTimestamp: "2024-04-01T00:00:00Z", lastScheduleTime: "2024-05-01T10:00:00Z" };
  const r = mostRecentScheduleTime(cj, every5, at("2024-05-01T10:23:10Z"));
  assert.equal(r, {
    earliest: at("2024-05-01T10:00:00Z"),
    mostRecent: at("2024-05-01T10:20:00Z"),
    missedCount: 4,
    missed: "few",
  });
});

test("mostRecentScheduleTime: more than 100 missed is 'many'; startingDeadlineSeconds bounds the count", () => {
  const cj = { creationTimestamp: "2024-01-01T00:00:00Z", startingDeadlineSeconds: 200 };
  const minutely = parsed("* * * * *");
  const now = at("2024-01-01T02:00:30Z");
  const all = mostRecentScheduleTime(cj, minutely, now, { includeStartingDeadlineSeconds: false });
  assert.is(all.missed, "many");
  assert.is(all.missedCount, 120);
  assert.equal(all.mostRecent, at("2024-01-01T02:00:00Z"));
  const bounded = mostRecentScheduleTime(cj, minutely, now);
  assert.equal(bounded.earliest, at("2024-01-01T01:57:10Z"));
  assert.is(bounded.missed, "few");
  assert.is(bounded.missedCount, 3);
  assert.equal(bounded.mostRecent, at("2024-01-01T02:00:00Z"));
  const later = mostRecentScheduleTime(
    { ...cj, lastScheduleTime: "2024-01-01T01:59:50Z" },
    minutely,
    now,
  );
  assert.equal(later.earliest, at("2024-01-01T01:59:50Z"), "a later lastScheduleTime wins over the deadline");
});

test("mostRecentScheduleTime: an impossible schedule is an error", () => {
  const r = mostRecentScheduleTime(
    { creationTimestamp: "2024-01-01T00:00:00Z" },
    parsed("0 0 30 2 *"),
    at("2024-06-01T00:00:00Z"),
  );
  assert.is(r.error, "time difference between two schedules is less than 1 second");
  assert.is(r.mostRecent, null);
});

test("mostRecentScheduleTime: @every and time zones", () => {
  const hourly = mostRecentScheduleTime(
    { creationTimestamp: "2024-05-01T10:00:00Z" },
    parsed("@every 1h"),
    at("2024-05-01T13:30:00Z"),
  );
  assert.equal(hourly.mostRecent, at("2024-05-01T13:00:00Z"));
  assert.is(hourly.missed, "few");
  const kolkata = mostRecentScheduleTime(
    { creationTimestamp: "2024-06-01T00:00:00Z" },
    parsed("0 9 * * *"),
    at("2024-06-01T04:00:00Z"),
    { timeZone: "Asia/Kolkata" },
  );
  assert.equal(kolkata.mostRecent, at("2024-06-01T03:30:00Z"));
});

test("mostRecentScheduleTime: estimates from the first interval, as upstream, and can overshoot", () => {
  const weekdays = parsed("30 6-16/4 * * 1-5"); // 06:30, 10:30, 14:30 on weekdays
  // From Thursday 14:30 to Monday 06:00: Friday's three were missed, but the estimate (4h apart)
  // jumps past Friday 14:30 and finds nothing, as upstream's does.
  const r = mostRecentScheduleTime(
    { creationTimestamp: "2024-09-01T00:00:00Z", lastScheduleTime: "2024-09-05T14:30:00Z" },
    weekdays,
    at("2024-09-09T06:00:00Z"),
  );
  assert.equal(r, { earliest: at("2024-09-05T14:30:00Z"), mostRecent: null, missedCount: 18, missed: "few" });
  const monday = mostRecentScheduleTime(
    { creationTimestamp: "2024-09-01T00:00:00Z", lastScheduleTime: "2024-09-09T06:30:00Z" },
    weekdays,
    at("2024-09-09T11:00:00Z"),
  );
  assert.equal(monday.mostRecent, at("2024-09-09T10:30:00Z"));
});

test("nextScheduleTime returns the due activation and flags too many missed", () => {
  const minutely = parsed("* * * * *");
  const cj = { creationTimestamp: "2024-01-01T00:00:00Z" };
  assert.equal(nextScheduleTime(cj, minutely, at("2024-01-01T02:00:30Z")), {
    scheduled: at("2024-01-01T02:00:00Z"),
    tooManyMissed: true,
  });
  assert.equal(nextScheduleTime(cj, minutely, at("2024-01-01T00:00:30Z")), {
    scheduled: null,
    tooManyMissed: false,
  });
  assert.equal(nextScheduleTime(cj, minutely, at("2024-01-01T00:05:30Z")), {
    scheduled: at("2024-01-01T00:05:00Z"),
    tooManyMissed: false,
  });
});

test("nextScheduleTimeDuration is the time to the next activation plus 100ms", () => {
  const created = { creationTimestamp: "2024-05-01T10:00:30Z" };
  assert.is(nextScheduleTimeDuration(created, every5, at("2024-05-01T10:03:00Z")), 120_100);
  const ran = { ...created, lastScheduleTime: "2024-05-01T10:05:00Z", startingDeadlineSeconds: 10 };
  assert.is(nextScheduleTimeDuration(ran, every5, at("2024-05-01T10:05:01Z")), 299_100);
  const behind = { ...created, lastScheduleTime: "2024-05-01T10:00:00Z", startingDeadlineSeconds: 10 };
  assert.is(
    nextScheduleTimeDuration(behind, every5, at("2024-05-01T10:23:10Z")),
    110_100,
    "deadline ignored",
  );
  const impossible = nextScheduleTimeDuration(created, parsed("0 0 30 2 *"), at("2024-05-01T10:23:10Z"));
  assert.is(impossible, null);
  // Missed ones but none found (the overshoot above): counted from now, to Monday 06:30.
  const overshoot = nextScheduleTimeDuration(
    { creationTimestamp: "2024-09-01T00:00:00Z", lastScheduleTime: "2024-09-05T14:30:00Z" },
    parsed("30 6-16/4 * * 1-5"),
    at("2024-09-09T06:00:00Z"),
  );
  assert.is(overshoot, 30 * 60_000 + 100);
  const kolkata = nextScheduleTimeDuration(
    { creationTimestamp: "2024-06-01T00:00:00Z", lastScheduleTime: "2024-06-01T03:30:00Z" },
    parsed("0 9 * * *"),
    at("2024-06-01T04:00:00Z"),
    { timeZone: "Asia/Kolkata" },
  );
  assert.is(kolkata, 23.5 * 3_600_000 + 100);
});

test.run();
