/**
 * One sync of a StatefulSet, as upstream's defaultStatefulSetControl does it:
 *
 * 1. Revisions: the set's template is recorded as a ControllerRevision (created, or an equal
 *    older one renumbered for a rollback); the current revision is the one `status.currentRevision`
 *    names, the update revision the newest.
 * 2. Pods in `[start, start+replicas)` are replicas, the rest condemned. Missing replicas are made
 *    at the revision their ordinal calls for. Failed (or Succeeded) replicas are deleted, to be made
 *    again. With OrderedReady each replica must be Running, Ready (and available) before the next
 *    is made, and condemned pods go from the highest ordinal, one at a time, each waited for; with
 *    Parallel all are made or deleted at once (in slow-start batches).
 * 3. RollingUpdate: once every replica is healthy, the highest-ordinal pod at or above the
 *    partition that is not at the update revision is deleted (to be made again at it), one at a
 *    time, each waited for until Ready. OnDelete leaves pods until someone deletes them.
 * 4. Status (replicas, ready, available, current, updated, revisions, collisionCount,
 *    observedGeneration) is written when it differs; a rolling update that reached every replica
 *    makes the update revision current. History beyond `revisionHistoryLimit` that no pod uses is
 *    deleted, oldest first.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { LabelSelector } from "../../machinery/labels.ts";
import {
  equalRevision,
  findEqualRevisions,
  type History,
  nextRevision,
  sortControllerRevisions,
} from "../history/history.ts";
import type { ControllerRevision, Pod, StatefulSet } from "../types.ts";
import type { StatefulPodControl } from "./pod_control.ts";
import {
  allowsBurst,
  applyRevision,
  completeRollingUpdate,
  getOrdinal,
  identityMatches,
  inconsistentStatus,
  isCreated,
  isFailed,
  isHealthy,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newRevision,
  newVersionedStatefulSetPod,
  podInOrdinalRange,
  podRevision,
  replicasOf,
  startOrdinal,
  type StatefulSetStatus,
  storageMatches,
} from "./set_utils.ts";
import { clone } from "../../machinery/object_meta.ts";

/** Most pods one Parallel batch makes or deletes at once. */
export const MAX_BATCH_SIZE = 500;

/** The counts of status, over the given pods. */
function countReplicas(
  status: StatefulSetStatus,
  minReadySeconds: number,
  current: ControllerRevision,
  update: ControllerRevision,
  ...lists: Pod[][]
): void {
  status.replicas = 0;
  status.readyReplicas = 0;
  status.availableReplicas = 0;
  status.currentReplicas = 0;
  status.updatedReplicas = 0;
  const now = Date.now();
  for (const list of lists) {
    for (const pod of list) {
      if (isCreated(pod)) status.replicas++;
      if (isRunningAndReady(pod)) {
        status.readyReplicas++;
        if (isRunningAndAvailable(pod, minReadySeconds, now)) status.availableReplicas++;
      }
      if (isCreated(pod) && !isTerminating(pod)) {
        const revision = podRevision(pod);
        if (revision === current.metadata?.name) status.currentReplicas++;
        if (revision === update.metadata?.name) status.updatedReplicas++;
      }
    }
  }
}

/**
 * Runs `fn` over `count` indexes: in order, stopping at the first that asks to stop (monotonic),
 * or in slow-start batches (1, 2, 4, … up to MAX_BATCH_SIZE), stopping after a batch with a
 * failure. Answers whether the sync should stop here.
 */
