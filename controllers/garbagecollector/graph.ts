/**
 * The garbage collector's dependency graph: one node per object uid (observed through an
 * informer, or "virtual" — only named by some dependent's owner reference), each knowing its
 * owner references and its dependents. Plus the small reference helpers upstream's graph uses.
 */

import type { OwnerReference } from "../../machinery/object_meta.ts";

/** Where an object is: its owner-reference coordinates and its namespace ("" if cluster-scoped). */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  namespace: string;
}

export function sameIdentity(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion &&
    a.namespace === b.namespace;
}

/** `[v1/ConfigMap, namespace: default, name: x, uid: …]`, for logs and events. */
export function identityString(id: ObjectIdentity): string {
  return `[${id.apiVersion}/${id.kind}, namespace: ${id.namespace}, name: ${id.name}, uid: ${id.uid}]`;
}

/** An owner reference names the same object as `id` (apiVersion, kind, name, uid). */
export function referenceMatches(ref: OwnerReference, id: Omit<ObjectIdentity, "namespace">): boolean {
  return ref.uid === id.uid && ref.name === id.name && ref.kind === id.kind &&
    ref.apiVersion === id.apiVersion;
}

export class GraphNode {
  identity: ObjectIdentity;
  owners: OwnerReference[];
  readonly dependents = new Set<GraphNode>();
  /** Seen through an informer; false for a virtual node made from an owner reference. */
  observed: boolean;
  /** Has a deletionTimestamp (a one-way trip). */
  beingDeleted = false;
  /** Being deleted with the `foregroundDeletion` finalizer: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(identity: ObjectIdentity, owners: OwnerReference[], observed: boolean) {
    this.identity = identity;
    this.owners = owners;
    this.observed = observed;
  }

  /** Dependents whose reference to this node has `blockOwnerDeletion: true`. */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }
}

/** uid → node. Written only by the graph builder. */
export class Graph {
  readonly #nodes = new Map<string, GraphNode>();

  get size(): number {
    return this.#nodes.size;
  }

  get(uid: string): GraphNode | undefined {
    return this.#nodes.get(uid);
  }

  set(node: GraphNode): void {
    this.#nodes.set(node.identity.uid, node);
  }

  delete(uid: string): void {
    this.#nodes.delete(uid);
  }
}

/** How the owner references of an object changed, by uid. */
export function referencesDiff(
  before: OwnerReference[],
  after: OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: Array<[OwnerReference, OwnerReference]> } {
  const old = new Map(before.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: Array<[OwnerReference, OwnerReference]> = [];
  for (const ref of after) {
    const was = old.get(ref.uid);
    if (!was) {
      added.push(ref);
      continue;
    }
    old.delete(ref.uid);
    if (!sameReference(was, ref)) changed.push([was, ref]);
  }
  return { added, removed: [...old.values()], changed };
}

function sameReference(a: OwnerReference, b: OwnerReference): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.uid === b.uid &&
    (a.controller ?? null) === (b.controller ?? null) &&
    (a.blockOwnerDeletion ?? null) === (b.blockOwnerDeletion ?? null);
}

/**
 * Splits dependents into those whose reference to `owner.uid` matches the owner's coordinates
 * and those that name the uid otherwise (a dependent can be in both).
 */
export function partitionDependents(
  dependents: Iterable<GraphNode>,
  owner: ObjectIdentity,
): { matching: GraphNode[]; mismatching: GraphNode[] } {
  const matching: GraphNode[] = [];
  const mismatching: GraphNode[] = [];
  for (const dep of dependents) {
    let match = false;
    let mismatch = false;
    if (owner.namespace && owner.namespace !== dep.identity.namespace) {
      mismatch = true;
    } else {
      for (const ref of dep.owners) {
        if (ref.uid !== owner.uid) continue;
        if (referenceMatches(ref, owner)) match = true;
        else mismatch = true;
      }
    }
    if (match) matching.push(dep);
    if (mismatch) mismatching.push(dep);
  }
  return { matching, mismatching };
}

function identityLess(a: ObjectIdentity, b: ObjectIdentity): boolean {
  for (const k of ["kind", "apiVersion", "namespace", "name", "uid"] as const) {
    if (a[k] !== b[k]) return a[k] < b[k];
  }
  return false;
}

/**
 * Another identity the dependents give the uid of an owner verified absent: the first after
 * it in (kind, apiVersion, namespace, name) order, else the first of all; undefined if none.
 */
export function alternateOwnerIdentity(
  dependents: GraphNode[],
  absent: ObjectIdentity,
): ObjectIdentity | undefined {
  const clusterScoped = absent.namespace === "";
  const seen = new Set([identityKey(absent)]);
  let first: ObjectIdentity | undefined;
  let firstAfter: ObjectIdentity | undefined;
  for (const dep of dependents) {
    for (const ref of dep.owners) {
      if (ref.uid !== absent.uid) continue;
      if (referenceMatches(ref, absent) && (clusterScoped || absent.namespace === dep.identity.namespace)) {
        continue;
      }
      const id: ObjectIdentity = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: ref.name,
        uid: ref.uid,
        namespace: dep.identity.namespace,
      };
      if (clusterScoped && id.apiVersion === absent.apiVersion && id.kind === absent.kind) id.namespace = "";
      const key = identityKey(id);
      if (seen.has(key)) continue;
      seen.add(key);
      if (!first || identityLess(id, first)) first = id;
      if (identityLess(absent, id) && (!firstAfter || identityLess(id, firstAfter))) firstAfter = id;
    }
  }
  return firstAfter ?? first;
}

/** A string naming an identity, for sets and the absent-owner cache. */
export function identityKey(id: ObjectIdentity): string {
  return `${id.apiVersion}\u0000${id.kind}\u0000${id.namespace}\u0000${id.name}\u0000${id.uid}`;
}

/** Remembers, least recently used first out, owners the API server said do not exist. */
export class ReferenceCache {
  readonly #keys = new Map<string, true>();
  constructor(readonly capacity = 500) {}

  add(id: ObjectIdentity): void {
    const key = identityKey(id);
    this.#keys.delete(key);
    this.#keys.set(key, true);
    if (this.#keys.size > this.capacity) this.#keys.delete(this.#keys.keys().next().value!);
  }

  has(id: ObjectIdentity): boolean {
    const key = identityKey(id);
    if (!this.#keys.has(key)) return false;
    this.#keys.delete(key);
    this.#keys.set(key, true);
    return true;
  }
}
