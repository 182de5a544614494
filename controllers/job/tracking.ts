/**
 * Tracking pods with finalizers, as upstream's Job controller does: every pod it creates carries
 * `batch.kubernetes.io/job-tracking`, so a finished pod stays until the controller has counted it
 * (first recorded by uid in `status.uncountedTerminatedPods`, then moved into the counters once
 * the finalizer is gone). The finalizer expectations remember, per Job, the pods whose finalizer
 * removal was asked for and not yet seen, so a sync on a stale cache never counts them twice.
 */

import type { Pod } from "../types.ts";

export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

/** The strategic merge patch that removes the tracking finalizer (and nothing else). */
export function removeTrackingFinalizerPatch(pod: Pod): unknown | undefined {
  if (!hasTrackingFinalizer(pod)) return undefined;
  return { metadata: { "$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER] } };
}

export class FinalizerExpectations {
  readonly #byJob = new Map<string, Set<string>>();

  /** The pod uids whose finalizer removal `jobKey` still awaits. */
  expected(jobKey: string): ReadonlySet<string> {
    return new Set(this.#byJob.get(jobKey));
  }

  expectRemovals(jobKey: string, uids: string[]): void {
    let set = this.#byJob.get(jobKey);
    if (!set) this.#byJob.set(jobKey, set = new Set());
    for (const uid of uids) set.add(uid);
  }

  /** The pod was seen without the finalizer (or gone), or its removal failed. */
  removalObserved(jobKey: string, uid: string): void {
    this.#byJob.get(jobKey)?.delete(uid);
  }

  forget(jobKey: string): void {
    this.#byJob.delete(jobKey);
  }
}
