import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import type { Client } from "../../machinery/client.ts";
import type { DaemonSet, Node, Pod } from "../types.ts";
import { newDaemonSetController } from "./controller.ts";
import { targetNodeName } from "./daemon_pods.ts";

function ds(
  name: string,
  spec: Record<string, unknown> = {},
  podSpec: Record<string, unknown> = {},
): DaemonSet {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "default" },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "busybox" }], ...podSpec },
      },
      ...spec,
    },
  } as DaemonSet;
}

async function addNode(
  client: Client,
  name: string,
  labels: Record<string, string> = {},
  taints: unknown[] = [],
) {
  await client.resource<Node>("", "nodes").create("", {
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    spec: { taints },
  } as Node);
}

async function livePods(client: Client, app: string): Promise<Pod[]> {
  const list = await client.resource<Pod>("", "pods").list("default", { labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** The node each live pod is for, sorted. */
async function podNodes(client: Client, app: string): Promise<string[]> {
  return (await livePods(client, app)).map((p) => targetNodeName(p) ?? "?").sort();
}

test("one pod per eligible node: nodeSelector, taints against tolerations (with the daemon defaults)", async () => {
  const env = await startControllers([newDaemonSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  await addNode(env.client, "n1", { role: "worker" });
  await addNode(env.client, "n2", { role: "worker" }, [{
    key: "dedicated",
    value: "db",
    effect: "NoSchedule",
  }]);
  await addNode(env.client, "n3");
  await addNode(env.client, "n4", { role: "worker" }, [{
    key: "node.kubernetes.io/unschedulable",
    effect: "NoSchedule",
  }]);
  const sets = env.client.resource<DaemonSet>("apps", "daemonsets");
  await sets.create("default", ds("agent", {}, { nodeSelector: { role: "worker" } }));
  await eventually(
    async () => (await podNodes(env.client, "agent")).join() === "n1,n4",
    3000,
    "pods on n1 and n4",
  );
  const status = await eventually(
    async () => {
      const s = (await sets.get("default", "agent")).status;
      return s?.numberAvailable === 2 && s;
    },
    3000,
    "status",
  );
  assert.equal(
    [
      status.desiredNumberScheduled,
      status.currentNumberScheduled,
      status.numberReady,
      status.updatedNumberScheduled,
    ],
    [2, 2, 2, 2],
  );
  assert.is(status.numberMisscheduled, 0);
  assert.is(status.numberUnavailable, 0);
  const set = await sets.get("default", "agent");
  assert.is(status.observedGeneration, set.metadata!.generation);
  for (const pod of await livePods(env.client, "agent")) {
    assert.is(pod.spec!.nodeName, undefined, "the scheduler binds it");
    const terms =
      pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    assert.equal(terms, [{
      matchFields: [{ key: "metadata.name", operator: "In", values: [targetNodeName(pod)!] }],
    }]);
    assert.ok(pod.metadata!.labels!["controller-revision-hash"]);
    assert.is(pod.metadata!.labels!["pod-template-generation"], String(set.metadata!.generation));
    const keys = pod.spec!.tolerations!.map((t) => `${t.key}:${t.effect}`);
    for (
      const k of [
        "node.kubernetes.io/not-ready:NoExecute",
        "node.kubernetes.io/unreachable:NoExecute",
        "node.kubernetes.io/disk-pressure:NoSchedule",
        "node.kubernetes.io/memory-pressure:NoSchedule",
        "node.kubernetes.io/pid-pressure:NoSchedule",
        "node.kubernetes.io/unschedulable:NoSchedule",
      ]
    ) assert.ok(keys.includes(k), k);
    assert.ok(!keys.includes("node.kubernetes.io/network-unavailable:NoSchedule"), "only for hostNetwork");
    assert.is(pod.metadata!.ownerReferences![0].kind, "DaemonSet");
  }
  const revisions = await env.client.resource("apps", "controllerrevisions").list("default");
  assert.is(revisions.items.length, 1);
  assert.is(
    revisions.items[0].metadata!.name,
    `agent-${(await livePods(env.client, "agent"))[0].metadata!.labels!["controller-revision-hash"]}`,
  );
  await env.ctx.events.flush();
  const events = await env.client.resource("", "events").list("default");
  assert.ok(
    events.items.some((e) =>
      e.reason === "SuccessfulCreate" && /^Created pod: agent-/.test(e.message as string)
    ),
  );
  stop.abort();
  await env.close();
});

test("nodes added, relabelled, tainted NoExecute, and removed", async () => {
  const env = await startControllers([newDaemonSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  const nodes = env.client.resource<Node>("", "nodes");
  await addNode(env.client, "a", { role: "worker" });
  await env.client.resource("apps", "daemonsets").create(
    "default",
    ds("d", {}, { nodeSelector: { role: "worker" } }),
  );
  await eventually(async () => (await podNodes(env.client, "d")).join() === "a", 3000, "pod on a");
  await addNode(env.client, "b", { role: "worker" });
  await addNode(env.client, "c", { role: "worker" });
  await eventually(
    async () => (await podNodes(env.client, "d")).join() === "a,b,c",
    3000,
    "pods on new nodes",
  );
  await nodes.patch("", "a", "merge", { metadata: { labels: { role: "none" } } });
  await eventually(
    async () => (await podNodes(env.client, "d")).join() === "b,c",
    3000,
    "pod off a relabelled",
  );
  await nodes.patch("", "b", "merge", { spec: { taints: [{ key: "evict", effect: "NoExecute" }] } });
  await eventually(
    async () => (await podNodes(env.client, "d")).join() === "c",
    3000,
    "pod off a NoExecute node",
  );
  await nodes.patch("", "c", "merge", { spec: { taints: [{ key: "gentle", effect: "NoSchedule" }] } });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await podNodes(env.client, "d"), ["c"], "a NoSchedule taint lets a running pod stay");
  await nodes.delete("", "c");
  await eventually(async () => (await podNodes(env.client, "d")).length === 0, 3000, "pod of a removed node");
  const status = await eventually(
    async () => {
      const s = (await env.client.resource<DaemonSet>("apps", "daemonsets").get("default", "d")).status;
      return s?.currentNumberScheduled === 0 && s;
    },
    3000,
    "status",
  );
  assert.is(status.desiredNumberScheduled, 0);
  stop.abort();
  await env.close();
});

test("RollingUpdate keeps within maxUnavailable: one node at a time while new pods are not ready", async () => {
  const env = await startControllers([newDaemonSetController]);
  const stop = new AbortController();
  let held = true;
  fakeKubelet(env.client, stop.signal, { hold: (p) => held && p.metadata?.labels?.version === "2" });
  for (const n of ["n1", "n2", "n3", "n4"]) await addNode(env.client, n);
  const sets = env.client.resource<DaemonSet>("apps", "daemonsets");
  await sets.create("default", ds("ru"));
  await eventually(
    async () => (await sets.get("default", "ru")).status?.numberAvailable === 4,
    3000,
    "4 available",
  );
  await sets.patch("default", "ru", "merge", {
    spec: { template: { metadata: { labels: { app: "ru", version: "2" } } } },
  });
  await eventually(
    async () => (await livePods(env.client, "ru")).some((p) => p.metadata?.labels?.version === "2"),
    3000,
    "a new pod",
  );
  await new Promise((r) => setTimeout(r, 300));
  const pods = await livePods(env.client, "ru");
  assert.is(pods.length, 4);
  assert.is(
    pods.filter((p) => p.metadata?.labels?.version === "2").length,
    1,
    "only one node updated at a time",
  );
  const status = (await sets.get("default", "ru")).status!;
  assert.is(status.updatedNumberScheduled, 1);
  assert.is(status.numberUnavailable, 1);
  held = false;
  const nudge = env.client.resource("", "pods");
  for (const p of pods) {
    if (p.metadata?.labels?.version === "2") {
      await nudge.patch("default", p.metadata!.name!, "merge", { metadata: { annotations: { nudge: "1" } } });
    }
  }
  await eventually(
    async () => {
      const s = (await sets.get("default", "ru")).status;
      return s?.updatedNumberScheduled === 4 && s.numberAvailable === 4;
    },
    5000,
    "rollout complete",
  );
  assert.is((await livePods(env.client, "ru")).filter((p) => p.metadata?.labels?.version === "2").length, 4);
  const revisions = await env.client.resource("apps", "controllerrevisions").list("default");
  assert.equal(revisions.items.map((r) => r.revision).sort(), [1, 2]);
  stop.abort();
  await env.close();
});

test("RollingUpdate with maxSurge: the new pod comes up beside the old one, which goes once it is available", async () => {
  const env = await startControllers([newDaemonSetController]);
  const stop = new AbortController();
  let held = true;
  fakeKubelet(env.client, stop.signal, { hold: (p) => held && p.metadata?.labels?.version === "2" });
  for (const n of ["n1", "n2", "n3"]) await addNode(env.client, n);
  const sets = env.client.resource<DaemonSet>("apps", "daemonsets");
  await sets.create(
    "default",
    ds("surge", {
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    }),
  );
  await eventually(
    async () => (await sets.get("default", "surge")).status?.numberAvailable === 3,
    3000,
    "3 available",
  );
  await sets.patch("default", "surge", "merge", {
    spec: { template: { metadata: { labels: { app: "surge", version: "2" } } } },
  });
  await eventually(async () => (await livePods(env.client, "surge")).length === 4, 3000, "a surge pod");
  await new Promise((r) => setTimeout(r, 300));
  const pods = await livePods(env.client, "surge");
  assert.is(pods.length, 4, "no more than one surge pod");
  assert.is(pods.filter((p) => p.status?.phase === "Running").length, 3, "every old pod still running");
  held = false;
  for (const p of pods) {
    if (p.metadata?.labels?.version === "2") {
      await env.client.resource("", "pods").patch("default", p.metadata!.name!, "merge", {
        metadata: { annotations: { nudge: "1" } },
      });
    }
  }
  await eventually(
    async () => {
      const live = await livePods(env.client, "surge");
      return live.length === 3 &&
        live.every((p) => p.metadata?.labels?.version === "2" && p.status?.phase === "Running");
    },
    5000,
    "rollout complete",
  );
  stop.abort();
  await env.close();
});

test("OnDelete: pods are replaced only when deleted", async () => {
  const env = await startControllers([newDaemonSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  await addNode(env.client, "n1");
  await addNode(env.client, "n2");
  const sets = env.client.resource<DaemonSet>("apps", "daemonsets");
  await sets.create("default", ds("od", { updateStrategy: { type: "OnDelete" } }));
  await eventually(
    async () => (await sets.get("default", "od")).status?.numberAvailable === 2,
    3000,
    "2 available",
  );
  await sets.patch("default", "od", "merge", {
    spec: { template: { metadata: { labels: { app: "od", version: "2" } } } },
  });
  await eventually(
    async () => {
      const s = await sets.get("default", "od");
      return s.status?.observedGeneration === s.metadata?.generation;
    },
    3000,
    "observed",
  );
  await new Promise((r) => setTimeout(r, 200));
  const pods = await livePods(env.client, "od");
  assert.equal(pods.map((p) => p.metadata!.labels!.version), [undefined, undefined]);
  await env.client.resource("", "pods").delete("default", pods[0].metadata!.name!);
  await eventually(
    async () =>
      (await livePods(env.client, "od")).filter((p) => p.metadata?.labels?.version === "2").length === 1,
    3000,
    "one replaced",
  );
  stop.abort();
  await env.close();
});

test.run();
