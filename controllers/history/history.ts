/**
 * A controller's history as ControllerRevisions, after upstream's history package: a revision
 * holds the data to restore the owner's template (for StatefulSets and DaemonSets a patch that
 * replaces `spec.template`), is named `<owner>-<hash>`, carries the template's labels and the
 * `controller.kubernetes.io/hash` label, and is numbered by `revision`. Creating one whose name is
 * taken by other data bumps the collision count and tries the next name; an equal revision that
 * is not the newest is brought back by renumbering it (a rollback).
 */

import type { Client, ResourceClient } from "../../machinery/client.ts";
import { type LabelSelector, matchesLabels } from "../../machinery/labels.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { Cache } from "../framework/cache.ts";
import { controllerRef, ownerRefTo } from "../pods.ts";
import type { ControllerRevision } from "../types.ts";
import { canonicalJson, controllerRevisionName, hashControllerRevision } from "./hash.ts";
import { type ClaimingOwner, claimObjects } from "./ref_manager.ts";

/** The label holding the hash of a revision's data. */
export const CONTROLLER_REVISION_HASH_LABEL = "controller.kubernetes.io/hash";

/**
 * A new (not yet created) revision of `parent` holding `data`, with the template's labels and
 * a name from the hash of the data and the collision count.
 */
export function newControllerRevision(
  parent: ClaimingOwner,
  templateLabels: Record<string, string> | undefined,
  data: Record<string, unknown>,
  revision: number,
  collisionCount?: number,
): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: controllerRevisionName(parent.metadata?.name ?? "", hash),
      namespace: parent.metadata?.namespace,
      labels: { ...templateLabels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [ownerRefTo(parent)],
    },
    data,
    revision,
  };
}

function time(s: string | null | undefined): number {
  return s ? Date.parse(s) : 0;
}

/** Oldest first: by `revision`, then creation time, then name. */
export function sortControllerRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort((a, b) =>
    (a.revision - b.revision) ||
    (time(a.metadata?.creationTimestamp) - time(b.metadata?.creationTimestamp)) ||
    ((a.metadata?.name ?? "") < (b.metadata?.name ?? "")
      ? -1
      : (a.metadata?.name ?? "") > (b.metadata?.name ?? "")
      ? 1
      : 0)
  );
}

/** Whether two revisions hold the same data. */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  return canonicalJson(a.data ?? null) === canonicalJson(b.data ?? null);
}

/** The revisions equal to `needle`, in their order. */
export function findEqualRevisions(
  revisions: readonly ControllerRevision[],
  needle: ControllerRevision,
): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** One more than the newest revision number of sorted `revisions` (1 when there are none). */
export function nextRevision(sorted: readonly ControllerRevision[]): number {
  return sorted.length ? sorted[sorted.length - 1].revision + 1 : 1;
}

/** Reads revisions from an informer's cache, writes them through the client. */
export class History {
  readonly #cache: Cache<ControllerRevision>;
  readonly #client: ResourceClient<ControllerRevision>;

  constructor(client: Client, cache: Cache<ControllerRevision>) {
    this.#client = client.resource<ControllerRevision>("apps", "controllerrevisions");
    this.#cache = cache;
  }

  get client(): ResourceClient<ControllerRevision> {
    return this.#client;
  }

  /** The revisions in the parent's namespace matching `selector`, owned by it or by no controller. */
  list(parent: ClaimingOwner, selector: LabelSelector): ControllerRevision[] {
    return this.#cache.inNamespace(parent.metadata?.namespace ?? "").filter((r) => {
      if (!matchesLabels(selector, r.metadata?.labels ?? {})) return false;
      const ref = controllerRef(r);
      return !ref || ref.uid === parent.metadata?.uid;
    });
  }

  /**
   * Creates `revision` for `parent`, renaming it with a bumped collision count while its name is
   * taken by a revision holding other data. Answers the revision (created, or the equal one found)
   * and the collision count used.
   */
  async create(
    parent: ClaimingOwner,
    revision: ControllerRevision,
    collisionCount: number,
  ): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    const namespace = parent.metadata?.namespace ?? "";
    for (let attempt = 0; attempt < 100; attempt++) {
      const hash = hashControllerRevision(revision.data ?? {}, collisionCount);
      const candidate: ControllerRevision = {
        ...revision,
        metadata: {
          ...revision.metadata,
          name: controllerRevisionName(parent.metadata?.name ?? "", hash),
          namespace,
          labels: { ...revision.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
        },
      };
      try {
        return { revision: await this.#client.create(namespace, candidate), collisionCount };
      } catch (err) {
        if (!isStatusError(err, "AlreadyExists")) throw err;
        const exists = await this.#client.get(namespace, candidate.metadata!.name!);
        if (equalRevision(exists, candidate)) return { revision: exists, collisionCount };
        collisionCount++;
      }
    }
    throw new Error(`Too many ControllerRevision name collisions for ${namespace}/${parent.metadata?.name}`);
  }

  /** Renumbers `revision` to `newRevision`, retrying on conflicts from a fresh read. */
  async update(revision: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
    let current = revision;
    for (let attempt = 0;; attempt++) {
      if (current.revision === newRevision) return current;
      try {
        return await this.#client.update(current.metadata!.namespace!, { ...current, revision: newRevision });
      } catch (err) {
        if (!isStatusError(err, "Conflict") || attempt >= 4) throw err;
        current = await this.#client.get(current.metadata!.namespace!, current.metadata!.name!);
      }
    }
  }

  /** Deletes `revision` (already gone is fine). */
  async delete(revision: ControllerRevision): Promise<void> {
    try {
      await this.#client.delete(revision.metadata!.namespace!, revision.metadata!.name!, {
        preconditions: { uid: revision.metadata!.uid },
      });
    } catch (err) {
      if (!isStatusError(err, "NotFound") && !isStatusError(err, "Conflict")) throw err;
    }
  }

  /** Adopts the orphans among `revisions` (those with no controller); answers the list with them adopted. */
  async adoptOrphans(
    parent: ClaimingOwner,
    selector: LabelSelector,
    revisions: ControllerRevision[],
    canAdopt: () => Promise<void>,
  ): Promise<ControllerRevision[]> {
    const orphans = revisions.filter((r) => !controllerRef(r));
    if (!orphans.length) return revisions;
    const adopted = await claimObjects(orphans, { owner: parent, selector, client: this.#client, canAdopt });
    const byName = new Map(adopted.map((r) => [r.metadata?.name, r]));
    return revisions.map((r) => byName.get(r.metadata?.name) ?? r);
  }

  /** The revisions `parent` controls after adopting matching orphans and releasing the rest. */
  claim(
    parent: ClaimingOwner,
    selector: LabelSelector,
    canAdopt: () => Promise<void>,
  ): Promise<ControllerRevision[]> {
    const all = this.#cache.inNamespace(parent.metadata?.namespace ?? "");
    return claimObjects(all, { owner: parent, selector, client: this.#client, canAdopt });
  }
}
