import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  countIndexes,
  firstPendingIndexes,
  formatIndexes,
  generateNameWithIndex,
  hasIndex,
  mergeIntervals,
  parseIndexes,
  withIndexes,
} from "./indexes.ts";

test("formatIndexes writes runs with a dash and pairs with a comma, as status.completedIndexes", () => {
  assert.is(formatIndexes(withIndexes([], [0, 1, 2, 4, 6, 7, 9])), "0-2,4,6,7,9");
  assert.is(formatIndexes([]), "");
});

test("parseIndexes reads what formatIndexes writes, drops what lies beyond completions, skips garbage", () => {
  assert.equal(parseIndexes("0-2,4,6,7", 10), [{ first: 0, last: 2 }, { first: 4, last: 4 }, {
    first: 6,
    last: 7,
  }]);
  assert.equal(parseIndexes("1-5,8", 4), [{ first: 1, last: 3 }]);
  assert.equal(parseIndexes("x,2,3", 10), [{ first: 2, last: 3 }]);
  assert.equal(parseIndexes("", 3), []);
});

test("mergeIntervals joins overlapping and adjacent intervals; hasIndex and countIndexes", () => {
  const merged = mergeIntervals(parseIndexes("0-2,8", 20), parseIndexes("3,5-9", 20));
  assert.is(formatIndexes(merged), "0-3,5-9");
  assert.is(countIndexes(merged), 9);
  assert.ok(hasIndex(merged, 3) && hasIndex(merged, 9) && !hasIndex(merged, 4) && !hasIndex(merged, 10));
});

test("firstPendingIndexes skips taken ones and stops at completions", () => {
  assert.equal(firstPendingIndexes(parseIndexes("0,2-3", 10), 3, 10), [1, 4, 5]);
  assert.equal(firstPendingIndexes(parseIndexes("0-1", 3), 5, 3), [2]);
  assert.equal(firstPendingIndexes([], 0, 3), []);
});

test("generateNameWithIndex shortens the Job name so the generated name fits", () => {
  assert.is(generateNameWithIndex("pi", 3), "pi-3-");
  const long = generateNameWithIndex("x".repeat(70), 12);
  assert.is(long.length, 58);
  assert.ok(long.endsWith("x-12-"));
});

test.run();
