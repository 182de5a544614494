import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  fitErrorMessage,
  numFeasibleNodesToFind,
  schedulePod,
  type ScheduleResult,
  seededRandom,
} from "./framework.ts";
import { listerOf } from "./interface.ts";
import { ClusterSnapshot } from "./node_info.ts";
import { Code, newStatus, NodeToStatus } from "./status.ts";
import { snapshotOf } from "./testing/harness.ts";
import { makeNode, makePod } from "./testing/wrappers.ts";
import type { PriorityClass } from "./types.ts";

const CP_TAINT = "node-role.kubernetes.io/control-plane";

function message(r: ScheduleResult): string {
  assert.is(r.kind, "unschedulable", JSON.stringify(r));
  return (r as { message: string }).message;
}

function scheduled(r: ScheduleResult): string {
  assert.is(r.kind, "scheduled", JSON.stringify(r));
  return (r as { nodeName: string }).nodeName;
}

test("numFeasibleNodesToFind follows the adaptive percentage", () => {
  assert.is(numFeasibleNodesToFind(undefined, 50), 50);
  assert.is(numFeasibleNodesToFind(0, 99), 99);
  assert.is(numFeasibleNodesToFind(0, 200), 100, "49% of 200 is below the floor of 100");
  assert.is(numFeasibleNodesToFind(0, 1000), 420);
  assert.is(numFeasibleNodesToFind(0, 5000), 500);
  assert.is(numFeasibleNodesToFind(0, 10000), 500, "at least 5%");
  assert.is(numFeasibleNodesToFind(30, 1000), 300);
  assert.is(numFeasibleNodesToFind(100, 1000), 1000);
});

test("schedulePod picks the emptiest node", () => {
  const snapshot = snapshotOf(
    [makeNode("busy").obj(), makeNode("idle").obj()],
    [makePod("x").node("busy").req({ cpu: "3", memory: "8Gi" }).obj()],
  );
  const r = schedulePod(makePod("p").req({ cpu: "500m", memory: "1Gi" }).obj(), snapshot);
  assert.equal(r, { kind: "scheduled", nodeName: "idle", feasible: 2, evaluated: 2 });
});

test("schedulePod with assumePod spreads equal pods over equal nodes", () => {
  const snapshot = snapshotOf([makeNode("a").obj(), makeNode("b").obj(), makeNode("c").obj()]);
  const random = seededRandom(7);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 9; i++) {
    const pod = makePod(`p${i}`).req({ cpu: "100m", memory: "100Mi" }).obj();
    const node = scheduled(schedulePod(pod, snapshot, { random }));
    snapshot.assumePod(pod, node);
    counts[node] = (counts[node] ?? 0) + 1;
  }
  assert.equal(counts, { a: 3, b: 3, c: 3 });
});

test("schedulePod breaks ties at random, reproducibly with a seed", () => {
  const pick = (seed: number) => {
    const snapshot = snapshotOf(Array.from({ length: 10 }, (_, i) => makeNode(`n${i}`).obj()));
    return scheduled(
      schedulePod(makePod("p").req({ cpu: "1" }).obj(), snapshot, { random: seededRandom(seed) }),
    );
  };
  assert.is(pick(1), pick(1));
  const seen = new Set(Array.from({ length: 20 }, (_, i) => pick(i)));
  assert.ok(seen.size > 3, `ties should land on several nodes, got ${[...seen]}`);
});

test("schedulePod stops at enough feasible nodes and starts the next search where it stopped", () => {
  const snapshot = snapshotOf(Array.from({ length: 300 }, (_, i) => makeNode(`n${i}`).obj()));
  const r = schedulePod(makePod("p").obj(), snapshot, { percentageOfNodesToScore: 10 });
  assert.equal(r.kind === "scheduled" && [r.feasible, r.evaluated], [100, 100]);
  assert.is(snapshot.nextStartNodeIndex, 100);
  schedulePod(makePod("q").obj(), snapshot, { percentageOfNodesToScore: 10 });
  schedulePod(makePod("r").obj(), snapshot, { percentageOfNodesToScore: 10 });
  assert.is(snapshot.nextStartNodeIndex, 0, "wraps around");
});

