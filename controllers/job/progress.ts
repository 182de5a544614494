/**
 * What one sync of the Job controller works out from the Job and its pods, as pure functions of
 * the sync's context: which finished pods are not yet counted, the succeeded and failed indexes
 * of Indexed Jobs (and the success or failure they decide), which pods' finalizers may go, and
 * when the final Complete or Failed condition may be written.
 */

import type { Job, Pod } from "../types.ts";
import { type BackoffRecord, finishedTime } from "./backoff.ts";
import { ensureCondition, findCondition, type JobCondition, newCondition } from "./conditions.ts";
import {
  completionIndexOf,
  countIndexes,
  hasIndex,
  indexesOf,
  type Intervals,
  NO_INDEX,
  parseIndexes,
  withIndexes,
} from "./indexes.ts";
import {
  hasBackoffLimitPerIndex,
  indexAbsoluteFailureCount,
  isIndexedJob,
  isIndexFailed,
  isPodFailed,
  isSuspended,
  pastBackoffLimitOnFailure,
} from "./job_pods.ts";
import { matchPodFailurePolicy } from "./pod_failure_policy.ts";
import { matchSuccessPolicy } from "./success_policy.ts";
import { hasTrackingFinalizer } from "./tracking.ts";

/** `status.uncountedTerminatedPods` with both lists present. */
export type Uncounted = { succeeded: string[]; failed: string[] };

/** What one sync works out, passed between its steps. */
export interface SyncContext {
  key: string;
  /** The copy of the Job this sync changes (replaced by the server's answer after a write). */
  job: Job;
  pods: Pod[];
  active: Pod[];
  finished?: JobCondition;
  succeeded: number;
  failed: number;
  prevSucceededIndexes: Intervals;
  succeededIndexes: Intervals;
  failedIndexes?: Intervals;
  backoff: BackoffRecord;
  /** Pods whose finalizer removal is awaited: counted already. */
  expectedRemovals: ReadonlySet<string>;
  /** `status.uncountedTerminatedPods` as the sync found it. */
  uncounted: { succeeded: Set<string>; failed: Set<string> };
  /** Per index, the failed pod kept until its replacement carries its failure count. */
  delayedDeletion: Map<number, Pod>;
  terminating: number;
  ready: number;
}

/** A copy of `status.uncountedTerminatedPods` with both lists present. */
export function uncountedOf(job: Job): Uncounted {
  const u = job.status?.uncountedTerminatedPods;
  return { succeeded: [...(u?.succeeded ?? [])], failed: [...(u?.failed ?? [])] };
}

/** The SuccessCriteriaMet condition when it is True. */
export function successCriteriaMet(job: Job): JobCondition | undefined {
  const c = findCondition(job, "SuccessCriteriaMet");
  return c?.status === "True" ? c : undefined;
}

/** `activeDeadlineSeconds` has passed since `startTime` (never while suspended). */
function pastActiveDeadline(job: Job, now: number): boolean {
  const deadline = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (deadline === undefined || !start || isSuspended(job)) return false;
  return now - Date.parse(start) >= deadline * 1000;
}

/**
 * Whether the Job has finished before its pods are managed, setting `c.finished`: success
 * criteria met earlier; a FailureTarget written earlier (now to become Failed); a pod matching a
 * FailJob rule; more failures than `backoffLimit` (or, for restartPolicy OnFailure, restarts);
 * `activeDeadlineSeconds` passed. Answers the milliseconds left until the deadline when only
 * that is pending.
 */
export function judgeFinished(c: SyncContext, now: number): number | undefined {
  const job = c.job;
  c.finished = successCriteriaMet(job);
  if (c.finished) return undefined; // the pod failure policy no longer matters
  const target = findCondition(job, "FailureTarget");
  if (target?.status === "True") {
    c.finished = newCondition("Failed", "True", target.reason ?? "", target.message ?? "", now);
    return undefined;
  }
  const message = failJobMessage(job, c.pods);
  if (message) {
    c.finished = newCondition("FailureTarget", "True", "PodFailurePolicy", message, now);
    return undefined;
  }
  if (c.failed > (job.spec?.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, c.pods)) {
    c.finished = newCondition(
      "FailureTarget",
      "True",
      "BackoffLimitExceeded",
      "Job has reached the specified backoff limit",
      now,
    );
    return undefined;
  }
  if (pastActiveDeadline(job, now)) {
    c.finished = newCondition(
      "FailureTarget",
      "True",
      "DeadlineExceeded",
      "Job was active longer than specified deadline",
      now,
    );
    return undefined;
  }
  const deadline = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (deadline === undefined || deadline === null || isSuspended(job) || !start) return undefined;
  return Math.max(0, deadline * 1000 - (now - Date.parse(start)));
}

