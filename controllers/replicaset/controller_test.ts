import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import { newReplicaSetController, newReplicationControllerController, podsToDelete } from "./controller.ts";
import type { Pod } from "../types.ts";

const rs = (name: string, replicas: number, labels = { app: name }) => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: "default" },
  spec: {
    replicas,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox" }] } },
  },
});

test("creates replicas pods owned by the ReplicaSet, deletes the surplus, reports status", async () => {
  const env = await startControllers([newReplicaSetController]);
  const sets = env.client.resource("apps", "replicasets");
  const pods = env.client.resource("", "pods");
  await sets.create("default", rs("web", 5));
  const list = await eventually(
    async () => {
      const l = await pods.list("default", { labelSelector: "app=web" });
      return l.items.length === 5 && l;
    },
    5000,
    "5 pods",
  );
  for (const p of list.items) {
    assert.ok(p.metadata!.name!.startsWith("web-"));
    const ref = p.metadata!.ownerReferences![0];
    assert.equal([ref.kind, ref.name, ref.controller, ref.blockOwnerDeletion], [
      "ReplicaSet",
      "web",
      true,
      true,
    ]);
  }
  await eventually(
    async () => ((await sets.get("default", "web")).status as { replicas?: number })?.replicas === 5,
    3000,
    "status.replicas",
  );
  await sets.patch("default", "web", "merge", { spec: { replicas: 2 } });
  await eventually(
    async () => {
      const l = await pods.list("default", { labelSelector: "app=web" });
      return l.items.filter((p) => !p.metadata!.deletionTimestamp).length === 2;
    },
    5000,
    "scale down to 2",
  );
  await new Promise((r) => setTimeout(r, 200));
  const after = await pods.list("default", { labelSelector: "app=web" });
  assert.is(after.items.filter((p) => !p.metadata!.deletionTimestamp).length, 2, "no over-deletion");
  const events = await env.client.resource("", "events").list("default");
  const reasons = events.items.map((e) => `${e.reason} ${(e.message as string).split(":")[0]}`);
  assert.ok(reasons.includes("SuccessfulCreate Created pod"), reasons.join());
  assert.ok(reasons.includes("SuccessfulDelete Deleted pod"), reasons.join());
  await env.close();
});

test("adopts a matching orphan and releases a pod relabelled away", async () => {
  const env = await startControllers([newReplicaSetController]);
  const pods = env.client.resource<Pod>("", "pods");
  await pods.create("default", {
    metadata: { name: "orphan", namespace: "default", labels: { app: "a" } },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  await env.client.resource("apps", "replicasets").create("default", rs("a", 1));
  const adopted = await eventually(
    async () => {
      const p = await pods.get("default", "orphan");
      return p.metadata?.ownerReferences?.[0]?.name === "a" && p;
    },
    3000,
    "adoption",
  );
  assert.ok(adopted);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(
    (await pods.list("default", { labelSelector: "app=a" })).items.length,
    1,
    "the orphan counts; no new pod",
  );
  await pods.patch("default", "orphan", "merge", { metadata: { labels: { app: "other" } } });
  await eventually(
    async () => !(await pods.get("default", "orphan")).metadata?.ownerReferences?.length,
    3000,
    "release",
  );
  await eventually(
    async () => (await pods.list("default", { labelSelector: "app=a" })).items.length === 1,
    3000,
    "replacement",
  );
  await env.close();
});

test("ReplicationControllers too, with a map selector", async () => {
  const env = await startControllers([newReplicationControllerController]);
  await env.client.resource("", "replicationcontrollers").create("default", {
    metadata: { name: "rc", namespace: "default" },
    spec: {
      replicas: 3,
      selector: { app: "rc" },
      template: {
        metadata: { labels: { app: "rc" } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    },
  });
  await eventually(
    async () =>
      (await env.client.resource("", "pods").list("default", { labelSelector: "app=rc" })).items.length === 3,
    3000,
    "3 pods",
  );
  await env.close();
});

test("scale-down picks unscheduled, then not-ready pods first", () => {
  const pod = (name: string, nodeName?: string, ready = false): Pod => ({
    metadata: { name, creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: { containers: [], nodeName },
    status: {
      phase: nodeName ? "Running" : "Pending",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  });
  const order = podsToDelete([pod("ready", "n1", true), pod("unready", "n1"), pod("pending")], 2).map((p) =>
    p.metadata!.name
  );
  assert.equal(order, ["pending", "unready"]);
});

test.run();
