/**
 * The garbage collector, as upstream's: metadata-only informers on every deletable resource
 * feed the graph builder (owner → dependents by uid); two queues of uids act on what it finds.
 *
 * - attempt-to-delete: an object all of whose owners are gone (checked live, by uid) is deleted
 *   (background, or as its own finalizers ask); one with a live owner but also dangling
 *   references loses those references; an owner being deleted in the foreground has its
 *   dependents deleted and loses `foregroundDeletion` once no dependent blocks it.
 * - attempt-to-orphan: an owner being deleted with `orphan` has its references removed from its
 *   dependents, then loses the finalizer.
 *
 * Informer handlers only queue a change (O(1)); updates that touch neither owner references,
 * deletion nor finalizers are dropped there, so a rollout's status churn costs nothing.
 */

import type { ResourceRef } from "../../machinery/client.ts";
import { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual, type KubeObject, type OwnerReference } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ControllerContext, Runnable } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { EventRecorder } from "../framework/events.ts";
import { Informer } from "../framework/informer.ts";
import { type GraphNode, identityString, type ObjectIdentity } from "./graph.ts";
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, GraphBuilder, hasFinalizer } from "./graph_builder.ts";
import { Operations, type PropagationPolicy, RestMappingError } from "./operations.ts";
import { deletableResources, metadataClient, RestMapper } from "./resources.ts";

export interface GarbageCollectorOptions {
  /** Resources to watch (default: every deletable resource but events). */
  resources?: ResourceRef[];
  /** Workers per queue (default: the context's `workers`). */
  workers?: number;
}

/** Makes the garbage collector with default options. */
export function newGarbageCollector(ctx: ControllerContext): Runnable {
  return new GarbageCollector(ctx);
}

/** Makes a garbage collector factory with options. */
export function garbageCollectorWith(options: GarbageCollectorOptions) {
  return (ctx: ControllerContext): Runnable => new GarbageCollector(ctx, options);
}

/** Asks the queue for another look later, without logging a failure. */
class Requeue extends Error {}

/** Nothing to retry: the reference can never resolve. */
class ClusterScopedWithNamespacedOwner extends Error {}

type Classified = { solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] };

