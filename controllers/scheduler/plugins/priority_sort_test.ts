import { test } from "uvu";
import * as assert from "uvu/assert";
import { makePod } from "../testing/wrappers.ts";
import { prioritySortCompare, prioritySortLess } from "./priority_sort.ts";

test("prioritySortLess orders by priority, then by queue time", () => {
  const high = { pod: makePod("high").priority(1000).obj(), timestamp: 5 };
  const lowEarly = { pod: makePod("low-early").obj(), timestamp: 1 };
  const lowLate = { pod: makePod("low-late").priority(0).obj(), timestamp: 2 };
  assert.ok(prioritySortLess(high, lowEarly));
  assert.ok(prioritySortLess(lowEarly, lowLate));
  assert.not.ok(prioritySortLess(lowLate, lowEarly));
  const order = [lowLate, high, lowEarly].sort(prioritySortCompare).map((q) => q.pod.metadata!.name);
  assert.equal(order, ["high", "low-early", "low-late"]);
});

test.run();