test("schedulePod honors hard constraints end to end", () => {
  const snapshot = snapshotOf([
    makeNode("a").zone("z1").obj(),
    makeNode("b").zone("z2").obj(),
    makeNode("c").zone("z3").obj(),
  ]);
  const placed = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const pod = makePod(`web-${i}`).label("app", "web").podAntiAffinity(
      "app",
      "web",
      "kubernetes.io/hostname",
    ).obj();
    const node = scheduled(schedulePod(pod, snapshot));
    snapshot.assumePod(pod, node);
    placed.add(node);
  }
  assert.is(placed.size, 3);
  const fourth = makePod("web-3").label("app", "web").podAntiAffinity("app", "web", "kubernetes.io/hostname")
    .obj();
  assert.is(
    message(schedulePod(fourth, snapshot)),
    "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. " +
      "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
  );
});

test("fit error: untolerated taints and a pod bigger than its node", () => {
  const snapshot = snapshotOf([
    makeNode("cp1").taint(CP_TAINT, undefined, "NoSchedule").obj(),
    makeNode("cp2").taint(CP_TAINT, undefined, "NoSchedule").obj(),
    makeNode("small").capacity({ cpu: "1", memory: "4Gi", pods: "110" }).obj(),
  ]);
  const r = schedulePod(makePod("p").req({ cpu: "2" }).obj(), snapshot);
  assert.is(
    message(r),
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. " +
      "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  assert.ok(r.kind === "unschedulable" && r.nominatedNodeName === "", "the nomination is cleared");
  assert.equal(
    r.kind === "unschedulable" && [...r.fitError!.diagnosis.unschedulablePlugins].sort(),
    ["NodeResourcesFit", "TaintToleration"],
  );
});

test("fit error: nothing to preempt on a full node", () => {
  const snapshot = snapshotOf(
    [
      makeNode("cp1").taint(CP_TAINT, undefined, "NoSchedule").obj(),
      makeNode("cp2").taint(CP_TAINT, undefined, "NoSchedule").obj(),
      makeNode("full").capacity({ cpu: "1", memory: "4Gi", pods: "110" }).obj(),
    ],
    [makePod("peer").node("full").req({ cpu: "1" }).obj()],
  );
  assert.is(
    message(schedulePod(makePod("p").req({ cpu: "500m" }).obj(), snapshot)),
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. " +
      "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, " +
      "2 Preemption is not helpful for scheduling.",
  );
});

test("fit error: counts sort as strings, every reason of a node counted", () => {
  const nodes = [
    ...Array.from({ length: 10 }, (_, i) => makeNode(`t${i}`).taint("dedicated", "x", "NoSchedule").obj()),
    makeNode("tiny").capacity({ cpu: "100m", memory: "100Mi", pods: "110" }).obj(),
    makeNode("tiny2").capacity({ cpu: "100m", memory: "100Mi", pods: "110" }).obj(),
  ];
  const r = schedulePod(makePod("p").req({ cpu: "1", memory: "1Gi" }).obj(), snapshotOf(nodes), {
    preemption: false,
  });
  assert.is(
    message(r),
    "0/12 nodes are available: 10 node(s) had untolerated taint {dedicated: x}, 2 Insufficient cpu, 2 Insufficient memory.",
  );
});

test("fit error: a PreFilter rejection replaces the per-node reasons", () => {
  const snapshot = snapshotOf([makeNode("a").obj(), makeNode("b").obj(), makeNode("c").obj()]);
  const r = schedulePod(makePod("p").pvc("data").obj(), snapshot, { pvcs: listerOf([]) });
  assert.is(
    message(r),
    '0/3 nodes are available: persistentvolumeclaim "data" not found. ' +
      "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
});

test("fit error: nodes left out by a PreFilter result", () => {
  const snapshot = snapshotOf([
    makeNode("a").capacity({ cpu: "1", memory: "1Gi", pods: "10" }).obj(),
    makeNode("b").obj(),
    makeNode("c").obj(),
  ]);
  const r = schedulePod(makePod("p").nodeAffinityName(["a"]).req({ cpu: "2" }).obj(), snapshot, {
    preemption: false,
  });
  assert.is(
    message(r),
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
  );
});

test("fit error: PreFilter results that exclude each other", () => {
  const snapshot = snapshotOf([makeNode("a").obj(), makeNode("b").obj()]);
  const pvc = {
    metadata: { name: "data", namespace: "default" },
    spec: { volumeName: "pv-b" },
    status: { phase: "Bound" },
  };
  const pv = {
    metadata: { name: "pv-b" },
    spec: {
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{
            matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["b"] }],
          }],
        },
      },
    },
  };
  const r = schedulePod(makePod("p").nodeAffinityName(["a"]).pvc("data").obj(), snapshot, {
    pvcs: listerOf([pvc]),
    pvs: listerOf([pv]),
    preemption: false,
  });
  assert.is(
    message(r),
    "0/2 nodes are available: node(s) didn't satisfy plugin(s) [NodeAffinity VolumeBinding] simultaneously.",
  );
});

