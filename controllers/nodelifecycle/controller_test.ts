import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import { rfc3339, rfc3339Micro } from "../../machinery/object_meta.ts";
import { newNodeLifecycleController } from "./controller.ts";
import { newTaintEvictionController } from "./taint_eviction.ts";
import { matchingTolerations, minTolerationMs } from "./taints.ts";
import { computeZoneState, TaintQueue } from "./zones.ts";
import type { Lease, Node, Pod } from "../types.ts";

const UNREACHABLE = "node.kubernetes.io/unreachable";

test("tolerations: matching and the shortest tolerationSeconds", () => {
  const taints = [{ key: UNREACHABLE, effect: "NoExecute" }];
  assert.equal(matchingTolerations(taints, []).allTolerated, false);
  const forever = { key: UNREACHABLE, operator: "Exists", effect: "NoExecute" };
  const short = { operator: "Exists", tolerationSeconds: 5 };
  assert.is(minTolerationMs(matchingTolerations(taints, [forever]).used), -1);
  assert.is(minTolerationMs(matchingTolerations(taints, [short, forever]).used), 5000);
  assert.is(minTolerationMs([{ ...short, tolerationSeconds: -1 }]), 0);
  assert.equal(
    matchingTolerations(taints, [{ key: UNREACHABLE, value: "x", effect: "NoExecute" }]).allTolerated,
    false,
  );
});

test("zone states and the rate-limited taint queue", async () => {
  assert.is(computeZoneState(["Unknown"], 0.55).state, "FullDisruption");
  assert.is(computeZoneState(["True", "Unknown"], 0.55).state, "Normal");
  assert.is(computeZoneState(["True", "False", "Unknown", undefined], 0.55).state, "PartialDisruption");
  const q = new TaintQueue(1);
  q.add("a");
  q.add("b");
  const seen: string[] = [];
  await q.try((n) => {
    seen.push(n);
    return Promise.resolve(true);
  });
  assert.equal(seen, ["a"], "burst of one");
  assert.is(q.add("a"), false, "handled nodes are remembered");
  q.remove("a");
  assert.is(q.add("a"), true);
});

function nodeObject(name: string): Node {
  const now = rfc3339();
  const cond = (type: string, status: string) => ({
    type,
    status,
    reason: "KubeletReady",
    message: "ok",
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux" } },
    spec: {},
    status: {
      conditions: [
        cond("MemoryPressure", "False"),
        cond("DiskPressure", "False"),
        cond("PIDPressure", "False"),
        cond("Ready", "True"),
      ],
    },
  };
}

function podOn(name: string, node: string, tolerationSeconds?: number): Pod {
  return {
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: node,
      containers: [{ name: "c", image: "busybox" }],
      tolerations: [{
        key: UNREACHABLE,
        operator: "Exists",
        effect: "NoExecute",
        ...(tolerationSeconds === undefined ? {} : { tolerationSeconds }),
      }],
    },
  };
}

