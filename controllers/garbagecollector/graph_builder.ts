/**
 * The graph builder: informer events (and "virtual" deletions the collector infers) go into one
 * queue, and are applied to the dependency graph by one loop, in order and off the informers'
 * path. Applying a change decides what to look at next: objects whose owners may be gone go to
 * attempt-to-delete; owners being deleted with `orphan` go to attempt-to-orphan; owners being
 * deleted with `foregroundDeletion` get their dependents looked at.
 */

import type { KubeObject, ObjectMeta, OwnerReference } from "../../machinery/object_meta.ts";
import {
  alternateOwnerIdentity,
  Graph,
  GraphNode,
  type ObjectIdentity,
  partitionDependents,
  ReferenceCache,
  referenceMatches,
  referencesDiff,
  sameIdentity,
} from "./graph.ts";

export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_FOREGROUND = "foregroundDeletion";

export interface GraphChange {
  type: "add" | "update" | "delete";
  /** Inferred by the collector (the API server said the object is gone), not seen by an informer. */
  virtual?: boolean;
  obj: KubeObject;
  old?: KubeObject;
  /** The kind as the informer's resource names it (metadata-only objects carry none). */
  apiVersion: string;
  kind: string;
}

/** Where the builder sends the nodes it wants looked at. */
export interface GraphBuilderSinks {
  attemptToDelete(node: GraphNode, options?: { rateLimited?: boolean }): void;
  attemptToOrphan(node: GraphNode): void;
  /** A dependent names an owner in another namespace (upstream's OwnerRefInvalidNamespace). */
  invalidOwnerNamespace(dependent: GraphNode, owner: OwnerReference): void;
}

/** Changes applied per turn of the event loop before yielding. */
const BATCH = 1000;

