/**
 * How the Job controller counts finished pods exactly once and writes the Job's status, as
 * upstream does: newly finished pods are first recorded by uid in
 * `status.uncountedTerminatedPods` (for Indexed Jobs, their index in `status.completedIndexes`)
 * together with any interim condition (SuccessCriteriaMet, FailureTarget), and that is written;
 * then their tracking finalizers are removed; then the pods whose finalizer is gone move into
 * `status.succeeded`/`failed`; and once nothing is left uncounted or terminating, the final
 * condition (Complete with `completionTime`, or Failed) is written and its event recorded.
 * A restart between any two steps neither loses nor double-counts a pod.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Job, Pod } from "../types.ts";
import type { BackoffStore } from "./backoff.ts";
import { type JobCondition, newCondition } from "./conditions.ts";
import {
  completionIndexOf,
  countIndexes,
  formatIndexes,
  hasIndex,
  NO_INDEX,
  withIndexes,
} from "./indexes.ts";
import { isIndexedJob, isPodFailed } from "./job_pods.ts";
import type { JobPodControl } from "./pod_control.ts";
import { matchPodFailurePolicy } from "./pod_failure_policy.ts";
import {
  canRemoveFinalizer,
  enactJobFinished,
  moveCountedPods,
  successCriteriaMet,
  type SyncContext,
  type Uncounted,
  uncountedOf,
} from "./progress.ts";
import { type FinalizerExpectations, hasTrackingFinalizer } from "./tracking.ts";
import { clone } from "../../machinery/object_meta.ts";

/** Most uids in `status.uncountedTerminatedPods` (keeping the status small). */
export const MAX_UNCOUNTED_PODS = 500;

export interface StatusTrackerDeps {
  jobs: ResourceClient<Job>;
  podControl: JobPodControl;
  finalizerExpectations: FinalizerExpectations;
  backoff: BackoffStore;
  recorder: EventRecorder;
  now: () => number;
  /** Told of every status written (the informer shows it later). */
  written?: (job: Job) => void;
}

export class StatusTracker {
  readonly #deps: StatusTrackerDeps;

  constructor(deps: StatusTrackerDeps) {
    this.#deps = deps;
  }

