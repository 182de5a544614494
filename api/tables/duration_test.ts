import { test } from "uvu";
import * as assert from "uvu/assert";
import { age, humanDuration, rfc3339 } from "./duration.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

test("humanDuration: seconds below two minutes, and the clock-skew tolerance", () => {
  assert.is(humanDuration(0), "0s");
  assert.is(humanDuration(999), "0s");
  assert.is(humanDuration(-1500), "0s");
  assert.is(humanDuration(-2000), "<invalid>");
  assert.is(humanDuration(59 * S), "59s");
  assert.is(humanDuration(119 * S + 999), "119s");
});

test("humanDuration: minutes with seconds below ten minutes, whole minutes below three hours", () => {
  assert.is(humanDuration(2 * M), "2m");
  assert.is(humanDuration(3 * M + 20 * S), "3m20s");
  assert.is(humanDuration(9 * M + 59 * S), "9m59s");
  assert.is(humanDuration(10 * M + 30 * S), "10m");
  assert.is(humanDuration(3 * H - S), "179m");
});

test("humanDuration: hours, days and years", () => {
  assert.is(humanDuration(3 * H), "3h");
  assert.is(humanDuration(5 * H + 30 * M), "5h30m");
  assert.is(humanDuration(8 * H + 30 * M), "8h");
  assert.is(humanDuration(47 * H + 59 * M), "47h");
  assert.is(humanDuration(2 * D), "2d");
  assert.is(humanDuration(2 * D + 5 * H), "2d5h");
  assert.is(humanDuration(8 * D - 1), "7d23h");
  assert.is(humanDuration(8 * D), "8d");
  assert.is(humanDuration(729 * D), "729d");
  assert.is(humanDuration(2 * Y), "2y");
  assert.is(humanDuration(2 * Y + 70 * D), "2y70d");
  assert.is(humanDuration(8 * Y + 100 * D), "8y");
});

test("age reads timestamps and says <unknown> without one; rfc3339 drops fractions", () => {
  const now = Date.parse("2025-01-01T12:00:00Z");
  assert.is(age("2025-01-01T11:55:00Z", now), "5m");
  assert.is(age(undefined, now), "<unknown>");
  assert.is(age("not a time", now), "<unknown>");
  assert.is(rfc3339("2025-01-01T12:00:00.123456Z"), "2025-01-01T12:00:00Z");
});

test.run();