test("fit error: preemptionPolicy Never, from the pod or its PriorityClass", () => {
  const snapshot = snapshotOf([makeNode("a").capacity({ cpu: "1", memory: "1Gi", pods: "10" }).obj()]);
  const suffix = "preemption: not eligible due to preemptionPolicy=Never.";
  const own = schedulePod(makePod("p").req({ cpu: "2" }).preemptionPolicy("Never").obj(), snapshot);
  assert.is(message(own), `0/1 nodes are available: 1 Insufficient cpu. ${suffix}`);
  assert.ok(
    own.kind === "unschedulable" && own.nominatedNodeName === undefined,
    "the nomination is left alone",
  );
  const priorityClasses = listerOf<PriorityClass>([{
    metadata: { name: "batch" },
    value: 10,
    preemptionPolicy: "Never",
  }]);
  const byClass = schedulePod(makePod("q").req({ cpu: "2" }).priorityClassName("batch").obj(), snapshot, {
    priorityClasses,
  });
  assert.is(message(byClass), `0/1 nodes are available: 1 Insufficient cpu. ${suffix}`);
});

test("fitErrorMessage words an empty cluster and statuses without a PostFilter message", () => {
  const statuses = new NodeToStatus();
  statuses.set("a", newStatus(Code.Unschedulable, "X", "Too many pods", "Insufficient cpu"));
  const msg = fitErrorMessage({
    numAllNodes: 1,
    diagnosis: {
      nodeToStatus: statuses,
      unschedulablePlugins: new Set(),
      preFilterMsg: "",
      postFilterMsg: "",
    },
  });
  assert.is(msg, "0/1 nodes are available: 1 Insufficient cpu, 1 Too many pods.");
  assert.is(
    message(schedulePod(makePod("p").obj(), new ClusterSnapshot())),
    "no nodes available to schedule pods",
  );
});

test("schedulePod tries the nominated node first", () => {
  const snapshot = snapshotOf([makeNode("a").obj(), makeNode("b").obj(), makeNode("c").obj()]);
  const r = schedulePod(makePod("p").nominatedNodeName("b").obj(), snapshot);
  assert.equal(r, { kind: "scheduled", nodeName: "b", feasible: 1, evaluated: 1 });
});

test("schedulePod reports plugin errors", () => {
  const snapshot = snapshotOf([makeNode("a").obj()]);
  const pvc = { metadata: { name: "data", namespace: "default", deletionTimestamp: "2024-01-01T00:00:00Z" } };
  const r = schedulePod(makePod("p").pvc("data").obj(), snapshot, { pvcs: listerOf([pvc]) });
  assert.equal(r, {
    kind: "error",
    message: 'running PreFilter plugin "VolumeBinding": persistentvolumeclaim "data" is being deleted',
  });
});

test.run();
