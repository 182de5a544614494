import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScore, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { balancedAllocation, balancedResourceScore } from "./balanced_allocation.ts";

test("balancedResourceScore is 100 × (1 − std of the used fractions)", () => {
  assert.is(balancedResourceScore([3000, 5000], [4000, 10000]), 87);
  assert.is(balancedResourceScore([3000, 5000], [6000, 10000]), 100);
  assert.is(balancedResourceScore([8000, 0], [4000, 10000]), 50, "fractions are capped at 1");
  assert.is(balancedResourceScore([1, 2, 3], [0, 0, 0]), 100);
  // Three resources: the population standard deviation.
  assert.is(balancedResourceScore([1, 2, 3], [4, 4, 4]), Math.trunc((1 - Math.sqrt(1 / 24)) * 100));
});

test("balancedAllocation scores nodes by the balance after placing the pod", () => {
  const snapshot = snapshotOf(
    [
      makeNode("n1").capacity({ cpu: "4", memory: "10000", pods: "110" }).obj(),
      makeNode("n2").capacity({ cpu: "6", memory: "10000", pods: "110" }).obj(),
    ],
    [makePod("x").node("n2").req({ cpu: "1" }).obj()],
  );
  const pod = makePod("p").req({ cpu: "3", memory: "5000" }).obj();
  // n1: 3/4 vs 5000/10000 → 87; n2: 4/6 vs 5000/10000 → 91.
  assert.equal(runScore(balancedAllocation, pod, snapshot), { n1: 87, n2: 91 });
});

test("balancedAllocation does not score best-effort pods", () => {
  const snapshot = snapshotOf([makeNode("n").obj()]);
  assert.is(runScore(balancedAllocation, makePod("p").req().obj(), snapshot), "skip");
});

test.run();
