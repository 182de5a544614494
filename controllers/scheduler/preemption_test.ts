import { test } from "uvu";
import * as assert from "uvu/assert";
import { schedulePod, seededRandom } from "./framework.ts";
import { listerOf } from "./interface.ts";
import { podInfoOf } from "./pod_info.ts";
import {
  type Candidate,
  filterPodsWithPDBViolation,
  numCandidates,
  pickOneNodeForPreemption,
} from "./preemption.ts";
import { snapshotOf } from "./testing/harness.ts";
import { makeNode, makePod } from "./testing/wrappers.ts";
import type { Pod, PodDisruptionBudget } from "./types.ts";

const small = (name: string) => makeNode(name).capacity({ cpu: "2", memory: "8Gi", pods: "110" }).obj();

function preemptFor(
  pod: Pod,
  nodes = ["n1", "n2"].map(small),
  pods: Pod[] = [],
  pdbs: PodDisruptionBudget[] = [],
) {
  const snapshot = snapshotOf(nodes, pods);
  const r = schedulePod(pod, snapshot, {
    pdbs: listerOf(pdbs),
    random: seededRandom(1),
    now: Date.parse("2024-06-01T00:00:00Z"),
  });
  assert.is(r.kind, "unschedulable");
  if (r.kind !== "unschedulable") throw new Error("scheduled");
  return { ...r, victimNames: (r.victims ?? []).map((v) => v.metadata!.name).sort() };
}

test("preemption evicts only what the preemptor needs, most important pods kept", () => {
  const r = preemptFor(makePod("high").priority(100).req({ cpu: "1" }).obj(), [small("n1")], [
    makePod("a").node("n1").priority(10).req({ cpu: "500m" }).obj(),
    makePod("b").node("n1").priority(5).req({ cpu: "500m" }).obj(),
    makePod("c").node("n1").priority(1).req({ cpu: "1" }).obj(),
  ]);
  assert.is(r.nominatedNodeName, "n1");
  assert.equal(r.victimNames, ["c"], "evicting c alone frees enough; a and b are reprieved");
  assert.is(r.fitError!.diagnosis.postFilterMsg, "", "a successful preemption adds no message");
  assert.is(r.message, "0/1 nodes are available: 1 Insufficient cpu.");
});

test("preemption never evicts pods of equal or higher priority", () => {
  const r = preemptFor(makePod("p").priority(10).req({ cpu: "1" }).obj(), [small("n1")], [
    makePod("same").node("n1").priority(10).req({ cpu: "1500m" }).obj(),
    makePod("low").node("n1").priority(1).req({ cpu: "500m" }).obj(),
  ]);
  assert.is(r.nominatedNodeName, "");
  assert.is(
    r.message,
    "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.",
  );
});

test("preemption prefers the node whose highest victim has the lowest priority", () => {
  const r = preemptFor(makePod("p").priority(100).req({ cpu: "2" }).obj(), undefined, [
    makePod("n1-a").node("n1").priority(50).req({ cpu: "1" }).obj(),
    makePod("n1-b").node("n1").priority(1).req({ cpu: "1" }).obj(),
    makePod("n2-a").node("n2").priority(10).req({ cpu: "1" }).obj(),
    makePod("n2-b").node("n2").priority(10).req({ cpu: "1" }).obj(),
  ]);
  assert.is(r.nominatedNodeName, "n2");
  assert.equal(r.victimNames, ["n2-a", "n2-b"]);
});

test("preemption prefers nodes where no PodDisruptionBudget is violated", () => {
  const pdb: PodDisruptionBudget = {
    metadata: { name: "guard", namespace: "default" },
    spec: { selector: { matchLabels: { app: "guarded" } } },
    status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
  };
  const r = preemptFor(makePod("p").priority(100).req({ cpu: "2" }).obj(), undefined, [
    makePod("guarded").node("n1").label("app", "guarded").priority(1).req({ cpu: "2" }).obj(),
    makePod("free").node("n2").priority(50).req({ cpu: "2" }).obj(),
  ], [pdb]);
  assert.is(r.nominatedNodeName, "n2", "a higher-priority victim beats a PDB violation");
});

