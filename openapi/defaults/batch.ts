/** Defaults of Jobs and CronJobs; each also defaults its pod template. */

import { defaultPodTemplateSpec } from "./pod.ts";
import {
  child,
  cloneJson,
  eachObject,
  isEmptyMap,
  isNonEmptyMap,
  isUnset,
  type Obj,
  setDefault,
  setDefaultString,
  structChild,
} from "./util.ts";

export const DEFAULT_BACKOFF_LIMIT = 6;
/** The backoff limit of a Job that limits retries per index instead: effectively none. */
export const BACKOFF_LIMIT_WITH_PER_INDEX_LIMIT = 2147483647;

/** A pod failure policy rule's pod condition pattern matches status True unless named. */
export function defaultPodFailurePolicy(policy: Obj): void {
  eachObject(policy, "rules", (rule) => {
    eachObject(rule, "onPodConditions", (pattern) => setDefaultString(pattern, "status", "True"));
  });
}

function defaultJobTemplateOf(spec: Obj): void {
  const template = structChild(spec, "template");
  if (template) defaultPodTemplateSpec(template);
  const policy = child(spec, "podFailurePolicy");
  if (policy) defaultPodFailurePolicy(policy);
}

/**
 * A Job: a single pod run to completion unless completions or parallelism say otherwise, six
 * retries (none counted globally when retries are limited per index), non-indexed, not
 * suspended, pods replaced once terminating (or only once failed, under a pod failure policy).
 * A Job without labels takes its template's. `manualSelector` stays as given.
 */
export function defaultJob(job: Obj): void {
  const spec = structChild(job, "spec");
  if (!spec) return;
  if (isUnset(spec.completions) && isUnset(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, "parallelism", 1);
  if (isUnset(spec.backoffLimit)) {
    spec.backoffLimit = isUnset(spec.backoffLimitPerIndex)
      ? DEFAULT_BACKOFF_LIMIT
      : BACKOFF_LIMIT_WITH_PER_INDEX_LIMIT;
  }
  const template = child(spec, "template");
  const templateLabels = template && child(template, "metadata")?.labels;
  if (isNonEmptyMap(templateLabels)) {
    const metadata = structChild(job, "metadata");
    if (metadata && isEmptyMap(metadata.labels)) metadata.labels = cloneJson(templateLabels);
  }
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", isUnset(spec.podFailurePolicy) ? "TerminatingOrFailed" : "Failed");
  defaultJobTemplateOf(spec);
}

/**
 * A CronJob: concurrent runs allowed, not suspended, three successful and one failed Job kept.
 * Its job template is not a Job: only the pod template (and pod failure policy) inside it is
 * defaulted.
 */
export function defaultCronJob(cronJob: Obj): void {
  const spec = structChild(cronJob, "spec");
  if (!spec) return;
  setDefaultString(spec, "concurrencyPolicy", "Allow");
  setDefault(spec, "suspend", false);
  setDefault(spec, "successfulJobsHistoryLimit", 3);
  setDefault(spec, "failedJobsHistoryLimit", 1);
  const jobTemplate = structChild(spec, "jobTemplate");
  const jobSpec = jobTemplate && structChild(jobTemplate, "spec");
  if (jobSpec) defaultJobTemplateOf(jobSpec);
}