export class GarbageCollector implements Runnable {
  readonly name = "garbagecollector";
  readonly builder: GraphBuilder;
  readonly #ops: Operations;
  readonly #monitors: Informer[] = [];
  readonly #attemptToDelete: Controller;
  readonly #attemptToOrphan: Controller;
  readonly #recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: GarbageCollectorOptions = {}) {
    const metadata = metadataClient(ctx.client);
    this.#ops = new Operations(ctx.client, metadata, new RestMapper());
    this.#recorder = ctx.events.recorder("garbage-collector-controller");
    const workers = options.workers ?? ctx.options.workers;
    const onError = (name: string, key: string, err: unknown) => logError(name, key, err);
    this.#attemptToDelete = new Controller({
      name: "garbagecollector-attempt-to-delete",
      workers,
      reconcile: (uid) => this.#attemptToDeleteWorker(uid),
      onError,
    });
    this.#attemptToOrphan = new Controller({
      name: "garbagecollector-attempt-to-orphan",
      workers,
      reconcile: (uid) => this.#attemptToOrphanWorker(uid),
      onError,
    });
    this.builder = new GraphBuilder({
      attemptToDelete: (node, o) => {
        if (o?.rateLimited) this.#attemptToDelete.queue.addRateLimited(node.identity.uid);
        else this.#attemptToDelete.enqueue(node.identity.uid);
      },
      attemptToOrphan: (node) => this.#attemptToOrphan.enqueue(node.identity.uid),
      invalidOwnerNamespace: (dep, ref) => this.#reportInvalidNamespace(dep, ref),
    });
    for (const ref of options.resources ?? deletableResources()) {
      this.#monitors.push(this.#monitor(metadata, ref));
    }
  }

  /** An informer on one resource whose events become graph changes. */
  #monitor(metadata: ReturnType<typeof metadataClient>, ref: ResourceRef): Informer {
    const apiVersion = ref.group ? `${ref.group}/${ref.version}` : ref.version;
    const kind = ref.kind;
    const informer: Informer = new Informer(new ResourceClient(metadata, ref), {
      onError: (err) => {
        // Not served by this API server: nothing to watch.
        if (isStatusError(err, "NotFound") || isStatusError(err, "MethodNotAllowed")) informer.stop();
        else console.error(`kubedeno: garbage collector: ${ref.resource}: ${(err as Error)?.message ?? err}`);
      },
    });
    informer.addEventHandler({
      add: (obj) => this.builder.add({ type: "add", obj, apiVersion, kind }),
      update: (old, obj) => {
        if (!matters(old, obj)) return;
        this.builder.add({ type: "update", obj, old, apiVersion, kind });
      },
      delete: (obj) => this.builder.add({ type: "delete", obj, apiVersion, kind }),
    });
    return informer;
  }

  /** True once every monitor has listed its resource. */
  get hasSynced(): boolean {
    return this.#monitors.every((m) => m.hasSynced || m.state === "stopped");
  }

  run(): void {
    for (const m of this.#monitors) m.start();
    this.#attemptToDelete.run();
    this.#attemptToOrphan.run();
  }

  async stop(): Promise<void> {
    for (const m of this.#monitors) m.stop();
    this.builder.stop();
    await Promise.all([this.#attemptToDelete.stop(), this.#attemptToOrphan.stop()]);
  }

  #reportInvalidNamespace(dep: GraphNode, ref: OwnerReference): void {
    const d = dep.identity;
    const owner = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      name: ref.name,
      uid: ref.uid,
      namespace: d.namespace,
    };
    this.#recorder.event(
      {
        apiVersion: d.apiVersion,
        kind: d.kind,
        metadata: { name: d.name, namespace: d.namespace, uid: d.uid },
      },
      "Warning",
      "OwnerRefInvalidNamespace",
      `ownerRef ${identityString(owner)} does not exist in namespace "${d.namespace}"`,
    );
  }

  // ---- attempt to delete ----

  async #attemptToDeleteWorker(uid: string): Promise<void> {
    const node = this.builder.graph.get(uid);
    if (!node) return;
    try {
      await this.#attemptToDeleteItem(node);
    } catch (err) {
      if (err instanceof ClusterScopedWithNamespacedOwner) return;
      throw err;
    }
    // A virtual node is looked at again until its informer sees it (or it is found gone).
    if (!node.observed && this.builder.graph.get(uid) === node) throw new Requeue();
  }

  async #attemptToDeleteItem(item: GraphNode): Promise<void> {
    // Being deleted is a one-way trip: wait for the deletion, then handle the dependents.
    if (item.beingDeleted && !item.deletingDependents) return;
    let latest: KubeObject;
    try {
      latest = await this.#ops.getObject(item.identity);
    } catch (err) {
      if (isStatusError(err, "NotFound")) return this.builder.addVirtualDelete(item.identity);
      throw err;
    }
    if (latest.metadata?.uid !== item.identity.uid) return this.builder.addVirtualDelete(item.identity);
    if (item.deletingDependents) return await this.#processDeletingDependents(item);

    const owners = latest.metadata?.ownerReferences ?? [];
    if (owners.length === 0) return;
    const { solid, dangling, waiting } = await this.#classifyReferences(item, owners);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Owners waiting for their dependents must not wait for this one: drop those references too.
      await this.#ops.removeOwnerReferences(item.identity, [...dangling, ...waiting].map((r) => r.uid));
      return;
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      for (const dep of item.dependents) {
        if (dep.deletingDependents) {
          // A possible cycle: stop blocking the owners, then delete in the foreground.
          await this.#ops.unblockOwnerReferences(item.identity, latest.metadata?.ownerReferences ?? []);
          break;
        }
      }
      return await this.#delete(item, latest, "Foreground");
    }
    const policy: PropagationPolicy = hasFinalizer(latest.metadata, FINALIZER_ORPHAN)
      ? "Orphan"
      : hasFinalizer(latest.metadata, FINALIZER_FOREGROUND)
      ? "Foreground"
      : "Background";
    await this.#delete(item, latest, policy);
  }

  async #delete(item: GraphNode, latest: KubeObject, policy: PropagationPolicy): Promise<void> {
    try {
      await this.#ops.deleteObject(
        item.identity,
        latest.metadata?.resourceVersion,
        latest.metadata?.ownerReferences,
        policy,
      );
    } catch (err) {
      if (isStatusError(err, "NotFound")) return this.builder.addVirtualDelete(item.identity);
      throw err;
    }
  }

  /** An owner deleting in the foreground: done when no dependent blocks it, else push them. */
  async #processDeletingDependents(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      await this.#ops.removeFinalizer(item.identity, FINALIZER_FOREGROUND);
      return;
    }
    for (const dep of blocking) {
      if (!dep.deletingDependents) this.#attemptToDelete.enqueue(dep.identity.uid);
    }
  }

  /**
   * Sorts the references: solid (the owner exists and is not waiting for its dependents),
   * dangling (gone), waiting (being deleted with `foregroundDeletion`).
   */
  async #classifyReferences(item: GraphNode, refs: OwnerReference[]): Promise<Classified> {
    const out: Classified = { solid: [], dangling: [], waiting: [] };
    for (const ref of refs) {
      const { dangling, owner } = await this.#isDangling(ref, item);
      if (dangling) out.dangling.push(ref);
      else if (owner?.metadata?.deletionTimestamp && hasFinalizer(owner.metadata, FINALIZER_FOREGROUND)) {
        out.waiting.push(ref);
      } else out.solid.push(ref);
    }
    return out;
  }

  /** Whether the owner a reference names is gone (by a live read; a uid mismatch is gone too). */
  async #isDangling(
    ref: OwnerReference,
    item: GraphNode,
  ): Promise<{ dangling: boolean; owner?: KubeObject }> {
    const absent: ObjectIdentity = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      name: ref.name,
      uid: ref.uid,
      namespace: "",
    };
    const cache = this.builder.absentOwners;
    if (cache.has(absent)) return { dangling: true };
    absent.namespace = item.identity.namespace;
    if (cache.has(absent)) return { dangling: true };
    const resource = this.#ops.resourceFor(ref.apiVersion, ref.kind);
    if (!resource.namespaced) absent.namespace = "";
    if (!item.identity.namespace && resource.namespaced) {
      throw new ClusterScopedWithNamespacedOwner(
        `${identityString(item.identity)} is cluster-scoped but refers to a namespaced owner`,
      );
    }
    let owner: KubeObject;
    try {
      owner = await this.#ops.getMetadata(resource, item.identity.namespace, ref.name);
    } catch (err) {
      if (isStatusError(err, "NotFound")) {
        cache.add(absent);
        return { dangling: true };
      }
      throw err;
    }
    if (owner.metadata?.uid !== ref.uid) {
      cache.add(absent);
      return { dangling: true };
    }
    return { dangling: false, owner };
  }

  // ---- attempt to orphan ----

  async #attemptToOrphanWorker(uid: string): Promise<void> {
    const owner = this.builder.graph.get(uid);
    if (!owner) return;
    const failures: string[] = [];
    await Promise.all([...owner.dependents].map(async (dep) => {
      try {
        await this.#ops.removeOwnerReferences(dep.identity, [uid]);
      } catch (err) {
        if (!isStatusError(err, "NotFound")) {
          failures.push(`orphaning ${identityString(dep.identity)} failed, ${(err as Error).message}`);
        }
      }
    }));
    if (failures.length > 0) {
      throw new Error(
        `failed to orphan dependents of owner ${identityString(owner.identity)}, got errors: ${
          failures.join(", ")
        }`,
      );
    }
    await this.#ops.removeFinalizer(owner.identity, FINALIZER_ORPHAN);
  }
}

/** An update worth a graph change: owner references, deletion or finalizers moved. */
function matters(old: KubeObject, obj: KubeObject): boolean {
  const a = old.metadata ?? {};
  const b = obj.metadata ?? {};
  if (a.uid !== b.uid) return true;
  if (!!a.deletionTimestamp !== !!b.deletionTimestamp) return true;
  if (!jsonEqual(a.finalizers ?? [], b.finalizers ?? [])) return true;
  return !jsonEqual(a.ownerReferences ?? [], b.ownerReferences ?? []);
}

function logError(name: string, key: string, err: unknown): void {
  if (err instanceof Requeue) return;
  const message = err instanceof Error ? err.message : String(err);
  if (/the object has been modified|Operation cannot be fulfilled/.test(message)) return;
  if (err instanceof RestMappingError) {
    console.error(`kubedeno: ${name}: ${key}: ${message}`);
    return;
  }
  console.error(`kubedeno: ${name}: error syncing item ${key}: ${message}`);
}
