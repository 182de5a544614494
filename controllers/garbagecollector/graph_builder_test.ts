import { test } from "uvu";
import * as assert from "uvu/assert";
import type { KubeObject, OwnerReference } from "../../machinery/object_meta.ts";
import { GraphBuilder } from "./graph_builder.ts";
import type { GraphNode } from "./graph.ts";

function recorder() {
  const deletes: string[] = [];
  const orphans: string[] = [];
  const invalid: string[] = [];
  const builder = new GraphBuilder({
    attemptToDelete: (n: GraphNode) => deletes.push(n.identity.name),
    attemptToOrphan: (n: GraphNode) => orphans.push(n.identity.name),
    invalidOwnerNamespace: (n: GraphNode) => invalid.push(n.identity.name),
  });
  return { builder, deletes, orphans, invalid };
}

function obj(name: string, uid: string, extra: Record<string, unknown> = {}, namespace = "ns"): KubeObject {
  return { metadata: { name, uid, namespace: namespace || undefined, ...extra } };
}

const ref = (name: string, uid: string, more: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  name,
  uid,
  ...more,
});

test("an unseen owner becomes a virtual node to verify; seeing it makes it real", () => {
  const { builder, deletes } = recorder();
  builder.process({
    type: "add",
    obj: obj("pod", "p1", { ownerReferences: [ref("rs", "r1")] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  const owner = builder.graph.get("r1")!;
  assert.is(owner.observed, false);
  assert.equal(deletes, ["rs"]);
  builder.process({ type: "add", obj: obj("rs", "r1"), apiVersion: "apps/v1", kind: "ReplicaSet" });
  assert.is(builder.graph.get("r1")!.observed, true);
  assert.is(builder.graph.get("r1")!.dependents.size, 1);
});

test("an owner's deletion sends its dependents to attempt-to-delete", () => {
  const { builder, deletes } = recorder();
  builder.process({ type: "add", obj: obj("rs", "r1"), apiVersion: "apps/v1", kind: "ReplicaSet" });
  builder.process({
    type: "add",
    obj: obj("a", "a1", { ownerReferences: [ref("rs", "r1")] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  builder.process({
    type: "add",
    obj: obj("b", "b1", { ownerReferences: [ref("rs", "r1")] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  assert.equal(deletes, []);
  builder.process({ type: "delete", obj: obj("rs", "r1"), apiVersion: "apps/v1", kind: "ReplicaSet" });
  assert.equal(deletes.sort(), ["a", "b"]);
  assert.is(builder.graph.get("r1"), undefined);
  assert.ok(
    builder.absentOwners.has({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "rs",
      uid: "r1",
      namespace: "ns",
    }),
  );
});

test("deletion with finalizers: orphan goes to attempt-to-orphan, foreground marks and pushes dependents", () => {
  const { builder, deletes, orphans } = recorder();
  const rs = obj("rs", "r1");
  builder.process({ type: "add", obj: rs, apiVersion: "apps/v1", kind: "ReplicaSet" });
  builder.process({
    type: "add",
    obj: obj("a", "a1", { ownerReferences: [ref("rs", "r1", { blockOwnerDeletion: true })] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  const orphaning = obj("rs", "r1", { deletionTimestamp: "2024-01-01T00:00:00Z", finalizers: ["orphan"] });
  builder.process({ type: "update", obj: orphaning, old: rs, apiVersion: "apps/v1", kind: "ReplicaSet" });
  assert.equal(orphans, ["rs"]);
  const rs2 = obj("rs2", "r2");
  builder.process({ type: "add", obj: rs2, apiVersion: "apps/v1", kind: "ReplicaSet" });
  builder.process({
    type: "add",
    obj: obj("b", "b1", { ownerReferences: [ref("rs2", "r2", { blockOwnerDeletion: true })] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  const fg = obj("rs2", "r2", {
    deletionTimestamp: "2024-01-01T00:00:00Z",
    finalizers: ["foregroundDeletion"],
  });
  builder.process({ type: "update", obj: fg, old: rs2, apiVersion: "apps/v1", kind: "ReplicaSet" });
  const node = builder.graph.get("r2")!;
  assert.ok(node.deletingDependents);
  assert.equal(node.blockingDependents().map((d) => d.identity.name), ["b"]);
  assert.equal(deletes, ["b", "rs2"]);
  // The blocking dependent goes: the owner is looked at again.
  deletes.length = 0;
  builder.process({
    type: "delete",
    obj: obj("b", "b1", { ownerReferences: [ref("rs2", "r2", { blockOwnerDeletion: true })] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  assert.equal(deletes, ["rs2"]);
});

test("a reference to an owner in another namespace is reported", () => {
  const { builder, invalid, deletes } = recorder();
  builder.process({
    type: "add",
    obj: obj("rs", "r1", {}, "other"),
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
  });
  builder.process({
    type: "add",
    obj: obj("a", "a1", { ownerReferences: [ref("rs", "r1")] }),
    apiVersion: "v1",
    kind: "Pod",
  });
  assert.equal(invalid, ["a"]);
  assert.equal(deletes, ["a"]);
});

test("queued changes of a 1,000-pod rollout are applied quickly, with no calls to make", async () => {
  const { builder, deletes } = recorder();
  builder.add({ type: "add", obj: obj("rs", "r1"), apiVersion: "apps/v1", kind: "ReplicaSet" });
  const started = performance.now();
  for (let i = 0; i < 1000; i++) {
    const pod = obj(`p${i}`, `u${i}`, {
      ownerReferences: [ref("rs", "r1", { controller: true, blockOwnerDeletion: true })],
    });
    builder.add({ type: "add", obj: pod, apiVersion: "v1", kind: "Pod" });
  }
  for (let i = 0; i < 1000; i++) {
    const pod = obj(`p${i}`, `u${i}`, {
      ownerReferences: [ref("rs", "r1", { controller: true, blockOwnerDeletion: true })],
    });
    builder.add({ type: "delete", obj: pod, apiVersion: "v1", kind: "Pod" });
  }
  const queued = performance.now() - started;
  await builder.idle();
  const total = performance.now() - started;
  assert.equal(deletes, []);
  assert.is(builder.graph.size, 1);
  assert.is(builder.graph.get("r1")!.dependents.size, 0);
  assert.ok(queued < 50, `queueing took ${queued} ms`);
  assert.ok(total < 500, `applying took ${total} ms`);
});

test.run();