test("a node whose lease stops goes Unknown and tainted, its pods are evicted, and it recovers", async () => {
  const env = await startControllers(
    [newNodeLifecycleController(), newTaintEvictionController()],
    { nodeMonitorGracePeriodMs: 800, nodeMonitorPeriodMs: 100 },
  );
  const nodes = env.client.resource<Node>("", "nodes");
  const leases = env.client.resource<Lease>("coordination.k8s.io", "leases");
  const pods = env.client.resource<Pod>("", "pods");
  const events = env.client.resource("", "events");
  for (const name of ["n1", "n2"]) {
    await nodes.create("", nodeObject(name));
    await leases.create("kube-node-lease", {
      metadata: { name, namespace: "kube-node-lease" },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: rfc3339Micro() },
    });
  }
  const renewing = new Set(["n1", "n2"]);
  const renewer = setInterval(async () => {
    for (const name of renewing) {
      await leases.patch("kube-node-lease", name, "merge", { spec: { renewTime: rfc3339Micro() } }).catch(
        () => {},
      );
    }
  }, 150);
  for (const [name, seconds] of [["zero", 0], ["short", 1], ["forever", undefined]] as const) {
    await pods.create("default", podOn(name, "n2", seconds));
    const now = rfc3339();
    await pods.patch("default", name, "merge", {
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] },
    }, { subresource: "status" });
  }
  await new Promise((r) => setTimeout(r, 400));
  assert.is((await nodes.get("", "n2")).spec?.taints, undefined, "healthy nodes carry no taints");
  assert.is((await nodes.get("", "n1")).metadata?.labels?.["beta.kubernetes.io/os"], "linux", "beta labels");

  renewing.delete("n2");
  const stoppedAt = Date.now();
  const tainted = await eventually(
    async () => {
      const n = await nodes.get("", "n2");
      const keys = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
      return keys.includes(`${UNREACHABLE}:NoExecute`) && keys.includes(`${UNREACHABLE}:NoSchedule`) && n;
    },
    5000,
    "unreachable taints",
  );
  const taintedAt = Date.now();
  assert.ok(taintedAt - stoppedAt >= 500, "not before the grace period");
  for (const t of tainted.spec!.taints!) assert.ok(t.timeAdded, "timeAdded");
  for (const c of tainted.status!.conditions!) {
    assert.equal([c.type, c.status, c.reason, c.message], [
      c.type,
      "Unknown",
      "NodeStatusUnknown",
      "Kubelet stopped posting node status.",
    ]);
  }
  assert.is((await nodes.get("", "n1")).spec?.taints, undefined, "the renewing node is left alone");

  // The pod that tolerates nothing for long goes at once; the one with 1 s a second later.
  const terminating = async (name: string) => (await pods.get("default", name)).metadata?.deletionTimestamp;
  await eventually(() => terminating("zero"), 2000, "zero deleted");
  assert.is(await terminating("short"), undefined, "short not yet");
  const zero = await pods.get("default", "zero");
  const target = zero.status?.conditions?.find((c) => c.type === "DisruptionTarget");
  assert.equal([target?.status, target?.reason], ["True", "DeletionByTaintManager"]);
  assert.is(
    zero.status?.conditions?.find((c) => c.type === "Ready")?.status,
    "False",
    "pods marked not ready",
  );
  await eventually(() => terminating("short"), 3000, "short deleted");
  assert.ok(Date.now() - taintedAt >= 900, "short lived out its toleration");
  await new Promise((r) => setTimeout(r, 300));
  assert.is(await terminating("forever"), undefined, "forever stays");

  await eventually(
    async () => {
      const reasons = (await events.list("default")).items.map((e) => `${e.reason}: ${e.message}`);
      return [
        "NodeNotReady: Node n2 status is now: NodeNotReady",
        "NodeNotReady: Node is not ready",
        "TaintManagerEviction: Marking for deletion Pod default/zero",
        "RegisteredNode: Node n1 event: Registered Node n1 in Controller",
      ].every((r) => reasons.includes(r));
    },
    3000,
    "events",
  );

  // The kubelet comes back: renews its lease and posts Ready again.
  renewing.add("n2");
  const n2 = await nodes.get("", "n2");
  const now = rfc3339();
  await nodes.updateStatus("", {
    ...n2,
    status: {
      ...n2.status,
      conditions: nodeObject("n2").status!.conditions!.map((c) => ({ ...c, lastHeartbeatTime: now })),
    },
  });
  await eventually(async () => !(await nodes.get("", "n2")).spec?.taints?.length, 3000, "taints removed");
  clearInterval(renewer);
  await env.close();
});

test("with every node down, no NoExecute taints are placed", async () => {
  const env = await startControllers(
    [newNodeLifecycleController()],
    { nodeMonitorGracePeriodMs: 300, nodeMonitorPeriodMs: 100 },
  );
  const nodes = env.client.resource<Node>("", "nodes");
  await nodes.create("", nodeObject("lonely"));
  await eventually(
    async () => {
      const n = await nodes.get("", "lonely");
      return n.status?.conditions?.find((c) => c.type === "Ready")?.status === "Unknown" &&
        n.spec?.taints?.some((t) => t.effect === "NoSchedule");
    },
    3000,
    "Unknown and NoSchedule",
  );
  await new Promise((r) => setTimeout(r, 500));
  const taints = (await nodes.get("", "lonely")).spec?.taints ?? [];
  assert.equal(taints.map((t) => `${t.key}:${t.effect}`), [`${UNREACHABLE}:NoSchedule`]);
  await env.close();
});

test.run();
