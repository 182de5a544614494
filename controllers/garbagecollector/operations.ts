/**
 * The garbage collector's calls to the API server, by object identity: read metadata, delete
 * with uid (and resourceVersion) preconditions, remove owner references from a dependent,
 * unblock a dependent's references, and remove one finalizer from an owner.
 */

import { type Client, ResourceClient, type ResourceRef } from "../../machinery/client.ts";
import { jsonEqual, type KubeObject, type OwnerReference } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ObjectIdentity } from "./graph.ts";
import type { RestMapper } from "./resources.ts";

/** The reference's group-version does not serve its kind (or not yet). */
export class RestMappingError extends Error {
  constructor(apiVersion: string, kind: string) {
    super(`unable to get REST mapping for ${kind}.${apiVersion}`);
    this.name = "RestMappingError";
  }
}

export type PropagationPolicy = "Background" | "Foreground" | "Orphan";

/** How many times a read-modify-write is tried on conflicts (upstream's retry.DefaultBackoff steps). */
const CONFLICT_RETRIES = 4;

export class Operations {
  readonly #client: Client;
  readonly #metadata: Client;
  readonly #mapper: RestMapper;
  readonly #clients = new Map<string, { full: ResourceClient; meta: ResourceClient }>();

  constructor(client: Client, metadata: Client, mapper: RestMapper) {
    this.#client = client;
    this.#metadata = metadata;
    this.#mapper = mapper;
  }

  /** The resource of an apiVersion and kind; throws RestMappingError when not served. */
  resourceFor(apiVersion: string, kind: string): ResourceRef {
    const ref = this.#mapper.mapping(apiVersion, kind);
    if (!ref) throw new RestMappingError(apiVersion, kind);
    return ref;
  }

  #clientsFor(ref: ResourceRef): { full: ResourceClient; meta: ResourceClient } {
    const key = `${ref.group}/${ref.version}/${ref.resource}`;
    let c = this.#clients.get(key);
    if (!c) {
      c = { full: new ResourceClient(this.#client, ref), meta: new ResourceClient(this.#metadata, ref) };
      this.#clients.set(key, c);
    }
    return c;
  }

  #namespaceOf(ref: ResourceRef, namespace: string): string {
    return ref.namespaced ? namespace : "";
  }

  /** The object's live metadata. */
  getObject(id: ObjectIdentity): Promise<KubeObject> {
    const ref = this.resourceFor(id.apiVersion, id.kind);
    return this.#clientsFor(ref).meta.get(this.#namespaceOf(ref, id.namespace), id.name);
  }

  /** Any object's metadata by resource, namespace and name. */
  getMetadata(ref: ResourceRef, namespace: string, name: string): Promise<KubeObject> {
    return this.#clientsFor(ref).meta.get(this.#namespaceOf(ref, namespace), name);
  }

  /**
   * Deletes the object if it is still the one seen (uid and resourceVersion). If it changed
   * meanwhile but its owner references did not, deletes it on the uid alone.
   */
  async deleteObject(
    id: ObjectIdentity,
    resourceVersion: string | undefined,
    owners: OwnerReference[] | undefined,
    propagationPolicy: PropagationPolicy,
  ): Promise<void> {
    const ref = this.resourceFor(id.apiVersion, id.kind);
    const { full } = this.#clientsFor(ref);
    const namespace = this.#namespaceOf(ref, id.namespace);
    try {
      await full.delete(namespace, id.name, {
        preconditions: { uid: id.uid, resourceVersion },
        propagationPolicy,
      });
      return;
    } catch (err) {
      if (!isStatusError(err, "Conflict") || !resourceVersion) throw err;
    }
    let live: KubeObject;
    try {
      live = await this.getObject(id);
    } catch (err) {
      if (isStatusError(err, "NotFound")) return;
      throw err;
    }
    if (live.metadata?.uid !== id.uid) return;
    if (!jsonEqual(live.metadata?.ownerReferences ?? [], owners ?? [])) {
      throw new Error(`the owner references of ${id.kind} ${id.name} changed; will look again`);
    }
    await full.delete(namespace, id.name, { preconditions: { uid: id.uid }, propagationPolicy });
  }

