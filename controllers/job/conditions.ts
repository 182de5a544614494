/**
 * A Job's conditions as the batch controllers read and write them: finished means Complete or
 * Failed is True; SuccessCriteriaMet and FailureTarget are the interim conditions written
 * before the pods' finalizers are removed, Complete and Failed the final ones after.
 */

import { rfc3339 } from "../../machinery/object_meta.ts";
import type { Job } from "../types.ts";
import type { Schema } from "../../openapi/generated/types.ts";

export type JobCondition = Schema<"io.k8s.api.batch.v1.JobCondition">;

export function findCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

/** `Complete` or `Failed` when the Job has finished. */
export function finishedConditionType(job: Job): "Complete" | "Failed" | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === "Complete" || c.type === "Failed") && c.status === "True") return c.type;
  }
  return undefined;
}

export function isJobFinished(job: Job): boolean {
  return finishedConditionType(job) !== undefined;
}

export function isJobSucceeded(job: Job): boolean {
  return job.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ?? false;
}

/** When the Job finished: the transition time of its Complete or Failed condition. */
export function jobFinishTime(job: Job): number | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === "Complete" || c.type === "Failed") && c.status === "True") {
      const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
      return Number.isNaN(t) ? undefined : t;
    }
  }
  return undefined;
}

export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): JobCondition {
  const t = rfc3339(now);
  const c: JobCondition = { type, status, lastProbeTime: t, lastTransitionTime: t };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/**
 * Sets a condition of `type` to the given status, reason and message in `conditions` (in place),
 * adding it unless it would be False from nothing. Answers whether anything changed.
 */
export function ensureCondition(
  conditions: JobCondition[],
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): boolean {
  const i = conditions.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = conditions[i];
    if (c.status === status && (c.reason ?? "") === reason && (c.message ?? "") === message) return false;
    conditions[i] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === "False") return false;
  conditions.push(newCondition(type, status, reason, message, now));
  return true;
}