/** Succeeded and failed indexes of an Indexed Job, and the failures and successes they decide. */
export function indexedProgress(c: SyncContext, now: number): void {
  const job = c.job;
  const completions = job.spec?.completions ?? 0;
  c.prevSucceededIndexes = parseIndexes(job.status?.completedIndexes, completions);
  const newlySucceeded = indexesOf(c.pods.filter((p) => {
    const ix = completionIndexOf(p);
    return p.status?.phase === "Succeeded" && ix !== NO_INDEX && ix < completions && hasTrackingFinalizer(p);
  }));
  c.succeededIndexes = withIndexes(c.prevSucceededIndexes, newlySucceeded);
  c.succeeded = countIndexes(c.succeededIndexes);
  if (hasBackoffLimitPerIndex(job)) {
    const prevFailed = job.status?.failedIndexes !== undefined
      ? parseIndexes(job.status.failedIndexes, completions)
      : [];
    const newlyFailed = indexesOf(c.pods.filter((p) => {
      const ix = completionIndexOf(p);
      return ix !== NO_INDEX && ix < completions && hasTrackingFinalizer(p) && isIndexFailed(job, p);
    }));
    c.failedIndexes = withIndexes(prevFailed, newlyFailed);
    const failed = countIndexes(c.failedIndexes);
    if (!c.finished) {
      const max = job.spec?.maxFailedIndexes;
      if (max !== undefined && max !== null && failed > max) {
        c.finished = newCondition(
          "FailureTarget",
          "True",
          "MaxFailedIndexesExceeded",
          "Job has exceeded the specified maximal number of failed indexes",
          now,
        );
      } else if (failed > 0 && failed + c.succeeded >= completions) {
        c.finished = newCondition("FailureTarget", "True", "FailedIndexes", "Job has failed indexes", now);
      }
    }
    c.delayedDeletion = podsWithDelayedDeletion(c);
  }
  if (!c.finished) {
    const message = matchSuccessPolicy(job.spec?.successPolicy, completions, c.succeededIndexes);
    if (message) c.finished = newCondition("SuccessCriteriaMet", "True", "SuccessPolicy", message, now);
  }
}

/**
 * Pods still to be counted: they carry the finalizer, are not in `uncounted` nor awaiting
 * their finalizer's removal, have a valid index (Indexed Jobs), and pass `filter`.
 */
export function uncountedPods(
  c: SyncContext,
  uncounted: Set<string> | undefined,
  filter: (p: Pod) => boolean,
): Pod[] {
  const indexed = isIndexedJob(c.job);
  const completions = c.job.spec?.completions ?? 0;
  return c.pods.filter((p) => {
    const uid = p.metadata?.uid ?? "";
    if (!hasTrackingFinalizer(p) || uncounted?.has(uid) || c.expectedRemovals.has(uid)) return false;
    if (indexed) {
      const ix = completionIndexOf(p);
      if (ix === NO_INDEX || ix >= completions) return false;
    }
    return filter(p);
  });
}

/**
 * Per pending index, the failed pod whose removal waits for its replacement (which takes over
 * its failure count): the one with the most failures, latest finished.
 */
export function podsWithDelayedDeletion(c: SyncContext): Map<number, Pod> {
  const activeIndexes = new Set(indexesOf(c.active));
  const out = new Map<number, Pod>();
  for (const p of uncountedPods(c, undefined, (p) => isPodFailed(p, c.job))) {
    const ix = completionIndexOf(p);
    if (hasIndex(c.succeededIndexes, ix) || hasIndex(c.failedIndexes, ix) || activeIndexes.has(ix)) continue;
    const last = out.get(ix);
    if (
      !last ||
      (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) &&
        finishedTime(p) >= finishedTime(last))
    ) {
      out.set(ix, p);
    }
  }
  return out;
}

/**
 * A finished pod's finalizer may go when the Job is being deleted or has finished, when the
 * pod succeeded, or when it failed (unless it waits for its index's replacement).
 */
export function canRemoveFinalizer(c: SyncContext, pod: Pod, failed: boolean): boolean {
  if (c.job.metadata?.deletionTimestamp || c.finished || pod.status?.phase === "Succeeded") return true;
  if (!failed) return false;
  if (hasBackoffLimitPerIndex(c.job)) {
    const ix = completionIndexOf(pod);
    if (ix !== NO_INDEX && c.delayedDeletion.get(ix)?.metadata?.uid === pod.metadata?.uid) return false;
  }
  return true;
}

/** Adds Complete (with completionTime) or Failed once no pod is uncounted or terminating. */
export function enactJobFinished(c: SyncContext, now: number): boolean {
  if (!c.finished) return false;
  const u = c.job.status?.uncountedTerminatedPods;
  if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
  if (c.terminating > 0) return false;
  const status = c.job.status!;
  const conditions = status.conditions ?? [];
  ensureCondition(
    conditions,
    c.finished.type,
    "True",
    c.finished.reason ?? "",
    c.finished.message ?? "",
    now,
  );
  status.conditions = conditions;
  if (c.finished.type === "Complete") status.completionTime = c.finished.lastTransitionTime;
  return true;
}

/** The message of the first failed pod matching a FailJob rule of the pod failure policy. */
function failJobMessage(job: Job, pods: Pod[]): string | undefined {
  const policy = job.spec?.podFailurePolicy;
  if (!policy) return undefined;
  for (const pod of pods) {
    if (!isPodFailed(pod, job)) continue;
    const message = matchPodFailurePolicy(policy, pod).failJobMessage;
    if (message) return message;
  }
  return undefined;
}

/**
 * Moves the uncounted pods whose finalizer is gone (not in `withFinalizer`) into
 * `status.succeeded`/`failed`. Answers whether anything moved.
 */
export function moveCountedPods(job: Job, withFinalizer: Set<string>): boolean {
  const status = job.status!;
  const u = status.uncountedTerminatedPods as Uncounted;
  let moved = false;
  const succeeded = u.succeeded.filter((uid) => withFinalizer.has(uid));
  if (succeeded.length !== u.succeeded.length) {
    status.succeeded = (status.succeeded ?? 0) + u.succeeded.length - succeeded.length;
    u.succeeded = succeeded;
    moved = true;
  }
  const failed = u.failed.filter((uid) => withFinalizer.has(uid));
  if (failed.length !== u.failed.length) {
    status.failed = (status.failed ?? 0) + u.failed.length - failed.length;
    u.failed = failed;
    moved = true;
  }
  return moved;
}
