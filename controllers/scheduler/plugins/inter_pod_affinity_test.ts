import { test } from "uvu";
import * as assert from "uvu/assert";
import { listerOf } from "../interface.ts";
import { Code } from "../status.ts";
import { runFilter, runScore, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import type { Pod } from "../types.ts";
import { interPodAffinity } from "./inter_pod_affinity.ts";

const ZONE = "topology.kubernetes.io/zone";
const HOST = "kubernetes.io/hostname";
const AFFINITY = "node(s) didn't match pod affinity rules";
const ANTI = "node(s) didn't match pod anti-affinity rules";
const EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules";

/** z1: a, b; z2: c; "nozone" has no zone label. A db pod runs on a. */
function cluster(extra: Pod[] = []) {
  return snapshotOf(
    [
      makeNode("a").zone("z1").obj(),
      makeNode("b").zone("z1").obj(),
      makeNode("c").zone("z2").obj(),
      makeNode("nozone").obj(),
    ],
    [makePod("db").node("a").label("app", "db").obj(), ...extra],
  );
}

test("interPodAffinity skips pods when neither side has required terms", () => {
  assert.is(runFilter(interPodAffinity, makePod("p").obj(), cluster()).preFilter?.code, Code.Skip);
});

test("interPodAffinity filter needs a matching pod in the node's domain", () => {
  const pod = makePod("web").label("app", "web").podAffinity("app", "db", ZONE).obj();
  const out = runFilter(interPodAffinity, pod, cluster());
  assert.equal(out.nodes, { a: null, b: null, c: AFFINITY, nozone: AFFINITY });
  assert.is(out.codes.c, Code.UnschedulableAndUnresolvable);
});

test("interPodAffinity lets the first pod of a self-affine group go anywhere with the key", () => {
  const pod = makePod("first").label("app", "cache").podAffinity("app", "cache", ZONE).obj();
  assert.equal(runFilter(interPodAffinity, pod, cluster()).nodes, {
    a: null,
    b: null,
    c: null,
    nozone: AFFINITY,
  });
  // Once one exists, the rest must join its zone.
  const out = runFilter(
    interPodAffinity,
    pod,
    cluster([makePod("c1").node("c").label("app", "cache").obj()]),
  );
  assert.equal(out.nodes, { a: AFFINITY, b: AFFINITY, c: null, nozone: AFFINITY });
});

test("interPodAffinity filter keeps the pod out of domains its anti-affinity selects", () => {
  const pod = makePod("web").label("app", "web").podAntiAffinity("app", "db", ZONE).obj();
  const out = runFilter(interPodAffinity, pod, cluster());
  assert.equal(out.nodes, { a: ANTI, b: ANTI, c: null, nozone: null });
  assert.is(out.codes.a, Code.Unschedulable);
  const host = makePod("web2").label("app", "web").podAntiAffinity("app", "db", HOST).obj();
  assert.equal(runFilter(interPodAffinity, host, cluster()).nodes, {
    a: ANTI,
    b: null,
    c: null,
    nozone: null,
  });
});

test("interPodAffinity filter respects existing pods' anti-affinity", () => {
  const guard = makePod("guard").node("c").label("app", "guard").podAntiAffinity("app", "web", ZONE).obj();
  const snapshot = cluster([guard]);
  const out = runFilter(interPodAffinity, makePod("web").label("app", "web").obj(), snapshot);
  assert.equal(out.nodes, { a: null, b: null, c: EXISTING, nozone: null });
  assert.is(out.codes.c, Code.Unschedulable);
  // Another namespace is not selected by the guard's term (it names none: its own).
  const elsewhere = runFilter(interPodAffinity, makePod("web", "other").label("app", "web").obj(), snapshot);
  assert.is(elsewhere.preFilter?.code, Code.Skip);
});

test("interPodAffinity terms select other namespaces by name or by namespace labels", () => {
  const snapshot = snapshotOf(
    [makeNode("a").obj(), makeNode("b").obj()],
    [makePod("db", "data").node("a").label("app", "db").obj()],
  );
  const byName = makePod("web").obj();
  byName.spec!.affinity = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{
        labelSelector: { matchLabels: { app: "db" } },
        namespaces: ["data"],
        topologyKey: HOST,
      }],
    },
  };
  assert.equal(runFilter(interPodAffinity, byName, snapshot).nodes, { a: ANTI, b: null });
  const bySelector = makePod("web2").obj();
  bySelector.spec!.affinity = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{
        labelSelector: { matchLabels: { app: "db" } },
        namespaceSelector: { matchLabels: { team: "data" } },
        topologyKey: HOST,
      }],
    },
  };
  const namespaces = listerOf([{ metadata: { name: "data", labels: { team: "data" } } }]);
  assert.equal(runFilter(interPodAffinity, bySelector, snapshot, { namespaces }).nodes, { a: ANTI, b: null });
  assert.equal(runFilter(interPodAffinity, bySelector, snapshot).nodes, { a: null, b: null });
});

test("interPodAffinity score adds preferred affinity and subtracts preferred anti-affinity", () => {
  const snapshot = cluster([makePod("noisy").node("c").label("app", "noisy").obj()]);
  const pod = makePod("web").label("app", "web").preferredPodAffinity(10, "app", "db", ZONE)
    .preferredPodAntiAffinity(5, "app", "noisy", HOST).obj();
  // a, b: +10 (zone z1); c: −5; nozone: 0 → scaled between −5 and 10.
  assert.equal(runScore(interPodAffinity, pod, snapshot), { a: 100, b: 100, c: 0, nozone: 33 });
});

test("interPodAffinity score counts existing pods' terms toward the incoming pod", () => {
  const snapshot = cluster([
    makePod("friend").node("c").label("app", "friend").podAffinity("app", "web", HOST).obj(),
    makePod("foe").node("b").label("app", "foe").preferredPodAntiAffinity(3, "app", "web", HOST).obj(),
  ]);
  const scores = runScore(interPodAffinity, makePod("web").label("app", "web").obj(), snapshot);
  // c: +1 (the friend's required term, hard weight 1); b: −3.
  assert.equal(scores, { a: 75, b: 0, c: 100, nozone: 75 });
  assert.is(runScore(interPodAffinity, makePod("x").label("app", "x").obj(), snapshot), "skip");
});

test.run();
