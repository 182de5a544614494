import { test } from "uvu";
import * as assert from "uvu/assert";
import { listerOf } from "../interface.ts";
import { Code } from "../status.ts";
import { runFilter, runScore, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import type { ReplicaSet } from "../types.ts";
import { podTopologySpread } from "./pod_topology_spread.ts";

const REJECT = "node(s) didn't match pod topology spread constraints";
const ZONE = "topology.kubernetes.io/zone";
const HOST = "kubernetes.io/hostname";

/** zone1: a, b; zone2: x, y. `foo` pods: 2 on a, 1 on b, 0 on x, 1 on y. */
function cluster() {
  return snapshotOf(
    [
      makeNode("a").zone("zone1").obj(),
      makeNode("b").zone("zone1").obj(),
      makeNode("x").zone("zone2").obj(),
      makeNode("y").zone("zone2").obj(),
    ],
    [
      makePod("p-a1").node("a").label("foo", "").obj(),
      makePod("p-a2").node("a").label("foo", "").obj(),
      makePod("p-b1").node("b").label("foo", "").obj(),
      makePod("p-y1").node("y").label("foo", "").obj(),
      makePod("p-x1").node("x").label("foo", "").obj(),
    ],
  );
}

test("podTopologySpread skips pods without hard constraints", () => {
  const out = runFilter(podTopologySpread, makePod("p").obj(), cluster());
  assert.is(out.preFilter?.code, Code.Skip);
});

test("podTopologySpread filter keeps matching + self − minimum ≤ maxSkew per domain", () => {
  const snapshot = cluster();
  snapshot.removePod(snapshot.get("x")!.pods[0].pod); // x: 0 foo pods
  // zone: zone1 has 3, zone2 has 1 → only zone2 stays within maxSkew 1.
  const zone = makePod("p").label("foo", "").spread(1, ZONE, "DoNotSchedule", { foo: "" }).obj();
  assert.equal(runFilter(podTopologySpread, zone, snapshot).nodes, {
    a: REJECT,
    b: REJECT,
    x: null,
    y: null,
  });
  // hostname: minimum is 0 (x) → nodes with 0 pods only... and with maxSkew 2, those with ≤ 1.
  const host = makePod("q").label("foo", "").spread(2, HOST, "DoNotSchedule", { foo: "" }).obj();
  assert.equal(runFilter(podTopologySpread, host, snapshot).nodes, { a: REJECT, b: null, x: null, y: null });
  // A pod the selector doesn't select adds nothing to its domain.
  const other = makePod("r").label("bar", "").spread(1, ZONE, "DoNotSchedule", { foo: "" }).obj();
  assert.equal(runFilter(podTopologySpread, other, snapshot).nodes, {
    a: REJECT,
    b: REJECT,
    x: null,
    y: null,
  });
  const out = runFilter(podTopologySpread, zone, snapshot);
  assert.is(out.codes.a, Code.Unschedulable);
});

test("podTopologySpread counts only pods of the pod's namespace that are not terminating", () => {
  const snapshot = snapshotOf(
    [makeNode("a").zone("z1").obj(), makeNode("b").zone("z2").obj()],
    [
      makePod("elsewhere", "other").node("a").label("foo", "").obj(),
      makePod("leaving").node("a").label("foo", "").terminating().obj(),
    ],
  );
  const pod = makePod("p").label("foo", "").spread(1, ZONE, "DoNotSchedule", { foo: "" }).obj();
  assert.equal(runFilter(podTopologySpread, pod, snapshot).nodes, { a: null, b: null });
});

test("podTopologySpread rejects nodes without the topology key as unresolvable", () => {
  const snapshot = snapshotOf([makeNode("a").zone("z1").obj(), makeNode("nolabel").obj()]);
  const pod = makePod("p").spread(1, ZONE, "DoNotSchedule", { foo: "" }).obj();
  const out = runFilter(podTopologySpread, pod, snapshot);
  assert.equal(out.nodes, { a: null, nolabel: REJECT + " (missing required label)" });
  assert.is(out.codes.nolabel, Code.UnschedulableAndUnresolvable);
});

test("podTopologySpread treats the global minimum as 0 below minDomains", () => {
  const snapshot = snapshotOf(
    [makeNode("a").zone("z1").obj(), makeNode("b").zone("z2").obj()],
    [makePod("p1").node("a").label("foo", "").obj(), makePod("p2").node("b").label("foo", "").obj()],
  );
  const pod = makePod("p").label("foo", "").spread(1, ZONE, "DoNotSchedule", { foo: "" }, { minDomains: 3 })
    .obj();
  assert.equal(runFilter(podTopologySpread, pod, snapshot).nodes, { a: REJECT, b: REJECT });
  const two = makePod("q").label("foo", "").spread(1, ZONE, "DoNotSchedule", { foo: "" }, { minDomains: 2 })
    .obj();
  assert.equal(runFilter(podTopologySpread, two, snapshot).nodes, { a: null, b: null });
});

test("podTopologySpread honors node affinity and ignores taints by default", () => {
  const snapshot = snapshotOf(
    [
      makeNode("a").zone("z1").obj(),
      makeNode("b").zone("z2").label("pool", "other").obj(),
      makeNode("c").zone("z3").taint("dedicated", "x", "NoSchedule").obj(),
    ],
    [makePod("p1").node("a").label("foo", "").obj()],
  );
  // Affinity to z1 only: z2 and z3 are not domains, the minimum is z1's 1 pod.
  const honor = makePod("p").label("foo", "").nodeAffinityIn(ZONE, ["z1"]).spread(1, ZONE, "DoNotSchedule", {
    foo: "",
  })
    .obj();
  assert.is(runFilter(podTopologySpread, honor, snapshot).nodes.a, null);
  const ignore = makePod("q").label("foo", "").nodeAffinityIn(ZONE, ["z1"])
    .spread(1, ZONE, "DoNotSchedule", { foo: "" }, { nodeAffinityPolicy: "Ignore" }).obj();
  assert.is(runFilter(podTopologySpread, ignore, snapshot).nodes.a, REJECT);
  // The tainted zone counts (Ignore) and holds 0 pods; with Honor it does not count.
  const taints = makePod("r").label("foo", "").spread(1, ZONE, "DoNotSchedule", { foo: "" }).obj();
  assert.is(runFilter(podTopologySpread, taints, snapshot).nodes.a, REJECT);
  const honored = makePod("t").label("foo", "")
    .spread(1, ZONE, "DoNotSchedule", { foo: "" }, {
      nodeTaintsPolicy: "Honor",
      nodeAffinityPolicy: "Ignore",
    }).obj();
  // Domains z1 (1) and z2 (0): a would make 2 − 0 > 1.
  assert.is(runFilter(podTopologySpread, honored, snapshot).nodes.a, REJECT);
  assert.is(runFilter(podTopologySpread, honored, snapshot).nodes.b, null);
});

test("podTopologySpread matchLabelKeys narrows the selector to the pod's own values", () => {
  const snapshot = snapshotOf(
    [makeNode("a").zone("z1").obj(), makeNode("b").zone("z2").obj()],
    [
      makePod("old1").node("a").labels({ app: "web", rev: "1" }).obj(),
      makePod("old2").node("a").labels({ app: "web", rev: "1" }).obj(),
    ],
  );
  const plain = makePod("p").labels({ app: "web", rev: "2" }).spread(1, ZONE, "DoNotSchedule", { app: "web" })
    .obj();
  assert.equal(runFilter(podTopologySpread, plain, snapshot).nodes, { a: REJECT, b: null });
  const keyed = makePod("q").labels({ app: "web", rev: "2" })
    .spread(1, ZONE, "DoNotSchedule", { app: "web" }, { matchLabelKeys: ["rev"] }).obj();
  assert.equal(runFilter(podTopologySpread, keyed, snapshot).nodes, { a: null, b: null });
});

test("podTopologySpread score favors domains with fewer matching pods", () => {
  const snapshot = cluster();
  const host = makePod("p").label("foo", "").spread(1, HOST, "ScheduleAnyway", { foo: "" }).obj();
  // Counts a 2, b 1, x 1, y 1; weight ln(4 nodes + 2).
  const w = Math.log(6);
  const raw = { a: Math.round(2 * w), b: Math.round(w), x: Math.round(w), y: Math.round(w) };
  const max = Math.max(...Object.values(raw)), min = Math.min(...Object.values(raw));
  const expect = Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, Math.trunc((100 * (max + min - v)) / max)]),
  );
  assert.equal(runScore(podTopologySpread, host, snapshot), expect);
  assert.is(runScore(podTopologySpread, makePod("q").obj(), snapshot), "skip");
});

