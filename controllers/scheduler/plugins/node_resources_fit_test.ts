import { test } from "uvu";
import * as assert from "uvu/assert";
import { Code } from "../status.ts";
import { runFilter, runScore, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { leastRequestedScore, nodeResourcesFit } from "./node_resources_fit.ts";

test("nodeResourcesFit reports every insufficient resource in upstream's order", () => {
  const snapshot = snapshotOf(
    [
      makeNode("big").capacity({ cpu: "4", memory: "4Gi", pods: "10" }).obj(),
      makeNode("full").capacity({ cpu: "1", memory: "1Gi", pods: "1", "example.com/gpu": "1" }).obj(),
    ],
    [makePod("x").node("full").req({ cpu: "500m", memory: "512Mi" }).obj()],
  );
  const pod = makePod("p").req({ cpu: "1", memory: "1Gi", "example.com/gpu": "1" }).obj();
  const out = runFilter(nodeResourcesFit, pod, snapshot);
  assert.equal(out.nodes, {
    big: "Insufficient example.com/gpu",
    full: "Too many pods, Insufficient cpu, Insufficient memory",
  });
  // The node lacks the gpu entirely: preemption cannot help there.
  assert.is(out.codes.big, Code.UnschedulableAndUnresolvable);
  assert.is(out.codes.full, Code.Unschedulable);
});

test("nodeResourcesFit marks requests larger than the whole node unresolvable", () => {
  const snapshot = snapshotOf([makeNode("n").capacity({ cpu: "2", memory: "4Gi", pods: "10" }).obj()]);
  const out = runFilter(nodeResourcesFit, makePod("p").req({ cpu: "3" }).obj(), snapshot);
  assert.equal(out.nodes, { n: "Insufficient cpu" });
  assert.is(out.codes.n, Code.UnschedulableAndUnresolvable);
});

test("nodeResourcesFit lets a pod without requests onto a full node while a pod slot is free", () => {
  const snapshot = snapshotOf(
    [makeNode("n").capacity({ cpu: "1", memory: "1Gi", pods: "3" }).obj()],
    [makePod("x").node("n").req({ cpu: "1", memory: "1Gi" }).obj()],
  );
  assert.equal(runFilter(nodeResourcesFit, makePod("p").req().obj(), snapshot).nodes, { n: null });
});

test("leastRequestedScore is the free share, 0 when over capacity", () => {
  assert.is(leastRequestedScore(3000, 4000), 25);
  assert.is(leastRequestedScore(0, 4000), 100);
  assert.is(leastRequestedScore(5000, 4000), 0);
  assert.is(leastRequestedScore(1, 0), 0);
});

test("nodeResourcesFit LeastAllocated score averages cpu and memory over non-zero requests", () => {
  // Upstream's "differently sized nodes" case: pod 3000m / 5000, nodes 4000m/10000 and 6000m/10000.
  const snapshot = snapshotOf([
    makeNode("n1").capacity({ cpu: "4", memory: "10000", pods: "110" }).obj(),
    makeNode("n2").capacity({ cpu: "6", memory: "10000", pods: "110" }).obj(),
  ]);
  const pod = makePod("p").req({ cpu: "1", memory: "2000" }).req({ cpu: "2", memory: "3000" }).obj();
  assert.equal(runScore(nodeResourcesFit, pod, snapshot), { n1: 37, n2: 50 });
  // No requests: 100m and 200Mi are assumed.
  const big = snapshotOf([makeNode("n").capacity({ cpu: "1", memory: "1Gi", pods: "110" }).obj()]);
  assert.equal(runScore(nodeResourcesFit, makePod("q").req().obj(), big), { n: Math.trunc((90 + 80) / 2) });
});

test.run();
