/**
 * The delay before a Job re-creates failed pods, as upstream computes it: per Job, the failures
 * since the last success and when the last one happened; the delay is the base doubled per
 * further failure, capped, counted from that failure. (With `backoffLimitPerIndex` the count
 * comes instead from the failed pod's index-failure annotations.)
 */

import type { Pod } from "../types.ts";
import { podCondition } from "../pods.ts";

export interface BackoffRecord {
  key: string;
  failuresAfterLastSuccess: number;
  /** Milliseconds since the epoch. */
  lastFailureTime?: number;
}

function time(s: string | undefined | null): number {
  return s ? Date.parse(s) : NaN;
}

/**
 * When a pod finished: the last of its containers' finish times when all have finished; else
 * when it turned not ready; else when its deletion began; else when it was created.
 */
export function finishedTime(pod: Pod): number {
  const statuses = pod.status?.containerStatuses ?? [];
  let latest: number | undefined;
  for (const s of statuses) {
    const finished = time(s.state?.terminated?.finishedAt);
    if (Number.isNaN(finished)) {
      latest = undefined;
      break;
    }
    latest = latest === undefined ? finished : Math.max(latest, finished);
  }
  if (latest !== undefined) return latest;
  const ready = podCondition(pod, "Ready");
  if (ready?.status === "False" && !Number.isNaN(time(ready.lastTransitionTime))) {
    return time(ready.lastTransitionTime);
  }
  const deletion = time(pod.metadata?.deletionTimestamp);
  if (!Number.isNaN(deletion)) return deletion - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return time(pod.metadata?.creationTimestamp) || 0;
}

const byFinishedTime = (a: Pod, b: Pod) => finishedTime(a) - finishedTime(b);

/** How long until a pod may be created after `failures` failures, the last at `lastFailure`. */
export function remainingBackoffMs(
  failures: number,
  lastFailure: number | undefined,
  now: number,
  baseMs: number,
  maxMs: number,
): number {
  if (failures === 0 || lastFailure === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < failures; i++) {
    delay *= 2;
    if (delay >= maxMs) {
      delay = maxMs;
      break;
    }
  }
  const elapsed = now - lastFailure;
  return delay < elapsed ? 0 : delay - elapsed;
}

/** The backoff records of the Jobs a controller syncs, kept in memory as upstream keeps them. */
export class BackoffStore {
  readonly #records = new Map<string, BackoffRecord>();

  /** The record `key` would have after the newly finished pods (not stored until `update`). */
  next(key: string, newSucceeded: Pod[], newFailed: Pod[]): BackoffRecord {
    const old = this.#records.get(key);
    const record: BackoffRecord = {
      key,
      failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0,
      lastFailureTime: old?.lastFailureTime,
    };
    const succeeded = [...newSucceeded].sort(byFinishedTime);
    const failed = [...newFailed].sort(byFinishedTime);
    if (succeeded.length === 0) {
      if (failed.length === 0) return record;
      record.failuresAfterLastSuccess += failed.length;
      record.lastFailureTime = finishedTime(failed[failed.length - 1]);
      return record;
    }
    record.failuresAfterLastSuccess = 0;
    record.lastFailureTime = undefined;
    const lastSuccess = finishedTime(succeeded[succeeded.length - 1]);
    for (let i = failed.length - 1; i >= 0; i--) {
      const t = finishedTime(failed[i]);
      if (t <= lastSuccess) break;
      record.lastFailureTime ??= t;
      record.failuresAfterLastSuccess++;
    }
    return record;
  }

  update(record: BackoffRecord): void {
    this.#records.set(record.key, { ...record });
  }

  remove(key: string): void {
    this.#records.delete(key);
  }
}