test("podTopologySpread score ignores nodes missing a key of the pod's own constraints", () => {
  const snapshot = snapshotOf([makeNode("a").zone("z1").obj(), makeNode("bare").obj()]);
  const pod = makePod("p").label("foo", "").spread(1, ZONE, "ScheduleAnyway", { foo: "" }).obj();
  assert.equal(runScore(podTopologySpread, pod, snapshot), { a: 100, bare: 0 });
});

test("podTopologySpread spreads a ReplicaSet's pods by the system defaults", () => {
  const snapshot = snapshotOf(
    [makeNode("a").zone("z1").obj(), makeNode("b").zone("z1").obj()],
    [
      makePod("rs-1").node("a").label("app", "web").owner("ReplicaSet", "web-1").obj(),
      makePod("rs-2").node("a").label("app", "web").owner("ReplicaSet", "web-1").obj(),
    ],
  );
  const pod = makePod("rs-3").label("app", "web").owner("ReplicaSet", "web-1").obj();
  const replicaSets = listerOf<ReplicaSet>([{
    metadata: { name: "web-1", namespace: "default" },
    spec: { selector: { matchLabels: { app: "web" } }, template: {} },
  }]);
  const scores = runScore(podTopologySpread, pod, snapshot, undefined, { replicaSets });
  assert.type(scores, "object");
  const s = scores as Record<string, number>;
  assert.ok(s.b > s.a, `b (${s.b}) should beat a (${s.a})`);
  // Without the lister the selector cannot be derived: no default spreading.
  assert.is(runScore(podTopologySpread, pod, snapshot), "skip");
});

test.run();
