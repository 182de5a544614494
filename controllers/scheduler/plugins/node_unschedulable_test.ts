import { test } from "uvu";
import * as assert from "uvu/assert";
import { Code } from "../status.ts";
import { runFilter, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { nodeUnschedulable } from "./node_unschedulable.ts";

test("nodeUnschedulable rejects cordoned nodes unless the pod tolerates the unschedulable taint", () => {
  const snapshot = snapshotOf([makeNode("ok").obj(), makeNode("cordoned").unschedulable().obj()]);
  const out = runFilter(nodeUnschedulable, makePod("p").obj(), snapshot);
  assert.equal(out.nodes, { ok: null, cordoned: "node(s) were unschedulable" });
  assert.is(out.codes.cordoned, Code.UnschedulableAndUnresolvable);
  const tolerant = makePod("t").toleration({
    key: "node.kubernetes.io/unschedulable",
    operator: "Exists",
    effect: "NoSchedule",
  })
    .obj();
  assert.equal(runFilter(nodeUnschedulable, tolerant, snapshot).nodes, { ok: null, cordoned: null });
  const wrongEffect = makePod("w").toleration({
    key: "node.kubernetes.io/unschedulable",
    operator: "Exists",
    effect: "NoExecute",
  })
    .obj();
  assert.is(runFilter(nodeUnschedulable, wrongEffect, snapshot).nodes.cordoned, "node(s) were unschedulable");
});

test.run();
