/**
 * PrioritySort: the scheduling queue's order — higher priority first, then the pod that
 * entered the queue earlier.
 */

import { type Pod, podPriority } from "../types.ts";

export const NAME = "PrioritySort";

/** A pod waiting in the queue and when it was added (ms). */
export interface QueuedPod {
  pod: Pod;
  timestamp: number;
}

/** Whether `a` is scheduled before `b`. */
export function prioritySortLess(a: QueuedPod, b: QueuedPod): boolean {
  const pa = podPriority(a.pod), pb = podPriority(b.pod);
  return pa > pb || (pa === pb && a.timestamp < b.timestamp);
}

/** A comparator for `Array.prototype.sort` with the same order. */
export function prioritySortCompare(a: QueuedPod, b: QueuedPod): number {
  return prioritySortLess(a, b) ? -1 : prioritySortLess(b, a) ? 1 : 0;
}
