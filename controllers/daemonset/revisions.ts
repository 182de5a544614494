/**
 * A DaemonSet's history, as upstream's daemon controller keeps it: one ControllerRevision per
 * template, named `<ds>-<hash>` (the hash of the template and the collision count), labelled with
 * `controller-revision-hash`, holding a patch that replaces `spec.template`. The revision
 * matching the template is current (made if missing, renumbered newest if older; duplicates
 * folded into the newest after relabelling their pods); the rest are old, and old ones beyond
 * `revisionHistoryLimit` that no pod is at are deleted, oldest first.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { clone, jsonEqual } from "../../machinery/object_meta.ts";
import type { LabelSelector } from "../../machinery/labels.ts";
import { isStatusError } from "../../machinery/status.ts";
import { computeHash } from "../history/hash.ts";
import type { History } from "../history/history.ts";
import { ownerRefTo } from "../pods.ts";
import type { ControllerRevision, DaemonSet, Pod } from "../types.ts";
import { DAEMON_SET_UNIQUE_LABEL } from "./daemon_pods.ts";

/** The revision data of a DaemonSet: a strategic-merge patch replacing `spec.template`. */
export function revisionData(ds: DaemonSet): Record<string, unknown> {
  return { spec: { template: { ...clone(ds.spec!.template), $patch: "replace" } } };
}

/** Whether the revision holds the DaemonSet's template. */
export function matchesTemplate(ds: DaemonSet, revision: ControllerRevision): boolean {
  return jsonEqual(revisionData(ds), revision.data ?? null);
}

export class DaemonSetRevisions {
  readonly #history: History;
  readonly #sets: ResourceClient<DaemonSet>;
  readonly #pods: ResourceClient<Pod>;

  constructor(history: History, sets: ResourceClient<DaemonSet>, pods: ResourceClient<Pod>) {
    this.#history = history;
    this.#sets = sets;
    this.#pods = pods;
  }

  /**
   * The current revision (made or renumbered as needed) and the old ones. `controlled` are the
   * revisions the DaemonSet controls (after claiming); `pods` its pods, relabelled if duplicates
   * of the current revision are folded.
   */
  async construct(
    ds: DaemonSet,
    selector: LabelSelector,
    canAdopt: () => Promise<void>,
    pods: () => Promise<Pod[]>,
  ): Promise<{ current: ControllerRevision; old: ControllerRevision[] }> {
    const revisions = this.#history.client;
    const controlled = await this.#history.claim(ds, selector, canAdopt);
    const currents: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let revision of controlled) {
      if (!revision.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL]) {
        const labelled = clone(revision);
        labelled.metadata!.labels = {
          ...labelled.metadata!.labels,
          [DAEMON_SET_UNIQUE_LABEL]: labelled.metadata!.name!,
        };
        revision = await revisions.update(ds.metadata!.namespace!, labelled);
      }
      (matchesTemplate(ds, revision) ? currents : old).push(revision);
    }
    const next = old.reduce((max, r) => Math.max(max, r.revision), 0) + 1;
    let current: ControllerRevision;
    if (!currents.length) {
      current = await this.#snapshot(ds, next);
    } else {
      current = await this.#dedup(ds, currents, pods);
      if (current.revision < next) {
        current = await revisions.update(ds.metadata!.namespace!, { ...current, revision: next });
      }
    }
    return { current, old };
  }

  /**
   * Deletes old revisions beyond the limit, oldest first, sparing those a pod is at (pods here
   * include terminated ones being deleted).
   */
  async cleanup(ds: DaemonSet, old: ControllerRevision[], pods: Pod[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set(pods.map((p) => p.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL]).filter(Boolean));
    for (const revision of [...old].sort((a, b) => a.revision - b.revision)) {
      if (toKill <= 0) break;
      if (live.has(revision.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL])) continue;
      await this.#history.delete(revision);
      toKill--;
    }
  }

  /** Records the template as a new revision; on a name taken by another template, bumps the collision count. */
  async #snapshot(ds: DaemonSet, revision: number): Promise<ControllerRevision> {
    const namespace = ds.metadata!.namespace!;
    const hash = computeHash(ds.spec!.template, ds.status?.collisionCount);
    const name = `${ds.metadata!.name}-${hash}`;
    const history: ControllerRevision = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name,
        namespace,
        labels: { ...ds.spec!.template.metadata?.labels, [DAEMON_SET_UNIQUE_LABEL]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [ownerRefTo({ ...ds, apiVersion: "apps/v1", kind: "DaemonSet" })],
      },
      data: revisionData(ds),
      revision,
    };
    try {
      return await this.#history.client.create(namespace, history);
    } catch (err) {
      if (!isStatusError(err, "AlreadyExists")) throw err;
      const existing = await this.#history.client.get(namespace, name);
      if (matchesTemplate(ds, existing)) return existing;
      const fresh = await this.#sets.get(namespace, ds.metadata!.name!);
      if ((fresh.status?.collisionCount ?? undefined) !== (ds.status?.collisionCount ?? undefined)) {
        throw new Error(
          `found a stale collision count (${ds.status?.collisionCount}, expected ${fresh.status?.collisionCount}) of DaemonSet ${
            JSON.stringify(ds.metadata!.name)
          } while processing; will retry until it is updated`,
        );
      }
      await this.#sets.updateStatus(namespace, {
        ...fresh,
        status: { ...fresh.status!, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 },
      });
      throw err;
    }
  }

  /** Keeps the newest of several revisions of the template; pods at the others are relabelled first. */
  async #dedup(
    ds: DaemonSet,
    currents: ControllerRevision[],
    pods: () => Promise<Pod[]>,
  ): Promise<ControllerRevision> {
    if (currents.length === 1) return currents[0];
    let keep = currents[0];
    for (const r of currents) if (r.revision >= keep.revision) keep = r;
    const hash = keep.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL] ?? "";
    for (const pod of await pods()) {
      if (pod.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL] === hash) continue;
      await this.#pods.patch(ds.metadata!.namespace!, pod.metadata!.name!, "merge", {
        metadata: { labels: { [DAEMON_SET_UNIQUE_LABEL]: hash } },
      });
    }
    for (const r of currents) if (r !== keep) await this.#history.delete(r);
    return keep;
  }
}
