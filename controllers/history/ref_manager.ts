/**
 * Claiming, as upstream's controller ref manager does it: of the objects in an owner's
 * namespace, the owner keeps those it controls that still match its selector, adopts matching
 * orphans (after a fresh read shows it is not being deleted), and releases those it controls that
 * stopped matching. Objects controlled by someone else are never touched. Adoption and release
 * are strategic-merge patches of `ownerReferences` guarded by the object's uid.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { type LabelSelector, matchesLabels } from "../../machinery/labels.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { controllerRef, ownerRefTo } from "../pods.ts";

/** What a claiming controller is, as far as its ownerReferences go. */
export interface ClaimingOwner {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string };
}

export interface ClaimOptions<T extends KubeObject> {
  owner: ClaimingOwner;
  selector: LabelSelector;
  /** Writes adoptions and releases. */
  client: ResourceClient<T>;
  /** Throws when the owner may not adopt (checked once, before the first adoption). */
  canAdopt: () => Promise<void>;
  /** A further condition an object must meet to be claimed (e.g. its name names the owner). */
  filter?: (obj: T) => boolean;
}

/**
 * A `canAdopt` that reads the owner afresh and refuses if it is gone, replaced (another uid) or
 * being deleted, as upstream's `RecheckDeletionTimestamp`.
 */
export function recheckDeletionTimestamp(
  client: ResourceClient,
  owner: ClaimingOwner,
): () => Promise<void> {
  let checked: Promise<void> | undefined;
  return () =>
    checked ??= (async () => {
      const { namespace = "", name = "", uid } = owner.metadata ?? {};
      const fresh = await client.get(namespace, name);
      if (fresh.metadata?.uid !== uid) {
        throw new Error(
          `original ${owner.kind} ${namespace}/${name} is gone: got uid ${fresh.metadata?.uid}, wanted ${uid}`,
        );
      }
      if (fresh.metadata?.deletionTimestamp) {
        throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
      }
    })();
}

/** The objects the owner controls after adopting and releasing; fails after trying them all. */
export async function claimObjects<T extends KubeObject>(
  objects: T[],
  options: ClaimOptions<T>,
): Promise<T[]> {
  const { owner, selector, filter } = options;
  const uid = owner.metadata?.uid;
  const claimed: T[] = [];
  const errors: unknown[] = [];
  const matches = (o: T) => matchesLabels(selector, o.metadata?.labels ?? {}) && (!filter || filter(o));
  for (const obj of objects) {
    const ref = controllerRef(obj as never);
    try {
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches(obj)) claimed.push(obj);
        else if (!owner.metadata?.deletionTimestamp) await release(options, obj);
        continue;
      }
      if (owner.metadata?.deletionTimestamp || !matches(obj)) continue;
      if (obj.metadata?.deletionTimestamp) continue;
      if (obj.metadata?.namespace !== owner.metadata?.namespace) continue;
      const adopted = await adopt(options, obj);
      if (adopted) claimed.push(adopted);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
  return claimed;
}

async function adopt<T extends KubeObject>(options: ClaimOptions<T>, obj: T): Promise<T | undefined> {
  await options.canAdopt();
  const ref = ownerRefTo(options.owner);
  try {
    return await options.client.patch(obj.metadata!.namespace!, obj.metadata!.name!, "strategic", {
      metadata: { ownerReferences: [ref], uid: obj.metadata!.uid },
    });
  } catch (err) {
    // Gone, or replaced by another object of the same name: nothing to adopt.
    if (isStatusError(err, "NotFound") || isStatusError(err, "Invalid")) return undefined;
    throw err;
  }
}

async function release<T extends KubeObject>(options: ClaimOptions<T>, obj: T): Promise<void> {
  try {
    await options.client.patch(obj.metadata!.namespace!, obj.metadata!.name!, "strategic", {
      metadata: {
        ownerReferences: [{ $patch: "delete", uid: options.owner.metadata!.uid }],
        uid: obj.metadata!.uid,
      },
    });
  } catch (err) {
    if (!isStatusError(err, "NotFound") && !isStatusError(err, "Invalid")) throw err;
  }
}