async function runForAll(
  count: number,
  fn: (i: number) => Promise<boolean>,
  monotonic: boolean,
): Promise<boolean> {
  if (monotonic) {
    for (let i = 0; i < count; i++) if (await fn(i)) return true;
    return false;
  }
  let next = 0;
  for (let batch = Math.min(1, count); batch > 0; batch = Math.min(2 * batch, count - next, MAX_BATCH_SIZE)) {
    const indexes = Array.from({ length: batch }, (_, k) => next + k);
    next += batch;
    const results = await Promise.allSettled(indexes.map((i) => fn(i)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
  return false;
}

export class StatefulSetControl {
  readonly #podControl: StatefulPodControl;
  readonly #history: History;
  readonly #sets: ResourceClient<StatefulSet>;

  constructor(podControl: StatefulPodControl, history: History, sets: ResourceClient<StatefulSet>) {
    this.#podControl = podControl;
    this.#history = history;
    this.#sets = sets;
  }

  /** The set's revisions, oldest first: matching its selector, owned by it or orphaned. */
  listRevisions(set: StatefulSet, selector: LabelSelector): ControllerRevision[] {
    return this.#history.list(set, selector);
  }

  /** One sync of `set` over the pods it controls; answers the status it computed. */
  async updateStatefulSet(
    set: StatefulSet,
    pods: Pod[],
    revisions: ControllerRevision[],
  ): Promise<StatefulSetStatus> {
    const sorted = sortControllerRevisions(revisions);
    const { current, update, collisionCount } = await this.#revisions(set, sorted);
    const status: StatefulSetStatus = {
      replicas: 0,
      observedGeneration: set.metadata?.generation,
      currentRevision: current.metadata?.name,
      updateRevision: update.metadata?.name,
      collisionCount,
    };
    let failure: unknown;
    try {
      await this.#updatePods(set, current, update, pods, status);
    } catch (err) {
      failure = err;
    }
    // The status is written even after a failure: it says what was counted.
    try {
      await this.#updateStatus(set, status);
    } finally {
      await this.#truncateHistory(set, pods, sorted, current, update);
    }
    if (failure !== undefined) throw failure;
    return status;
  }

  /** The current and update revisions, making or renumbering the update revision as needed. */
  async #revisions(
    set: StatefulSet,
    revisions: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    let update = newRevision(set, nextRevision(revisions), collisionCount);
    const equal = findEqualRevisions(revisions, update);
    const last = revisions[revisions.length - 1];
    if (equal.length && equalRevision(last, equal[equal.length - 1])) {
      update = last;
    } else if (equal.length) {
      update = await this.#history.update(equal[equal.length - 1], update.revision);
    } else {
      ({ revision: update, collisionCount } = await this.#history.create(set, update, collisionCount));
    }
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /** Makes, fixes and deletes pods toward the set's spec, counting them into `status` as it goes. */
  async #updatePods(
    set: StatefulSet,
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
    pods: Pod[],
    status: StatefulSetStatus,
  ): Promise<void> {
    const currentSet = applyRevision(set, currentRevision);
    const updateSet = applyRevision(set, updateRevision);
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    countReplicas(status, minReadySeconds, currentRevision, updateRevision, pods);

    const start = startOrdinal(set);
    const replicaCount = replicasOf(set);
    const replicas: Pod[] = new Array(replicaCount);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (podInOrdinalRange(pod, set)) replicas[getOrdinal(pod) - start] = pod;
      else if (getOrdinal(pod) >= 0) condemned.push(pod);
    }
    for (let i = 0; i < replicaCount; i++) {
      replicas[i] ??= newVersionedStatefulSetPod(
        currentSet,
        updateSet,
        currentRevision.metadata!.name!,
        updateRevision.metadata!.name!,
        start + i,
      );
    }
    condemned.sort((a, b) => getOrdinal(b) - getOrdinal(a));

    // The first unhealthy pod: the lowest replica, else the lowest condemned.
    let firstUnhealthy = replicas.find((p) => !isHealthy(p));
    if (!firstUnhealthy) {
      for (let i = condemned.length - 1; i >= 0; i--) {
        if (!isHealthy(condemned[i])) {
          firstUnhealthy = condemned[i];
          break;
        }
      }
    }

    if (set.metadata?.deletionTimestamp) return;
    const monotonic = !allowsBurst(set);
    const recount = () =>
      countReplicas(status, minReadySeconds, currentRevision, updateRevision, replicas, condemned);
    const stopped = async (work: () => Promise<boolean>) => {
      try {
        if (await work()) {
          recount();
          return true;
        }
        return false;
      } catch (err) {
        recount();
        throw err;
      }
    };

    if (
      await stopped(() =>
        runForAll(
          replicas.length,
          (i) => this.#processReplica(set, updateSet, monotonic, replicas, i),
          monotonic,
        )
      )
    ) return;

    // Condemned pods' claims get their references before the pods go.
    if (
      await stopped(() =>
        runForAll(condemned.length, async (i) => {
          if (!this.#podControl.claimsMatchRetentionPolicy(updateSet, condemned[i])) {
            await this.#podControl.updatePodClaimForRetentionPolicy(updateSet, condemned[i]);
          }
          return false;
        }, monotonic)
      )
    ) return;

    if (
      await stopped(() =>
        runForAll(
          condemned.length,
          (i) => this.#processCondemned(set, firstUnhealthy, monotonic, condemned, i),
          monotonic,
        )
      )
    ) return;

    recount();
    if (set.spec?.updateStrategy?.type === "OnDelete") return;

    // Replace the highest-ordinal pod not at the update revision, one at a time, each waited for.
    const updateMin = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = replicas.length - 1; target >= updateMin; target--) {
      const pod = replicas[target];
      if (podRevision(pod) !== updateRevision.metadata?.name && !isTerminating(pod)) {
        await this.#podControl.deleteStatefulPod(set, pod);
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return;
      }
      if (!isHealthy(pod)) return;
    }
  }

  /** Makes or fixes replica `i`; answers whether the sync should stop here. */
  async #processReplica(
    set: StatefulSet,
    updateSet: StatefulSet,
    monotonic: boolean,
    replicas: Pod[],
    i: number,
  ): Promise<boolean> {
    const pod = replicas[i];
    // Failed, or Succeeded (a pod stopped by force ends by its exit code): made again once gone.
    if (isFailed(pod) || isSucceeded(pod)) {
      if (!isTerminating(pod)) await this.#podControl.deleteStatefulPod(set, pod);
      return true;
    }
    if (!isCreated(pod)) {
      if (this.#podControl.podClaimIsStale(set, pod)) return true;
      const created = await this.#podControl.createStatefulPod(set, pod);
      return monotonic || !created;
    }
    if (isPending(pod)) await this.#podControl.createMissingPersistentVolumeClaims(set, pod);
    if (monotonic) {
      if (isTerminating(pod)) return true;
      if (!isRunningAndReady(pod)) return true;
      if (!isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0)) return true;
    }
    const retentionMatch = this.#podControl.claimsMatchRetentionPolicy(updateSet, pod);
    if (identityMatches(set, pod) && storageMatches(set, pod) && retentionMatch) return false;
    await this.#podControl.updateStatefulPod(updateSet, clone(pod));
    return false;
  }

  /** Deletes condemned pod `i` when its turn has come; answers whether the sync should stop here. */
  async #processCondemned(
    set: StatefulSet,
    firstUnhealthy: Pod | undefined,
    monotonic: boolean,
    condemned: Pod[],
    i: number,
  ): Promise<boolean> {
    const pod = condemned[i];
    if (isTerminating(pod)) return monotonic;
    if (monotonic && pod !== firstUnhealthy) {
      if (!isRunningAndReady(pod)) return true;
      if (!isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0)) return true;
    }
    await this.#podControl.deleteStatefulPod(set, pod);
    return true;
  }

  /** Writes the status when it differs, completing a finished rolling update first. */
  async #updateStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    completeRollingUpdate(set, status);
    if (!inconsistentStatus(set, status)) return;
    try {
      await this.#sets.updateStatus(set.metadata!.namespace!, { ...set, status });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  /**
   * Deletes the oldest revisions beyond `revisionHistoryLimit`, sparing the current and update
   * revisions and every revision a pod is at.
   */
  async #truncateHistory(
    set: StatefulSet,
    pods: Pod[],
    revisions: ControllerRevision[],
    current: ControllerRevision,
    update: ControllerRevision,
  ): Promise<void> {
    const live = new Set([current.metadata?.name, update.metadata?.name, ...pods.map(podRevision)]);
    const history = revisions.filter((r) => !live.has(r.metadata?.name));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (limit < 0 || history.length <= limit) return;
    for (const r of history.slice(0, history.length - limit)) await this.#history.delete(r);
  }
}
