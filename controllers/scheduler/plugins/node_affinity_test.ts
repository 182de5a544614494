import { test } from "uvu";
import * as assert from "uvu/assert";
import { Code } from "../status.ts";
import { runFilter, runScore, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { nodeAffinity } from "./node_affinity.ts";

const REASON = "node(s) didn't match Pod's node affinity/selector";

function nodes() {
  return snapshotOf([
    makeNode("a").zone("z1").label("disk", "ssd").label("cores", "8").obj(),
    makeNode("b").zone("z2").label("disk", "hdd").label("cores", "16").obj(),
    makeNode("c").zone("z3").obj(),
  ]);
}

test("nodeAffinity skips pods without a node selector or required affinity", () => {
  assert.is(runFilter(nodeAffinity, makePod("p").obj(), nodes()).preFilter?.code, Code.Skip);
});

test("nodeAffinity filter applies nodeSelector and required terms (ORed terms, ANDed expressions)", () => {
  const snapshot = nodes();
  const sel = runFilter(nodeAffinity, makePod("p").nodeSelector({ disk: "ssd" }).obj(), snapshot);
  assert.equal(sel.nodes, { a: null, b: REASON, c: REASON });
  assert.is(sel.codes.b, Code.UnschedulableAndUnresolvable);
  const ored = makePod("q").nodeAffinityIn("disk", ["hdd"]).nodeAffinityIn("topology.kubernetes.io/zone", [
    "z3",
  ]).obj();
  assert.equal(runFilter(nodeAffinity, ored, snapshot).nodes, { a: REASON, b: null, c: null });
  const both = makePod("r").nodeSelector({ disk: "ssd" }).nodeAffinityIn("disk", ["hdd"]).obj();
  assert.equal(runFilter(nodeAffinity, both, snapshot).nodes, { a: REASON, b: REASON, c: REASON });
  const notIn = makePod("s").nodeAffinityIn("disk", ["ssd"], "NotIn").obj();
  assert.equal(runFilter(nodeAffinity, notIn, snapshot).nodes, { a: REASON, b: null, c: null });
  const gt = makePod("t").nodeAffinityIn("cores", ["10"], "Gt").obj();
  assert.equal(runFilter(nodeAffinity, gt, snapshot).nodes, { a: REASON, b: null, c: REASON });
  const exists = makePod("u").nodeAffinityIn("disk", [], "DoesNotExist").obj();
  assert.equal(runFilter(nodeAffinity, exists, snapshot).nodes, { a: REASON, b: REASON, c: null });
});

test("nodeAffinity PreFilter narrows to metadata.name terms, or rejects conflicting ones", () => {
  const snapshot = nodes();
  const named = runFilter(nodeAffinity, makePod("p").nodeAffinityName(["b"]).obj(), snapshot);
  assert.equal([...named.nodeNames!], ["b"]);
  assert.equal(named.nodes, { a: REASON, b: null, c: REASON });
  // Two values in one field requirement do not parse upstream: the term matches nothing.
  const two = runFilter(nodeAffinity, makePod("q").nodeAffinityName(["a", "b"]).obj(), snapshot);
  assert.equal([...two.nodeNames!].sort(), ["a", "b"]);
  assert.equal(two.nodes, { a: REASON, b: REASON, c: REASON });
  const conflict = makePod("r").obj();
  conflict.spec!.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{
          matchFields: [
            { key: "metadata.name", operator: "In", values: ["a"] },
            { key: "metadata.name", operator: "In", values: ["b"] },
          ],
        }],
      },
    },
  };
  const out = runFilter(nodeAffinity, conflict, snapshot);
  assert.is(out.preFilter?.code, Code.UnschedulableAndUnresolvable);
  assert.equal(out.preFilter?.reasons, ["pod affinity terms conflict"]);
});

test("nodeAffinity score sums matching preferred weights, scaled to the best node", () => {
  const snapshot = nodes();
  const pod = makePod("p").preferredNodeAffinity(2, "disk", ["ssd"]).preferredNodeAffinity(6, "cores", ["16"])
    .preferredNodeAffinity(2, "topology.kubernetes.io/zone", ["z1"]).obj();
  assert.equal(runScore(nodeAffinity, pod, snapshot), { a: 66, b: 100, c: 0 });
  assert.is(runScore(nodeAffinity, makePod("q").obj(), snapshot), "skip");
});

test.run();
