/**
 * What the Job controller asks of a Job's pods: the selector and labels that tie them to it, the
 * pod it creates for an index, whether a pod counts as failed, which active pods go first when
 * there are too many (for Indexed Jobs, duplicates and pods without a valid index first), and the
 * per-index failure counts `backoffLimitPerIndex` keeps in annotations.
 */

import type { LabelSelectorObject } from "../../machinery/labels.ts";
import { comparePodsForDeletion } from "../pods.ts";
import type { Job, Pod, PodTemplateSpec } from "../types.ts";
import {
  COMPLETION_INDEX_ANNOTATION,
  completionIndexOf,
  generateNameWithIndex,
  INDEX_FAILURE_COUNT_ANNOTATION,
  INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
  NO_INDEX,
  parseInteger,
} from "./indexes.ts";
import { matchPodFailurePolicy } from "./pod_failure_policy.ts";
import { JOB_TRACKING_FINALIZER } from "./tracking.ts";
import { clone } from "../../machinery/object_meta.ts";

export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
export const LEGACY_JOB_NAME_LABEL = "job-name";
export const COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";

export function isIndexedJob(job: Job): boolean {
  return job.spec?.completionMode === "Indexed";
}

export function hasBackoffLimitPerIndex(job: Job): boolean {
  return job.spec?.backoffLimitPerIndex !== undefined && job.spec?.backoffLimitPerIndex !== null;
}

export function isSuspended(job: Job): boolean {
  return job.spec?.suspend === true;
}

/** Replace pods only once they have failed (not while terminating). */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === "Failed" || !!job.spec?.podFailurePolicy;
}

/**
 * The labels the API server's Job strategy puts on the pod template (unless the selector is
 * manual): the controller adds them to every pod it creates as well.
 */
export function jobPodLabels(job: Job): Record<string, string> {
  if (job.spec?.manualSelector) return {};
  const uid = job.metadata!.uid!;
  const name = job.metadata!.name!;
  return {
    [CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: name,
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: name,
  };
}

/** `spec.selector`, or the one the server generates from the Job's uid when it has none. */
export function jobSelector(job: Job): LabelSelectorObject {
  if (job.spec?.selector) return job.spec.selector as LabelSelectorObject;
  return { matchLabels: { [CONTROLLER_UID_LABEL]: job.metadata!.uid! } };
}

/** Being deleted and not yet terminal. */
export function isPodTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
}

/** Failed, or (unless only failed pods are replaced) being deleted before it succeeded. */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === "Failed") return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== "Succeeded";
}

/** For restartPolicy OnFailure: the restarts of running and pending pods reach the backoff limit. */
export function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== "OnFailure") return false;
  let restarts = 0;
  for (const pod of pods) {
    if (pod.status?.phase !== "Running" && pod.status?.phase !== "Pending") continue;
    for (const s of pod.status?.initContainerStatuses ?? []) restarts += s.restartCount ?? 0;
    for (const s of pod.status?.containerStatuses ?? []) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/**
 * The template of the Job's pods: its labels, the tracking finalizer and, for Indexed Jobs, the
 * JOB_COMPLETION_INDEX variable in every container (from the index label).
 */
export function jobPodTemplate(job: Job): PodTemplateSpec {
  const template = clone(job.spec!.template) as PodTemplateSpec;
  const meta = template.metadata ??= {};
  meta.labels = { ...meta.labels, ...jobPodLabels(job) };
  const finalizers = meta.finalizers ?? [];
  if (!finalizers.includes(JOB_TRACKING_FINALIZER)) meta.finalizers = [...finalizers, JOB_TRACKING_FINALIZER];
  if (isIndexedJob(job)) {
    const spec = template.spec!;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if (c.env?.some((e) => e.name === COMPLETION_INDEX_ENV)) continue;
      c.env = [...(c.env ?? []), {
        name: COMPLETION_INDEX_ENV,
        valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_ANNOTATION}']` } },
      }];
    }
  }
  return template;
}

/**
 * The template for the pod of one index: the index as annotation and label, hostname
 * `<job>-<index>`, and (with `backoffLimitPerIndex`) the failure counts carried over from the
 * failed pod it replaces. Answers the template and the pod's generateName.
 */
