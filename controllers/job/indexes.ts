/**
 * Completion indexes of Indexed Jobs: the index a pod runs (its
 * `batch.kubernetes.io/job-completion-index` annotation), and sets of indexes kept as ordered,
 * non-touching intervals and written as upstream writes `status.completedIndexes` and
 * `status.failedIndexes` ("0-2,4,6,7": runs of three or more with a dash, pairs with a comma).
 */

import type { Pod } from "../types.ts";

export const COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
/** Failures counted so far against the index's `backoffLimitPerIndex`. */
export const INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count";
/** Failures of the index that a pod failure policy said to ignore. */
export const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count";
/** A pod without a (valid) completion index. */
export const NO_INDEX = -1;

/** Both ends included. */
export interface Interval {
  first: number;
  last: number;
}

/** Sorted, disjoint and non-adjacent intervals. */
export type Intervals = Interval[];

/** Go's strconv.Atoi, for the strings indexes are written in; NaN when it is not an integer. */
export function parseInteger(s: string): number {
  return /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
}

/** The completion index a pod runs, or NO_INDEX. */
export function completionIndexOf(pod: Pod): number {
  const v = pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined) return NO_INDEX;
  const i = parseInteger(v);
  return Number.isNaN(i) || i < 0 ? NO_INDEX : i;
}

/** Parses "0-2,4"; ignores malformed parts and whatever lies at or beyond `completions`. */
export function parseIndexes(s: string | undefined, completions: number): Intervals {
  if (!s) return [];
  const out: Intervals = [];
  for (const part of s.split(",")) {
    const limits = part.split("-");
    const first = parseInteger(limits[0]);
    if (Number.isNaN(first)) continue;
    if (first >= completions) break;
    let last = first;
    if (limits.length > 1) {
      last = parseInteger(limits[1]);
      if (Number.isNaN(last)) continue;
      if (last >= completions) last = completions - 1;
    }
    const prev = out[out.length - 1];
    if (prev && prev.last === first - 1) prev.last = last;
    else out.push({ first, last });
  }
  return out;
}

export function formatIndexes(intervals: Intervals): string {
  return intervals.map(({ first, last }) => {
    if (last === first) return `${first}`;
    return `${first}${last === first + 1 ? "," : "-"}${last}`;
  }).join(",");
}

/** Both sets of intervals in one. */
export function mergeIntervals(a: Intervals, b: Intervals): Intervals {
  const out: Intervals = [];
  const push = (iv: Interval) => {
    const prev = out[out.length - 1];
    if (!prev || iv.first > prev.last + 1) out.push({ ...iv });
    else if (prev.last < iv.last) prev.last = iv.last;
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) push(a[i].first < b[j].first ? a[i++] : b[j++]);
  while (i < a.length) push(a[i++]);
  while (j < b.length) push(b[j++]);
  return out;
}

/** `intervals` plus the given indexes (in increasing order). */
export function withIndexes(intervals: Intervals, sortedIndexes: number[]): Intervals {
  return mergeIntervals(intervals, sortedIndexes.map((i) => ({ first: i, last: i })));
}

/** How many indexes the intervals hold. */
export function countIndexes(intervals: Intervals): number {
  return intervals.reduce((n, { first, last }) => n + last - first + 1, 0);
}

export function hasIndex(intervals: Intervals | undefined, index: number): boolean {
  if (!intervals) return false;
  let lo = 0;
  let hi = intervals.length;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    if (intervals[mid].last >= index) hi = mid;
    else lo = mid + 1;
  }
  return hi < intervals.length && intervals[hi].first <= index;
}

/** The distinct indexes of `pods`, sorted. */
export function indexesOf(pods: Pod[]): number[] {
  const set = new Set<number>();
  for (const p of pods) {
    const ix = completionIndexOf(p);
    if (ix !== NO_INDEX) set.add(ix);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * The first `count` indexes below `completions` that are in none of `taken` (succeeded, failed,
 * active, and terminating ones when only failed pods are replaced).
 */
export function firstPendingIndexes(taken: Intervals, count: number, completions: number): number[] {
  const out: number[] = [];
  if (count <= 0) return out;
  let candidate = 0;
  for (const iv of taken) {
    for (; candidate < completions && out.length < count && candidate < iv.first; candidate++) {
      out.push(candidate);
    }
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && out.length < count; candidate++) out.push(candidate);
  return out;
}

/** Longest generateName the server completes with its five random characters. */
const MAX_GENERATED_NAME_LENGTH = 58;

/** `<job>-<index>-`, the job name shortened to fit when it must. */
export function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  if (prefix.length <= MAX_GENERATED_NAME_LENGTH) return prefix;
  return jobName.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length) + suffix;
}