export class GraphBuilder {
  readonly graph = new Graph();
  readonly absentOwners = new ReferenceCache(500);
  readonly #sinks: GraphBuilderSinks;
  #changes: GraphChange[] = [];
  #head = 0;
  #scheduled = false;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(sinks: GraphBuilderSinks) {
    this.#sinks = sinks;
  }

  /** Queues a change; O(1), for informer handlers. */
  add(change: GraphChange): void {
    if (this.#stopped) return;
    this.#changes.push(change);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.#drain(), 0);
    }
  }

  /** Queues the deletion of an object the API server says is gone. */
  addVirtualDelete(id: ObjectIdentity): void {
    this.add({
      type: "delete",
      virtual: true,
      apiVersion: id.apiVersion,
      kind: id.kind,
      obj: { metadata: { name: id.name, namespace: id.namespace || undefined, uid: id.uid } },
    });
  }

  /** Changes waiting to be applied. */
  get pending(): number {
    return this.#changes.length - this.#head;
  }

  /** Resolves once every queued change has been applied. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#changes = [];
    this.#head = 0;
    for (const w of this.#idle.splice(0)) w();
  }

  #drain(): void {
    this.#scheduled = false;
    let n = 0;
    while (this.#head < this.#changes.length && n++ < BATCH && !this.#stopped) {
      const change = this.#changes[this.#head];
      this.#changes[this.#head++] = undefined as unknown as GraphChange;
      try {
        this.process(change);
      } catch (err) {
        console.error(`kubedeno: garbage collector: graph change: ${(err as Error).message}`);
      }
    }
    if (this.#head >= this.#changes.length) {
      this.#changes = [];
      this.#head = 0;
      for (const w of this.#idle.splice(0)) w();
    } else if (!this.#stopped) {
      this.#scheduled = true;
      setTimeout(() => this.#drain(), 0);
    }
  }

  /** Applies one change to the graph. */
  process(change: GraphChange): void {
    const meta = change.obj.metadata ?? {};
    const uid = meta.uid;
    if (!uid) return;
    let existing = this.graph.get(uid);
    if (existing && !change.virtual && !existing.observed) {
      existing = this.#observe(existing, identityOf(change));
    }
    if (change.type !== "delete") {
      if (!existing) {
        const node = new GraphNode(identityOf(change), meta.ownerReferences ?? [], true);
        node.beingDeleted = !!meta.deletionTimestamp;
        node.deletingDependents = node.beingDeleted && hasFinalizer(meta, FINALIZER_FOREGROUND);
        this.graph.set(node);
        this.#addDependentToOwners(node, node.owners);
        this.#processTransitions(change.old?.metadata, meta, node);
        return;
      }
      if (
        !change.virtual &&
        (existing.identity.apiVersion !== change.apiVersion || existing.identity.kind !== change.kind)
      ) {
        existing.identity = { ...existing.identity, apiVersion: change.apiVersion, kind: change.kind };
      }
      const { added, removed, changed } = referencesDiff(existing.owners, meta.ownerReferences ?? []);
      if (added.length || removed.length || changed.length) {
        this.#addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = meta.ownerReferences ?? [];
        this.#addDependentToOwners(existing, added);
        this.#removeDependentFromOwners(existing, removed);
      }
      if (meta.deletionTimestamp) existing.beingDeleted = true;
      this.#processTransitions(change.old?.metadata, meta, existing);
      return;
    }
    if (!existing) return;
    let remove = true;
    if (change.virtual) {
      const deleted = identityOf(change);
      if (!existing.observed) {
        const { matching, mismatching } = partitionDependents(existing.dependents, deleted);
        if (mismatching.length > 0) {
          // Some dependents name this uid with other coordinates: keep the virtual node.
          remove = false;
          if (matching.length > 0) {
            this.absentOwners.add(deleted);
            for (const dep of matching) this.#sinks.attemptToDelete(dep);
          }
          if (sameIdentity(existing.identity, deleted)) {
            const replacement = alternateOwnerIdentity(mismatching, deleted);
            if (replacement) {
              existing.identity = replacement;
              this.#sinks.attemptToDelete(existing, { rateLimited: true });
            }
          }
        }
      } else if (!sameIdentity(existing.identity, deleted)) {
        // The real object disagrees with the coordinates found absent: keep it.
        remove = false;
        const { matching } = partitionDependents(existing.dependents, deleted);
        if (matching.length > 0) {
          this.absentOwners.add(deleted);
          for (const dep of matching) this.#sinks.attemptToDelete(dep);
        }
      }
    }
    if (!remove) return;
    this.graph.delete(uid);
    this.#removeDependentFromOwners(existing, existing.owners);
    if (existing.dependents.size > 0) this.absentOwners.add(identityOf(change));
    for (const dep of existing.dependents) this.#sinks.attemptToDelete(dep);
    for (const ref of existing.owners) {
      const owner = this.graph.get(ref.uid);
      if (owner?.deletingDependents) this.#sinks.attemptToDelete(owner);
    }
  }

  /** A virtual node is now seen for real; dependents naming it otherwise are rechecked. */
  #observe(node: GraphNode, observed: ObjectIdentity): GraphNode {
    if (!sameIdentity(observed, node.identity)) {
      const { mismatching } = partitionDependents(node.dependents, observed);
      for (const dep of mismatching) {
        if (observed.namespace && dep.identity.namespace !== observed.namespace) {
          const ref = dep.owners.find((r) => r.uid === observed.uid);
          if (ref) this.#sinks.invalidOwnerNamespace(dep, ref);
        }
        this.#sinks.attemptToDelete(dep);
      }
      node.identity = observed;
    }
    node.observed = true;
    return node;
  }

  /**
   * Files `node` under each owner, making a virtual node (to be verified) for owners not yet
   * seen; a reference that cannot be right (another namespace, other coordinates) gets the
   * dependent checked.
   */
  #addDependentToOwners(node: GraphNode, owners: OwnerReference[]): void {
    let suspicious = false;
    for (const ref of owners) {
      let owner = this.graph.get(ref.uid);
      if (!owner) {
        owner = new GraphNode(
          {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            name: ref.name,
            uid: ref.uid,
            namespace: node.identity.namespace,
          },
          [],
          false,
        );
        this.graph.set(owner);
        owner.dependents.add(node);
        this.#sinks.attemptToDelete(owner);
        continue;
      }
      owner.dependents.add(node);
      if (suspicious) continue;
      const ownerNamespaced = owner.identity.namespace !== "";
      if (ownerNamespaced && owner.identity.namespace !== node.identity.namespace) {
        if (owner.observed) this.#sinks.invalidOwnerNamespace(node, ref);
        suspicious = true;
      } else if (!referenceMatches(ref, owner.identity)) {
        suspicious = true;
      } else if (
        !ownerNamespaced && owner.identity.namespace !== node.identity.namespace && !owner.observed
      ) {
        suspicious = true;
      }
    }
    if (suspicious) this.#sinks.attemptToDelete(node);
  }

  #removeDependentFromOwners(node: GraphNode, owners: OwnerReference[]): void {
    for (const ref of owners) this.graph.get(ref.uid)?.dependents.delete(node);
  }

  /** Owners a dependent stopped blocking may now finish their foreground deletion. */
  #addUnblockedOwnersToDeleteQueue(
    removed: OwnerReference[],
    changed: Array<[OwnerReference, OwnerReference]>,
  ): void {
    for (const ref of removed) {
      if (ref.blockOwnerDeletion !== true) continue;
      const owner = this.graph.get(ref.uid);
      if (owner) this.#sinks.attemptToDelete(owner);
    }
    for (const [before, after] of changed) {
      if (before.blockOwnerDeletion === true && after.blockOwnerDeletion !== true) {
        const owner = this.graph.get(after.uid);
        if (owner) this.#sinks.attemptToDelete(owner);
      }
    }
  }

  #processTransitions(old: ObjectMeta | undefined, meta: ObjectMeta, node: GraphNode): void {
    if (deletionStartsWithFinalizer(old, meta, FINALIZER_ORPHAN)) {
      this.#sinks.attemptToOrphan(node);
      return;
    }
    if (deletionStartsWithFinalizer(old, meta, FINALIZER_FOREGROUND)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.#sinks.attemptToDelete(dep);
      this.#sinks.attemptToDelete(node);
    }
  }
}

function identityOf(change: GraphChange): ObjectIdentity {
  const m = change.obj.metadata ?? {};
  return {
    apiVersion: change.apiVersion,
    kind: change.kind,
    name: m.name ?? "",
    uid: m.uid ?? "",
    namespace: m.namespace ?? "",
  };
}

export function hasFinalizer(meta: ObjectMeta | undefined, finalizer: string): boolean {
  return !!meta?.finalizers?.includes(finalizer);
}

/** The object just started being deleted with `finalizer` (or was first seen that way). */
function deletionStartsWithFinalizer(
  old: ObjectMeta | undefined,
  meta: ObjectMeta,
  finalizer: string,
): boolean {
  if (!meta.deletionTimestamp || !hasFinalizer(meta, finalizer)) return false;
  if (!old) return true;
  return !old.deletionTimestamp || !hasFinalizer(old, finalizer);
}
