import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DaemonSet, Node, Pod } from "../types.ts";
import {
  addOrUpdateDaemonPodTolerations,
  isPodUpdated,
  replaceDaemonSetPodNodeNameNodeAffinity,
  scaledValueFromIntOrPercent,
  surgeCount,
  targetNodeName,
  unavailableCount,
} from "./daemon_pods.ts";
import { nodeShouldRunDaemonPod } from "./placement.ts";
import { findUpdatedPodsOnNode, planRollingUpdate } from "./update.ts";

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): Node =>
  ({ metadata: { name, labels }, spec: { taints } }) as Node;

const daemonSet = (podSpec: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): DaemonSet =>
  ({
    metadata: { name: "d", namespace: "default", generation: 2 },
    spec: {
      selector: { matchLabels: { app: "d" } },
      template: {
        metadata: { labels: { app: "d" } },
        spec: { containers: [{ name: "c", image: "i" }], ...podSpec },
      },
      ...spec,
    },
  }) as DaemonSet;

test("nodeShouldRunDaemonPod: selector, affinity, nodeName, and taints by effect", () => {
  const run = (n: Node, d = daemonSet()) => {
    const p = nodeShouldRunDaemonPod(n, d);
    return [p.shouldRun, p.shouldContinueRunning];
  };
  assert.equal(run(node("a")), [true, true]);
  assert.equal(run(node("a"), daemonSet({ nodeSelector: { disk: "ssd" } })), [false, false]);
  assert.equal(run(node("a", { disk: "ssd" }), daemonSet({ nodeSelector: { disk: "ssd" } })), [true, true]);
  assert.equal(run(node("a"), daemonSet({ nodeName: "b" })), [false, false]);
  const affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }] }],
      },
    },
  };
  assert.equal(run(node("a", { zone: "z2" }), daemonSet({ affinity })), [false, false]);
  assert.equal(run(node("a", { zone: "z1" }), daemonSet({ affinity })), [true, true]);
  assert.equal(
    run(node("a", {}, [{ key: "x", effect: "NoSchedule" }])),
    [false, true],
    "NoSchedule: may stay",
  );
  assert.equal(run(node("a", {}, [{ key: "x", effect: "NoExecute" }])), [false, false], "NoExecute: must go");
  assert.equal(run(node("a", {}, [{ key: "x", effect: "PreferNoSchedule" }])), [true, true]);
  assert.equal(
    run(
      node("a", {}, [{ key: "x", effect: "NoExecute" }]),
      daemonSet({ tolerations: [{ key: "x", operator: "Exists" }] }),
    ),
    [true, true],
  );
  assert.equal(run(node("a", {}, [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }])), [
    true,
    true,
  ]);
  assert.equal(
    run(node("a", {}, [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }])),
    [false, true],
  );
  assert.equal(
    run(
      node("a", {}, [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }]),
      daemonSet({ hostNetwork: true }),
    ),
    [true, true],
  );
});

test("addOrUpdateDaemonPodTolerations adds the defaults once and replaces a near match", () => {
  const spec = {
    containers: [],
    tolerations: [{
      key: "node.kubernetes.io/not-ready",
      operator: "Exists",
      effect: "NoExecute",
      tolerationSeconds: 300,
    }],
  };
  addOrUpdateDaemonPodTolerations(spec);
  addOrUpdateDaemonPodTolerations(spec);
  assert.is(spec.tolerations.length, 6);
  assert.equal(spec.tolerations[0], {
    key: "node.kubernetes.io/not-ready",
    operator: "Exists",
    effect: "NoExecute",
  });
});

test("node affinity pins a pod to its node; targetNodeName reads it back", () => {
  const affinity = replaceDaemonSetPodNodeNameNodeAffinity(
    {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [] }] },
      },
    },
    "n7",
  );
  const pod = { metadata: {}, spec: { containers: [], affinity } } as Pod;
  assert.is(targetNodeName(pod), "n7");
  assert.is(targetNodeName({ ...pod, spec: { ...pod.spec!, nodeName: "bound" } }), "bound");
  assert.is(targetNodeName({ metadata: {}, spec: { containers: [] } } as Pod), undefined);
});

test("int-or-percent values, surge and unavailability", () => {
  assert.is(scaledValueFromIntOrPercent("25%", 10, true), 3);
  assert.is(scaledValueFromIntOrPercent("25%", 10, false), 2);
  assert.is(scaledValueFromIntOrPercent(4, 10, true), 4);
  assert.throws(() => scaledValueFromIntOrPercent("abc", 10, true));
  const d = daemonSet({}, {
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "50%", maxSurge: 0 } },
  });
  assert.is(unavailableCount(d, 5), 3);
  assert.is(surgeCount(d, 5), 0);
  assert.is(unavailableCount(daemonSet({}, { updateStrategy: { type: "OnDelete" } }), 5), 0);
});

test("isPodUpdated by hash or template generation; the rolling update plan stays within maxUnavailable", () => {
  const pod = (name: string, nodeName: string, hash: string, ready = true): Pod => ({
    metadata: { name, uid: name, labels: { "controller-revision-hash": hash } },
    spec: { containers: [], nodeName },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  });
  const d = daemonSet({}, {
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } },
  });
  assert.ok(isPodUpdated(pod("p", "n", "new"), "new", undefined));
  assert.not.ok(isPodUpdated(pod("p", "n", "old"), "new", undefined));
  const generationPod = pod("g", "n", "old");
  generationPod.metadata!.labels!["pod-template-generation"] = "2";
  assert.ok(isPodUpdated(generationPod, "new", 2));
  assert.equal(findUpdatedPodsOnNode(d, [pod("a", "n", "new"), pod("b", "n", "new")], "new").ok, false);

  const nodes = ["n1", "n2", "n3", "n4"].map((n) => node(n));
  const pods = new Map([
    ["n1", [pod("p1", "n1", "old")]],
    ["n2", [pod("p2", "n2", "old")]],
    ["n3", [pod("p3", "n3", "old", false)]],
    ["n4", [pod("p4", "n4", "new", false)]],
  ]);
  const plan = planRollingUpdate(d, nodes, pods, "new");
  // n3's old pod is unavailable (replaced at once), n4's new pod is not ready: the budget of 2 is spent.
  assert.equal(plan.podsToDelete.map((p) => p.metadata!.name), ["p3"]);
  assert.equal(plan.nodesToCreate, []);
});

test.run();
