import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { KubeObject, OwnerReference } from "../../machinery/object_meta.ts";
import { garbageCollectorWith, newGarbageCollector } from "./controller.ts";
import { deletableResources } from "./resources.ts";

const NS = "default";

function cm(name: string, owners: OwnerReference[] = [], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: NS, ownerReferences: owners.length ? owners : undefined, ...extra },
    data: { k: name },
  };
}

function refTo(owner: KubeObject, block = false): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? "v1",
    kind: owner.kind ?? "ConfigMap",
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    ...(block ? { blockOwnerDeletion: true } : {}),
  };
}

async function gone(
  env: {
    client: { resource: (g: string, r: string) => { get: (ns: string, n: string) => Promise<KubeObject> } };
  },
  name: string,
) {
  try {
    await env.client.resource("", "configmaps").get(NS, name);
    return false;
  } catch (err) {
    return isStatusError(err, "NotFound");
  }
}

// Only the few kinds the tests touch, to keep start-up light.
const few = garbageCollectorWith({
  resources: deletableResources().filter((r) =>
    ["configmaps", "secrets", "namespaces", "clusterroles"].includes(r.resource)
  ),
});

test("deletableResources lists preferred versions and skips events", () => {
  const all = deletableResources();
  assert.ok(all.some((r) => r.resource === "pods" && r.version === "v1"));
  assert.ok(!all.some((r) => r.resource === "events"));
  const hpa = all.filter((r) => r.resource === "horizontalpodautoscalers");
  assert.equal(hpa.map((r) => r.version), ["v2"]);
  assert.ok(!all.some((r) => r.resource === "bindings"));
});

test("background: dependents of a deleted owner are collected", async () => {
  const env = await startControllers([few]);
  const cms = env.client.resource("", "configmaps");
  const owner = await cms.create(NS, cm("owner"));
  await cms.create(NS, cm("dep-1", [refTo(owner)]));
  await cms.create(NS, cm("dep-2", [refTo(owner)]));
  await cms.create(NS, cm("unrelated"));
  await cms.delete(NS, "owner", { propagationPolicy: "Background" });
  await eventually(
    async () => (await gone(env, "dep-1")) && (await gone(env, "dep-2")),
    5000,
    "dependents gone",
  );
  assert.ok(await cms.get(NS, "unrelated"));
  await env.close();
});

test("a dependent whose owner never existed is collected; one with a live owner keeps it", async () => {
  const env = await startControllers([few]);
  const cms = env.client.resource("", "configmaps");
  const live = await cms.create(NS, cm("live"));
  const ghost: OwnerReference = {
    apiVersion: "v1",
    kind: "ConfigMap",
    name: "ghost",
    uid: crypto.randomUUID(),
  };
  await cms.create(NS, cm("orphaned", [ghost]));
  await cms.create(NS, cm("half", [ghost, refTo(live)]));
  await eventually(() => gone(env, "orphaned"), 5000, "orphaned collected");
  // The live owner keeps `half`; the dangling reference is dropped.
  const half = await eventually(
    async () => {
      const o = await cms.get(NS, "half");
      return o.metadata?.ownerReferences?.length === 1 && o;
    },
    5000,
    "dangling reference removed",
  );
  assert.is(half.metadata!.ownerReferences![0].uid, live.metadata!.uid);
  // An owner with the same name but another uid is gone as far as the reference goes.
  await cms.create(NS, cm("ghost"));
  await cms.create(NS, cm("stale", [ghost]));
  await eventually(() => gone(env, "stale"), 5000, "uid mismatch collected");
  assert.ok(await cms.get(NS, "ghost"), "the same-named object stays");
  await env.close();
});

test("orphan: the owner goes, dependents stay without its reference", async () => {
  const env = await startControllers([few]);
  const cms = env.client.resource("", "configmaps");
  const owner = await cms.create(NS, cm("parent"));
  const other = await cms.create(NS, cm("other-parent"));
  await cms.create(NS, cm("child-1", [refTo(owner, true)]));
  await cms.create(NS, cm("child-2", [refTo(owner), refTo(other)]));
  const marked = await cms.delete(NS, "parent", { propagationPolicy: "Orphan" });
  assert.ok((marked.metadata?.finalizers ?? []).includes("orphan"), "orphan finalizer set by the server");
  await eventually(() => gone(env, "parent"), 5000, "owner gone");
  const c1 = await cms.get(NS, "child-1");
  assert.is(c1.metadata?.ownerReferences?.length ?? 0, 0);
  const c2 = await cms.get(NS, "child-2");
  assert.equal(c2.metadata?.ownerReferences?.map((r) => r.name), ["other-parent"]);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(await cms.get(NS, "child-1"), "orphans are not collected");
  await env.close();
});