export function indexedPodTemplate(
  job: Job,
  base: PodTemplateSpec,
  index: number,
  replacing: Pod | undefined,
): { template: PodTemplateSpec; generateName: string } {
  const template = clone(base);
  const meta = template.metadata ??= {};
  meta.annotations = { ...meta.annotations, [COMPLETION_INDEX_ANNOTATION]: String(index) };
  meta.labels = { ...meta.labels, [COMPLETION_INDEX_ANNOTATION]: String(index) };
  template.spec!.hostname = `${job.metadata!.name}-${index}`;
  if (hasBackoffLimitPerIndex(job)) {
    const { failed, ignored } = nextIndexFailureCounts(job, replacing);
    meta.annotations[INDEX_FAILURE_COUNT_ANNOTATION] = String(failed);
    if (ignored > 0) meta.annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(ignored);
  }
  return { template, generateName: generateNameWithIndex(job.metadata!.name!, index) };
}

function annotationCount(pod: Pod, annotation: string): number {
  const v = pod.metadata?.annotations?.[annotation];
  if (v === undefined) return 0;
  const n = parseInteger(v);
  return Number.isNaN(n) || n < 0 || n > 2147483647 ? 0 : n;
}

/** Failures of the pod's index counted against `backoffLimitPerIndex`. */
export function indexFailureCount(pod: Pod): number {
  return annotationCount(pod, INDEX_FAILURE_COUNT_ANNOTATION);
}

/** Failures of the pod's index, ignored ones included. */
export function indexAbsoluteFailureCount(pod: Pod): number {
  return annotationCount(pod, INDEX_FAILURE_COUNT_ANNOTATION) +
    annotationCount(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
}

/** The counts the replacement of `replacing` starts with. */
function nextIndexFailureCounts(job: Job, replacing: Pod | undefined): { failed: number; ignored: number } {
  if (!replacing) return { failed: 0, ignored: 0 };
  let failed = indexFailureCount(replacing);
  let ignored = annotationCount(replacing, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
  if (matchPodFailurePolicy(job.spec?.podFailurePolicy, replacing).countFailed) failed++;
  else ignored++;
  return { failed, ignored };
}

/** The index of a failed pod has failed for good: FailIndex, or its failures reached the limit. */
export function isIndexFailed(job: Job, pod: Pod): boolean {
  if (!isPodFailed(pod, job)) return false;
  let counted = true;
  if (job.spec?.podFailurePolicy) {
    const match = matchPodFailurePolicy(job.spec.podFailurePolicy, pod);
    if (match.action === "FailIndex") return true;
    counted = match.countFailed;
  }
  return counted && indexFailureCount(pod) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

const byIndex = (a: Pod, b: Pod) => completionIndexOf(a) - completionIndexOf(b);

/**
 * The active pods to delete when `rmAtLeast` must go: for Indexed Jobs first every pod without
 * a valid index and all but one pod of each repeated index; then as many more as needed, those
 * in earlier stages (unscheduled, pending, not ready) first.
 */
export function activePodsForRemoval(job: Job, pods: Pod[], rmAtLeast: number): Pod[] {
  const rm: Pod[] = [];
  let left: Pod[];
  if (isIndexedJob(job)) {
    left = [];
    const completions = job.spec?.completions ?? 0;
    const byIx = new Map<number, Pod[]>();
    for (const pod of [...pods].sort(byIndex)) {
      const ix = completionIndexOf(pod);
      if (ix === NO_INDEX || ix >= completions) rm.push(pod);
      else byIx.set(ix, [...(byIx.get(ix) ?? []), pod]);
    }
    for (const same of byIx.values()) {
      same.sort((a, b) => comparePodsForDeletion(a, b));
      rm.push(...same.slice(0, -1));
      left.push(same[same.length - 1]);
    }
  } else {
    left = [...pods];
  }
  if (rm.length < rmAtLeast) {
    left.sort((a, b) => comparePodsForDeletion(a, b));
    rm.push(...left.slice(0, rmAtLeast - rm.length));
  }
  return rm;
}