  /**
   * Counts finished pods and writes the status:
   * 1. records newly finished pods in `status.uncountedTerminatedPods` (or completed indexes)
   *    and the interim condition, and writes that;
   * 2. removes the finalizers of the pods recorded (and of the ones a finished Job leaves);
   * 3. moves the pods whose finalizer is gone from the uncounted lists into the counters;
   * 4. adds Complete or Failed once nothing is left uncounted or terminating.
   * At most MAX_UNCOUNTED_PODS pods per sync; the writes and pod updates bring the next one.
   */
  async track(c: SyncContext, needsFlush: boolean): Promise<void> {
    const indexed = isIndexedJob(c.job);
    const completions = c.job.spec?.completions ?? 0;
    const uncounted = c.job.status!.uncountedTerminatedPods as Uncounted;
    const podsToRemoveFinalizer: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    // Completed indexes go in in order.
    const pods = indexed ? [...c.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : c.pods;
    const withFinalizer = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata?.uid ?? "";
      if (hasTrackingFinalizer(p) && !c.expectedRemovals.has(uid)) withFinalizer.add(uid);
    }
    if (moveCountedPods(c.job, withFinalizer)) needsFlush = true;

    let reachedMax = false;
    const policy = c.job.spec?.podFailurePolicy;
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? "";
      // Without the finalizer (or awaiting its removal) it was counted by an earlier sync.
      if (!hasTrackingFinalizer(pod) || c.expectedRemovals.has(uid)) continue;
      const failed = isPodFailed(pod, c.job);
      if (!canRemoveFinalizer(c, pod, failed)) continue;
      podsToRemoveFinalizer.push(pod);
      const ix = completionIndexOf(pod);
      if (pod.status?.phase === "Succeeded" && !c.uncounted.failed.has(uid)) {
        if (indexed) {
          // The index is enough to never count it twice.
          if (ix !== NO_INDEX && ix < completions && !hasIndex(c.prevSucceededIndexes, ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!c.uncounted.succeeded.has(uid)) {
          uncounted.succeeded.push(uid);
          needsFlush = true;
        }
      } else if (failed || (c.finished && c.finished.type !== "SuccessCriteriaMet")) {
        // Once the Job has failed, every pod not succeeded counts as failed.
        if (!c.uncounted.failed.has(uid) && (!indexed || (ix !== NO_INDEX && ix < completions))) {
          if (!policy || matchPodFailurePolicy(policy, pod).countFailed) {
            uncounted.failed.push(uid);
            needsFlush = true;
          }
        }
      }
      if (
        newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >=
          MAX_UNCOUNTED_PODS
      ) {
        reachedMax = true;
        break;
      }
    }

    const status = c.job.status!;
    if (indexed) {
      c.succeededIndexes = withIndexes(c.succeededIndexes, [...new Set(newSucceededIndexes)]);
      const completed = formatIndexes(c.succeededIndexes);
      if (completed !== (status.completedIndexes ?? "")) needsFlush = true;
      status.succeeded = countIndexes(c.succeededIndexes);
      if (completed) status.completedIndexes = completed;
      else delete status.completedIndexes;
      const failedIndexes = c.failedIndexes ? formatIndexes(c.failedIndexes) : undefined;
      if (failedIndexes !== status.failedIndexes) {
        if (failedIndexes === undefined) delete status.failedIndexes;
        else status.failedIndexes = failedIndexes;
        needsFlush = true;
      }
    }
    const now = this.#deps.now();
    if (c.finished?.type === "FailureTarget") {
      // The interim condition goes out before the finalizers are removed; Failed after.
      status.conditions = [...(status.conditions ?? []), c.finished];
      needsFlush = true;
      c.finished = newCondition("Failed", "True", c.finished.reason ?? "", c.finished.message ?? "", now);
    }
    if (c.finished?.type === "SuccessCriteriaMet") {
      if (!successCriteriaMet(c.job)) {
        status.conditions = [...(status.conditions ?? []), c.finished];
        needsFlush = true;
      }
      c.finished = newCondition("Complete", "True", c.finished.reason ?? "", c.finished.message ?? "", now);
    }

    needsFlush = await this.#flushAndRemoveFinalizers(c, podsToRemoveFinalizer, withFinalizer, needsFlush);
    const finished = !reachedMax && enactJobFinished(c, now);
    if (finished) needsFlush = true;
    if (needsFlush) {
      c.job = await this.#writeStatus(c.job);
      if (finished) this.#recordJobFinished(c.job, c.finished!);
    }
  }

  /**
   * Writes the recorded uids (and interim conditions) if anything changed, removes the
   * finalizers, and moves the pods whose finalizer is gone into the counters. Answers whether the
   * status still has changes to write.
   */
  async #flushAndRemoveFinalizers(
    c: SyncContext,
    pods: Pod[],
    withFinalizer: Set<string>,
    needsFlush: boolean,
  ): Promise<boolean> {
    if (needsFlush) {
      c.job = await this.#writeStatus(c.job);
      this.#deps.backoff.update(c.backoff);
      needsFlush = false;
    }
    let removalError: unknown;
    if (pods.length > 0) {
      const results = await this.#removeTrackingFinalizers(c.key, pods);
      results.forEach((ok, i) => {
        if (ok === true) withFinalizer.delete(pods[i].metadata?.uid ?? "");
        else removalError ??= ok;
      });
    }
    if (moveCountedPods(c.job, withFinalizer)) needsFlush = true;
    if (removalError) {
      // Keep what progress there was, then retry.
      if (needsFlush) c.job = await this.#writeStatus(c.job);
      throw removalError;
    }
    return needsFlush;
  }

  /** Patches the finalizer off each pod; answers true per pod that has it no more, else the error. */
  async #removeTrackingFinalizers(key: string, pods: Pod[]): Promise<Array<true | unknown>> {
    this.#deps.finalizerExpectations.expectRemovals(key, pods.map((p) => p.metadata?.uid ?? ""));
    return await Promise.all(pods.map(async (pod) => {
      try {
        await this.#deps.podControl.removeFinalizer(pod);
        return true;
      } catch (err) {
        // No update will come for it: stop waiting.
        this.#deps.finalizerExpectations.removalObserved(key, pod.metadata?.uid ?? "");
        return isStatusError(err, "NotFound") ? true : err;
      }
    }));
  }

  #recordJobFinished(job: Job, condition: JobCondition): void {
    if (condition.type === "Complete") {
      const completions = job.spec?.completions;
      if (completions !== undefined && completions !== null && (job.status?.succeeded ?? 0) > completions) {
        this.#deps.recorder.event(
          job,
          "Warning",
          "TooManySucceededPods",
          "Too many succeeded pods running after completion count reached",
        );
      }
      this.#deps.recorder.event(job, "Normal", "Completed", "Job completed");
    } else {
      this.#deps.recorder.event(job, "Warning", condition.reason ?? "", condition.message ?? "");
    }
  }

  /** PUT of `status`; answers the Job as written, its uncounted lists filled in. */
  async #writeStatus(job: Job): Promise<Job> {
    const out = clone(job);
    const u = out.status!.uncountedTerminatedPods!;
    if (!u.succeeded?.length) delete u.succeeded;
    if (!u.failed?.length) delete u.failed;
    const written = await this.#deps.jobs.updateStatus(job.metadata!.namespace!, out);
    this.#deps.written?.(clone(written));
    written.status ??= {};
    written.status.uncountedTerminatedPods = uncountedOf(written);
    return written;
  }
}