test("filterPodsWithPDBViolation spends each budget in order and ignores already-disrupted pods", () => {
  const pdb: PodDisruptionBudget = {
    metadata: { name: "b", namespace: "default" },
    spec: { selector: { matchLabels: { app: "x" } } },
    status: {
      disruptionsAllowed: 1,
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 3,
      disruptedPods: { p0: "2024-01-01T00:00:00Z" },
    },
  };
  const pods = ["p0", "p1", "p2"].map((n) => podInfoOf(makePod(n).label("app", "x").obj()));
  const other = podInfoOf(makePod("o").label("app", "y").obj());
  const [violating, nonViolating] = filterPodsWithPDBViolation([...pods, other], [pdb]);
  assert.equal(violating.map((p) => p.name), ["p2"]);
  assert.equal(nonViolating.map((p) => p.name), ["p0", "p1", "o"]);
});

test("pickOneNodeForPreemption breaks ties by priority sum, victim count, then latest start", () => {
  const now = Date.parse("2024-06-01T00:00:00Z");
  const victim = (name: string, priority: number, start?: string) => {
    const w = makePod(name).priority(priority);
    if (start) w.startTime(start);
    return podInfoOf(w.obj());
  };
  const c = (nodeName: string, victims: ReturnType<typeof victim>[], numPDBViolations = 0): Candidate => ({
    nodeName,
    victims,
    numPDBViolations,
  });
  assert.is(
    pickOneNodeForPreemption([c("a", [victim("a1", 5)], 1), c("b", [victim("b1", 9)])], now)!.nodeName,
    "b",
  );
  assert.is(
    pickOneNodeForPreemption([
      c("a", [victim("a1", 5), victim("a2", 5)]),
      c("b", [victim("b1", 5), victim("b2", 1)]),
    ], now)!
      .nodeName,
    "b",
    "smaller sum of priorities",
  );
  assert.is(
    pickOneNodeForPreemption([c("a", [victim("a1", -5), victim("a2", -5)]), c("b", [victim("b1", -5)])], now)!
      .nodeName,
    "b",
    "negative priorities still add up: fewer victims win",
  );
  assert.is(
    pickOneNodeForPreemption([
      c("a", [victim("a1", 5, "2024-01-01T00:00:00Z")]),
      c("b", [victim("b1", 5, "2024-05-01T00:00:00Z")]),
    ], now)!.nodeName,
    "b",
    "the most recently started victims",
  );
  assert.is(
    pickOneNodeForPreemption([c("a", [victim("a1", 5)]), c("b", [victim("b1", 5)])], now)!.nodeName,
    "a",
  );
});

test("preemption is not attempted while a victim on the nominated node terminates", () => {
  const dying = makePod("dying").node("n1").priority(1).req({ cpu: "2" }).terminating().obj();
  dying.status!.conditions = [{ type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler" }];
  const r = preemptFor(makePod("p").priority(100).req({ cpu: "2" }).nominatedNodeName("n1").obj(), [
    small("n1"),
  ], [dying]);
  assert.is(r.nominatedNodeName, undefined);
  assert.is(
    r.message,
    "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.",
  );
});

test("preemption skips nodes where removing pods cannot help", () => {
  const nodes = [small("n1"), makeNode("tainted").taint("x", "y", "NoSchedule").obj()];
  const r = preemptFor(makePod("p").priority(100).req({ cpu: "1" }).obj(), nodes, [
    makePod("low").node("n1").priority(1).req({ cpu: "2" }).obj(),
    makePod("low2").node("tainted").priority(1).obj(),
  ]);
  assert.is(r.nominatedNodeName, "n1");
  assert.equal(r.victimNames, ["low"]);
});

test("numCandidates dry-runs 10% of the nodes, at least 100", () => {
  assert.is(numCandidates(50), 50);
  assert.is(numCandidates(500), 100);
  assert.is(numCandidates(5000), 500);
});

test.run();