test("foreground: the owner waits for blocking dependents, then goes", async () => {
  const env = await startControllers([few]);
  const cms = env.client.resource("", "configmaps");
  const owner = await cms.create(NS, cm("fg"));
  // A blocking dependent held by its own finalizer, one non-blocking, and a grandchild chain.
  await cms.create(NS, cm("fg-held", [refTo(owner, true)], { finalizers: ["example.com/hold"] }));
  await cms.create(NS, cm("fg-free", [refTo(owner)]));
  const mid = await cms.create(NS, cm("fg-mid", [refTo(owner, true)]));
  await cms.create(NS, cm("fg-leaf", [refTo(mid, true)]));
  const marked = await cms.delete(NS, "fg", { propagationPolicy: "Foreground" });
  assert.ok(marked.metadata?.deletionTimestamp);
  assert.ok((marked.metadata?.finalizers ?? []).includes("foregroundDeletion"));
  await eventually(
    async () => (await gone(env, "fg-free")) && (await gone(env, "fg-mid")) && (await gone(env, "fg-leaf")),
    5000,
    "dependents deleted",
  );
  const held = await cms.get(NS, "fg-held");
  assert.ok(held.metadata?.deletionTimestamp, "the held dependent is being deleted");
  await new Promise((r) => setTimeout(r, 150));
  const waiting = await cms.get(NS, "fg");
  assert.ok(
    waiting.metadata?.finalizers?.includes("foregroundDeletion"),
    "owner waits for the blocking dependent",
  );
  await cms.patch(NS, "fg-held", "merge", { metadata: { finalizers: null } });
  await eventually(() => gone(env, "fg"), 5000, "owner gone after its blocking dependent");
  await env.close();
});

test("foreground with only non-blocking dependents removes the finalizer at once", async () => {
  const env = await startControllers([few]);
  const cms = env.client.resource("", "configmaps");
  const owner = await cms.create(NS, cm("quick"));
  await cms.create(NS, cm("quick-dep", [refTo(owner)]));
  await cms.delete(NS, "quick", { propagationPolicy: "Foreground" });
  await eventually(
    async () => (await gone(env, "quick")) && (await gone(env, "quick-dep")),
    5000,
    "both gone",
  );
  await env.close();
});

test("a cluster-scoped owner of namespaced dependents; a namespaced owner of a cluster-scoped one is ignored", async () => {
  const env = await startControllers([few]);
  const roles = env.client.resource("rbac.authorization.k8s.io", "clusterroles");
  const cms = env.client.resource("", "configmaps");
  const role = await roles.create("", { metadata: { name: "gc-owner" }, rules: [] });
  await cms.create(NS, cm("cr-dep", [refTo(role)]));
  const nsOwner = await cms.create(NS, cm("ns-owner"));
  await roles.create("", {
    metadata: { name: "bad-dep", ownerReferences: [refTo(nsOwner)] },
    rules: [],
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(await cms.get(NS, "cr-dep"), "the live cluster-scoped owner keeps its dependent");
  await roles.delete("", "gc-owner");
  await eventually(() => gone(env, "cr-dep"), 5000, "dependent of the cluster-scoped owner collected");
  assert.ok(await roles.get("", "bad-dep"), "a cluster-scoped object with a namespaced owner is left alone");
  await env.close();
});

test("the server's default propagation: orphan for v1 ReplicationControllers, none for events", async () => {
  const env = await startControllers([]);
  const rcs = env.client.resource("", "replicationcontrollers");
  await rcs.create(NS, {
    metadata: { name: "rc" },
    spec: {
      replicas: 0,
      selector: { app: "rc" },
      template: { metadata: { labels: { app: "rc" } }, spec: { containers: [{ name: "c", image: "x" }] } },
    },
  });
  const marked = await rcs.delete(NS, "rc");
  assert.equal(marked.metadata?.finalizers, ["orphan"]);
  const cms = env.client.resource("", "configmaps");
  await cms.create(NS, cm("plain"));
  await cms.delete(NS, "plain");
  assert.ok(await gone(env, "plain"), "background is the default elsewhere: deleted at once");
  const events = env.client.resource("", "events");
  await events.create(NS, {
    metadata: { name: "ev", finalizers: ["example.com/x"] },
    involvedObject: { kind: "Pod", name: "p", namespace: NS },
    reason: "R",
    message: "m",
  });
  const ev = await events.delete(NS, "ev", { propagationPolicy: "Foreground" });
  assert.equal(ev.metadata?.finalizers, ["example.com/x"], "events take no GC finalizers");
  await env.close();
});

test("newGarbageCollector watches every deletable resource and syncs", async () => {
  const env = await startControllers([newGarbageCollector]);
  const cms = env.client.resource("", "configmaps");
  const owner = await cms.create(NS, cm("all-owner"));
  await env.client.resource("", "secrets").create(NS, {
    metadata: { name: "all-dep", ownerReferences: [refTo(owner)] },
    stringData: { a: "b" },
  });
  await cms.delete(NS, "all-owner");
  await eventually(
    async () => {
      try {
        await env.client.resource("", "secrets").get(NS, "all-dep");
        return false;
      } catch (err) {
        return isStatusError(err, "NotFound");
      }
    },
    5000,
    "secret collected",
  );
  await env.close();
});

test.run();