  /** Removes the references to `ownerUids` from the object (a no-op for references not there). */
  async removeOwnerReferences(id: ObjectIdentity, ownerUids: string[]): Promise<void> {
    const ref = this.resourceFor(id.apiVersion, id.kind);
    const { full } = this.#clientsFor(ref);
    const namespace = this.#namespaceOf(ref, id.namespace);
    const patch = {
      metadata: { ownerReferences: ownerUids.map((uid) => ({ $patch: "delete", uid })), uid: id.uid },
    };
    try {
      await full.patch(namespace, id.name, "strategic", patch);
      return;
    } catch (err) {
      if (!isStatusError(err, "UnsupportedMediaType")) throw err;
    }
    // Kinds without strategic merge (custom resources): a merge patch of the whole list.
    await this.#mergePatchOwners(id, (owners) => owners.filter((o) => !ownerUids.includes(o.uid)));
  }

  /** Sets `blockOwnerDeletion: false` on the object's blocking references. */
  async unblockOwnerReferences(id: ObjectIdentity, owners: OwnerReference[]): Promise<void> {
    const blocking = owners.filter((o) => o.blockOwnerDeletion === true);
    if (blocking.length === 0) return;
    const ref = this.resourceFor(id.apiVersion, id.kind);
    const { full } = this.#clientsFor(ref);
    const namespace = this.#namespaceOf(ref, id.namespace);
    const patch = {
      metadata: { ownerReferences: blocking.map((o) => ({ ...o, blockOwnerDeletion: false })), uid: id.uid },
    };
    try {
      await full.patch(namespace, id.name, "strategic", patch);
      return;
    } catch (err) {
      if (!isStatusError(err, "UnsupportedMediaType")) throw err;
    }
    await this.#mergePatchOwners(
      id,
      (list) => list.map((o) => o.blockOwnerDeletion === true ? { ...o, blockOwnerDeletion: false } : o),
    );
  }

  async #mergePatchOwners(
    id: ObjectIdentity,
    change: (owners: OwnerReference[]) => OwnerReference[],
  ): Promise<void> {
    const ref = this.resourceFor(id.apiVersion, id.kind);
    const { full } = this.#clientsFor(ref);
    const namespace = this.#namespaceOf(ref, id.namespace);
    const live = await this.getObject(id);
    if (live.metadata?.uid !== id.uid) return;
    await full.patch(namespace, id.name, "merge", {
      metadata: {
        ownerReferences: change(live.metadata?.ownerReferences ?? []),
        resourceVersion: live.metadata?.resourceVersion,
        uid: id.uid,
      },
    });
  }

  /** Removes `finalizer` from the object (gone or already without it: nothing to do). */
  async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    const ref = this.resourceFor(id.apiVersion, id.kind);
    const { full } = this.#clientsFor(ref);
    const namespace = this.#namespaceOf(ref, id.namespace);
    for (let attempt = 0;; attempt++) {
      let live: KubeObject;
      try {
        live = await this.getObject(id);
      } catch (err) {
        if (isStatusError(err, "NotFound")) return;
        throw err;
      }
      const finalizers = live.metadata?.finalizers ?? [];
      if (live.metadata?.uid !== id.uid || !finalizers.includes(finalizer)) return;
      try {
        await full.patch(namespace, id.name, "merge", {
          metadata: {
            finalizers: finalizers.filter((f) => f !== finalizer),
            resourceVersion: live.metadata?.resourceVersion,
          },
        });
        return;
      } catch (err) {
        if (isStatusError(err, "NotFound")) return;
        if (!isStatusError(err, "Conflict") || attempt + 1 >= CONFLICT_RETRIES) throw err;
      }
    }
  }
}
