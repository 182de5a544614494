import { test } from "uvu";
import * as assert from "uvu/assert";
import { Code } from "../status.ts";
import { runFilter, runScore, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { toleratesTaint } from "./helper.ts";
import { taintToleration } from "./taint_toleration.ts";

test("toleratesTaint follows key, operator, value and effect", () => {
  const taint = { key: "k", value: "v", effect: "NoSchedule" };
  assert.ok(toleratesTaint({ key: "k", operator: "Equal", value: "v", effect: "NoSchedule" }, taint));
  assert.ok(toleratesTaint({ key: "k", value: "v" }, taint), "empty operator means Equal, empty effect any");
  assert.ok(toleratesTaint({ key: "k", operator: "Exists" }, taint));
  assert.ok(toleratesTaint({ operator: "Exists" }, taint), "empty key with Exists tolerates everything");
  assert.not.ok(toleratesTaint({ key: "k", value: "other" }, taint));
  assert.not.ok(toleratesTaint({ key: "k", operator: "Exists", effect: "NoExecute" }, taint));
  assert.not.ok(toleratesTaint({ key: "other", operator: "Exists" }, taint));
});

test("taintToleration filter rejects the first untolerated NoSchedule/NoExecute taint", () => {
  const snapshot = snapshotOf([
    makeNode("clean").obj(),
    makeNode("cp").taint("node-role.kubernetes.io/control-plane", undefined, "NoSchedule").obj(),
    makeNode("gpu").taint("soft", "x", "PreferNoSchedule").taint("gpu", "true", "NoExecute").obj(),
  ]);
  const out = runFilter(taintToleration, makePod("p").obj(), snapshot);
  assert.equal(out.nodes, {
    clean: null,
    cp: "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
    gpu: "node(s) had untolerated taint {gpu: true}",
  });
  assert.is(out.codes.cp, Code.UnschedulableAndUnresolvable);
  const tolerant = makePod("t").toleration({
    key: "gpu",
    operator: "Equal",
    value: "true",
    effect: "NoExecute",
  }).obj();
  assert.is(runFilter(taintToleration, tolerant, snapshot).nodes.gpu, null);
});

test("taintToleration score prefers nodes with fewer untolerated PreferNoSchedule taints", () => {
  const snapshot = snapshotOf([
    makeNode("n0").obj(),
    makeNode("n1").taint("a", "1", "PreferNoSchedule").obj(),
    makeNode("n2").taint("a", "1", "PreferNoSchedule").taint("b", "1", "PreferNoSchedule").obj(),
    makeNode("hard").taint("c", "1", "NoSchedule").obj(),
  ]);
  assert.equal(runScore(taintToleration, makePod("p").obj(), snapshot), {
    n0: 100,
    n1: 50,
    n2: 0,
    hard: 100,
  });
  // Tolerating "a" (any effect) leaves one untolerated taint on n2 only.
  const tol = makePod("t").toleration({ key: "a", operator: "Exists" }).obj();
  assert.equal(runScore(taintToleration, tol, snapshot), { n0: 100, n1: 100, n2: 0, hard: 100 });
  // A NoSchedule toleration does not count for PreferNoSchedule taints.
  const wrong = makePod("w").toleration({ key: "a", operator: "Exists", effect: "NoSchedule" }).obj();
  assert.equal(runScore(taintToleration, wrong, snapshot), { n0: 100, n1: 50, n2: 0, hard: 100 });
});

test.run();
