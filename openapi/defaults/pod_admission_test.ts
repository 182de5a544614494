import { test } from "uvu";
import * as assert from "uvu/assert";
import { admitPodDefaults } from "./pod_admission.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const NOT_READY = {
  key: "node.kubernetes.io/not-ready",
  operator: "Exists",
  effect: "NoExecute",
  tolerationSeconds: 300,
};
const UNREACHABLE = {
  key: "node.kubernetes.io/unreachable",
  operator: "Exists",
  effect: "NoExecute",
  tolerationSeconds: 300,
};

function admitted(spec: Json, options = {}, metadata: Json = { name: "p" }): Json {
  const pod: Json = { metadata, spec };
  admitPodDefaults(pod, options);
  return pod.spec;
}

test("a bare pod: default service account, both tolerations, priority 0", () => {
  assert.equal(admitted({ containers: [] }), {
    containers: [],
    serviceAccountName: "default",
    serviceAccount: "default",
    tolerations: [NOT_READY, UNREACHABLE],
    priority: 0,
    preemptionPolicy: "PreemptLowerPriority",
  });
});

test("a named service account is kept and mirrored; its pull secrets are taken when the pod has none", () => {
  const spec = admitted({ serviceAccountName: "builder" }, {
    serviceAccount: { metadata: { name: "builder" }, imagePullSecrets: [{ name: "registry" }] },
  });
  assert.equal([spec.serviceAccountName, spec.serviceAccount, spec.imagePullSecrets], ["builder", "builder", [
    { name: "registry" },
  ]]);
  const own = admitted({ imagePullSecrets: [{ name: "mine" }] }, {
    serviceAccount: { imagePullSecrets: [{ name: "registry" }] },
  });
  assert.equal(own.imagePullSecrets, [{ name: "mine" }]);
});

test("mirror pods keep their service account fields as they are", () => {
  const spec = admitted({}, {}, { name: "static", annotations: { "kubernetes.io/config.mirror": "abc" } });
  assert.is(spec.serviceAccountName, undefined);
  assert.equal(spec.tolerations, [NOT_READY, UNREACHABLE]);
});

test("tolerations already covering the taints (by key, by empty key, by empty effect) are not doubled", () => {
  const own = {
    key: "node.kubernetes.io/not-ready",
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: 10,
  };
  assert.equal(admitted({ tolerations: [own] }).tolerations, [own, UNREACHABLE]);
  const everything = { operator: "Exists" };
  assert.equal(admitted({ tolerations: [everything] }).tolerations, [everything]);
  const anyEffect = { key: "node.kubernetes.io/unreachable", operator: "Exists" };
  assert.equal(admitted({ tolerations: [anyEffect] }).tolerations, [anyEffect, NOT_READY]);
  const noSchedule = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" };
  assert.equal(admitted({ tolerations: [noSchedule] }).tolerations, [noSchedule, NOT_READY, UNREACHABLE]);
});

test("toleration seconds come from the options (the API server's flags)", () => {
  const spec = admitted({}, {
    defaultNotReadyTolerationSeconds: 60,
    defaultUnreachableTolerationSeconds: 90,
  });
  assert.equal(spec.tolerations.map((t: Json) => t.tolerationSeconds), [60, 90]);
});

test("priority: a global default class, a named class resolved, an unresolved name left to the caller", () => {
  const global = { name: "standard", value: 100, preemptionPolicy: "Never" };
  const withDefault = admitted({}, { globalDefaultPriorityClass: global });
  assert.equal([withDefault.priorityClassName, withDefault.priority, withDefault.preemptionPolicy], [
    "standard",
    100,
    "Never",
  ]);
  const classes: Record<string, { name: string; value: number; preemptionPolicy?: string }> = {
    "system-node-critical": {
      name: "system-node-critical",
      value: 2000001000,
      preemptionPolicy: "PreemptLowerPriority",
    },
  };
  const named = admitted({ priorityClassName: "system-node-critical" }, {
    priorityClass: (n: string) => classes[n],
  });
  assert.equal([named.priority, named.preemptionPolicy], [2000001000, "PreemptLowerPriority"]);
  const unknown = admitted({ priorityClassName: "nope" }, { priorityClass: (n: string) => classes[n] });
  assert.equal([unknown.priority, unknown.preemptionPolicy], [undefined, undefined]);
  const noLookup = admitted({ priorityClassName: "high" });
  assert.equal([noLookup.priority, noLookup.preemptionPolicy], [undefined, undefined]);
});

test("admitting twice changes nothing; malformed pods do not throw", () => {
  const pod: Json = { metadata: {}, spec: { tolerations: [{ key: "x" }] } };
  admitPodDefaults(pod);
  const once = structuredClone(pod);
  admitPodDefaults(pod);
  assert.equal(pod, once);
  const junk: Json[] = [
    {},
    { spec: null },
    { spec: "x" },
    { spec: [] },
    { metadata: "x", spec: { tolerations: "x", serviceAccountName: 5, priorityClassName: 7 } },
    { metadata: { annotations: 5 }, spec: { tolerations: [null, 1, "a", { key: 5 }] } },
  ];
  for (const p of junk) admitPodDefaults(p, { serviceAccount: { imagePullSecrets: [null, { name: "a" }] } });
  admitPodDefaults(null as unknown as Json);
  assert.equal(junk[4].spec.tolerations, "x");
  assert.is(junk[4].spec.serviceAccountName, 5);
});

test.run();
