/**
 * Checks of the workload kinds (Deployment, ReplicaSet, StatefulSet, DaemonSet,
 * ReplicationController, Job, CronJob), worded as kube-apiserver words them.
 */

import { field, type FieldError, goStringMap, GoValue } from "../../machinery/status.ts";
import {
  type LabelSelectorObject,
  matchesLabels,
  selectorFromLabelSelector,
} from "../../machinery/labels.ts";
import { validatePodSpec } from "./pod.ts";
import { validateSchedule, validateTimeZone } from "../../machinery/cron/schedule.ts";
import { isInt, list, type Obj, obj, sortKeys } from "./util.ts";

function nonNegative(errors: FieldError[], path: string, v: unknown) {
  if (v !== undefined && v !== null && (!isInt(v) || v < 0)) {
    errors.push(field.invalid(path, v, "must be greater than or equal to 0"));
  }
}

/** Go's `%#v` of a LabelSelector, as immutability errors show it. */
function goLabelSelector(sel: unknown): GoValue {
  const s = obj(sel);
  const labels = s.matchLabels ? goStringMap(obj(s.matchLabels)).text : "map[string]string(nil)";
  const expressions = Array.isArray(s.matchExpressions) && s.matchExpressions.length
    ? `[]v1.LabelSelectorRequirement{${
      list(s.matchExpressions).map((e) =>
        `v1.LabelSelectorRequirement{Key:${JSON.stringify(String(e.key ?? ""))}, Operator:${
          JSON.stringify(String(e.operator ?? ""))
        }, Values:${
          Array.isArray(e.values)
            ? `[]string{${e.values.map((v) => JSON.stringify(String(v))).join(", ")}}`
            : "[]string(nil)"
        }}`
      ).join(", ")
    }}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return new GoValue(`&v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${expressions}}`);
}

/** The selector and template checks every controller of pods shares. */
function validateSelectorAndTemplate(
  errors: FieldError[],
  spec: Obj,
  options: {
    restartPolicies: string[];
    selectorIsMap?: boolean;
    selectorOptional?: boolean;
    extraVolumes?: string[];
  },
) {
  const template = obj(spec.template);
  const labels = obj(obj(template.metadata).labels) as Record<string, string>;
  if (options.selectorIsMap) {
    const selector = obj(spec.selector) as Record<string, string>;
    if (Object.keys(selector).length === 0) {
      if (!options.selectorOptional) errors.push(field.required("spec.selector"));
    } else if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) {
      errors.push(
        field.invalid(
          "spec.template.metadata.labels",
          goStringMap(labels),
          "`selector` does not match template `labels`",
        ),
      );
    }
  } else if (spec.selector === undefined || spec.selector === null) {
    if (!options.selectorOptional) errors.push(field.required("spec.selector"));
  } else {
    let parsed;
    try {
      parsed = selectorFromLabelSelector(spec.selector as LabelSelectorObject);
    } catch (err) {
      errors.push(field.invalid("spec.selector", goLabelSelector(spec.selector), (err as Error).message));
    }
    if (parsed && parsed.requirements.length === 0 && !options.selectorOptional) {
      errors.push(
        field.invalid(
          "spec.selector",
          goLabelSelector(spec.selector),
          "empty selector is invalid for deployment",
        ),
      );
    } else if (parsed && !matchesLabels(parsed, labels)) {
      errors.push(
        field.invalid(
          "spec.template.metadata.labels",
          goStringMap(labels),
          "`selector` does not match template `labels`",
        ),
      );
    }
  }
  if (spec.template === undefined || spec.template === null) {
    errors.push(field.required("spec.template"));
    return;
  }
  errors.push(
    ...validatePodSpec(template.spec, "spec.template.spec", {
      restartPolicies: options.restartPolicies,
      extraVolumes: options.extraVolumes,
    }),
  );
}

function validateDeployment(d: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(d.spec);
  nonNegative(errors, "spec.replicas", spec.replicas);
  validateSelectorAndTemplate(errors, spec, { restartPolicies: ["Always"] });
  nonNegative(errors, "spec.revisionHistoryLimit", spec.revisionHistoryLimit);
  nonNegative(errors, "spec.minReadySeconds", spec.minReadySeconds);
  const strategy = obj(spec.strategy);
  if (strategy.type !== undefined && !["Recreate", "RollingUpdate"].includes(String(strategy.type))) {
    errors.push(field.notSupported("spec.strategy.type", strategy.type, ["Recreate", "RollingUpdate"]));
  }
  if (strategy.type === "Recreate" && strategy.rollingUpdate) {
    errors.push(
      field.forbidden(
        "spec.strategy.rollingUpdate",
        "may not be specified when strategy `type` is 'Recreate'",
      ),
    );
  }
  const ru = obj(strategy.rollingUpdate);
  const zero = (v: unknown) => v === 0 || v === "0%" || v === "0";
  for (const key of ["maxSurge", "maxUnavailable"]) {
    const v = ru[key];
    if (typeof v === "string" && !/^\d+%$/.test(v)) {
      errors.push(
        field.invalid(
          `spec.strategy.rollingUpdate.${key}`,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
    } else if (isInt(v) && v < 0) {
      errors.push(
        field.invalid(`spec.strategy.rollingUpdate.${key}`, v, "must be greater than or equal to 0"),
      );
    }
  }
  if (
    ru.maxSurge !== undefined && ru.maxUnavailable !== undefined && zero(ru.maxSurge) &&
    zero(ru.maxUnavailable)
  ) {
    errors.push(
      field.invalid(
        "spec.strategy.rollingUpdate.maxUnavailable",
        ru.maxUnavailable,
        "may not be 0 when `maxSurge` is 0",
      ),
    );
  }
  if (
    typeof ru.maxUnavailable === "string" && /^\d+%$/.test(ru.maxUnavailable) &&
    parseInt(ru.maxUnavailable) > 100
  ) {
    errors.push(
      field.invalid(
        "spec.strategy.rollingUpdate.maxUnavailable",
        ru.maxUnavailable,
        "must not be greater than 100%",
      ),
    );
  }
  if (
    isInt(spec.progressDeadlineSeconds) && isInt(spec.minReadySeconds) &&
    spec.progressDeadlineSeconds <= spec.minReadySeconds
  ) {
    errors.push(
      field.invalid(
        "spec.progressDeadlineSeconds",
        spec.progressDeadlineSeconds,
        "must be greater than minReadySeconds",
      ),
    );
  }
  return errors;
}

function validateReplicaSet(rs: Obj, selectorIsMap = false): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(rs.spec);
  nonNegative(errors, "spec.replicas", spec.replicas);
  nonNegative(errors, "spec.minReadySeconds", spec.minReadySeconds);
  validateSelectorAndTemplate(errors, spec, { restartPolicies: ["Always"], selectorIsMap });
  return errors;
}

function validateStatefulSet(sts: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(sts.spec);
  nonNegative(errors, "spec.replicas", spec.replicas);
  if (
    spec.podManagementPolicy !== undefined &&
    !["OrderedReady", "Parallel"].includes(String(spec.podManagementPolicy))
  ) {
    errors.push(
      field.notSupported("spec.podManagementPolicy", spec.podManagementPolicy, ["OrderedReady", "Parallel"]),
    );
  }
  // Containers mount the claims of volumeClaimTemplates by the template's name.
  const claimNames = (Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [])
    .map((c) => String(obj(obj(c).metadata).name ?? ""));
  validateSelectorAndTemplate(errors, spec, { restartPolicies: ["Always"], extraVolumes: claimNames });
  return errors;
}

function validateDaemonSet(ds: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(ds.spec);
  validateSelectorAndTemplate(errors, spec, { restartPolicies: ["Always"] });
  return errors;
}

function validateJobSpec(errors: FieldError[], spec: Obj, prefix: string, checkSelector: boolean) {
  for (const key of ["parallelism", "completions", "backoffLimit"]) {
    nonNegative(errors, `${prefix}.${key}`, spec[key]);
  }
  if (
    spec.activeDeadlineSeconds !== undefined &&
    (!isInt(spec.activeDeadlineSeconds) || spec.activeDeadlineSeconds <= 0)
  ) {
    errors.push(
      field.invalid(
        `${prefix}.activeDeadlineSeconds`,
        spec.activeDeadlineSeconds,
        "must be greater than or equal to 1",
      ),
    );
  }
  if (spec.completionMode !== undefined && !["NonIndexed", "Indexed"].includes(String(spec.completionMode))) {
    errors.push(
      field.notSupported(`${prefix}.completionMode`, spec.completionMode, ["NonIndexed", "Indexed"]),
    );
  }
  if (spec.completionMode === "Indexed" && (spec.completions === undefined || spec.completions === null)) {
    errors.push(field.required(`${prefix}.completions`, "when completion mode is Indexed"));
  }
  const template = obj(spec.template);
  if (checkSelector && spec.manualSelector === true) {
    const sub: FieldError[] = [];
    validateSelectorAndTemplate(sub, spec, { restartPolicies: ["OnFailure", "Never"] });
    errors.push(...sub);
    return;
  }
  if (spec.template === undefined) {
    errors.push(field.required(`${prefix}.template`));
    return;
  }
  errors.push(
    ...validatePodSpec(template.spec, `${prefix}.template.spec`, { restartPolicies: ["OnFailure", "Never"] }),
  );
}

function validateJob(job: Obj): FieldError[] {
  const errors: FieldError[] = [];
  validateJobSpec(errors, obj(job.spec), "spec", true);
  return errors;
}

function validateCronJob(cj: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(cj.spec);
  // The cron parser the CronJob controller schedules with, so what is accepted is what runs.
  const timeZone = typeof spec.timeZone === "string" ? spec.timeZone : undefined;
  errors.push(
    ...validateSchedule(typeof spec.schedule === "string" ? spec.schedule : undefined, { timeZone }),
  );
  if (timeZone !== undefined) errors.push(...validateTimeZone(timeZone));
  if (
    spec.concurrencyPolicy !== undefined &&
    !["Allow", "Forbid", "Replace"].includes(String(spec.concurrencyPolicy))
  ) {
    errors.push(
      field.notSupported("spec.concurrencyPolicy", spec.concurrencyPolicy, ["Allow", "Forbid", "Replace"]),
    );
  }
  nonNegative(errors, "spec.startingDeadlineSeconds", spec.startingDeadlineSeconds);
  nonNegative(errors, "spec.successfulJobsHistoryLimit", spec.successfulJobsHistoryLimit);
  nonNegative(errors, "spec.failedJobsHistoryLimit", spec.failedJobsHistoryLimit);
  validateJobSpec(errors, obj(obj(spec.jobTemplate).spec), "spec.jobTemplate.spec", false);
  return errors;
}

export const WORKLOAD_VALIDATORS: Record<string, (o: Obj) => FieldError[]> = {
  "apps/Deployment": validateDeployment,
  "apps/ReplicaSet": (o) => validateReplicaSet(o),
  "apps/StatefulSet": validateStatefulSet,
  "apps/DaemonSet": validateDaemonSet,
  "/ReplicationController": (o) => validateReplicaSet(o, true),
  "batch/Job": validateJob,
  "batch/CronJob": validateCronJob,
};

function immutableSelector(next: Obj, old: Obj): FieldError[] {
  const a = obj(next.spec).selector;
  const b = obj(old.spec).selector;
  if (JSON.stringify(a ?? null) === JSON.stringify(b ?? null)) return [];
  return [field.invalid("spec.selector", goLabelSelector(a), "field is immutable")];
}

const STATEFULSET_MUTABLE = [
  "replicas",
  "ordinals",
  "template",
  "updateStrategy",
  "persistentVolumeClaimRetentionPolicy",
  "minReadySeconds",
];

export const WORKLOAD_UPDATE_VALIDATORS: Record<string, (o: Obj, old: Obj) => FieldError[]> = {
  "apps/Deployment": immutableSelector,
  "apps/ReplicaSet": immutableSelector,
  "apps/DaemonSet": immutableSelector,
  "apps/StatefulSet": (next, old) => {
    const strip = (o: Obj) => {
      const spec = { ...obj(o.spec) };
      for (const k of STATEFULSET_MUTABLE) delete spec[k];
      return JSON.stringify(sortKeys(spec));
    };
    if (strip(next) === strip(old)) return [];
    return [
      field.forbidden(
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    ];
  },
  "batch/Job": (next, old) => {
    const errors: FieldError[] = [];
    const a = obj(next.spec);
    const b = obj(old.spec);
    if (JSON.stringify(a.selector ?? null) !== JSON.stringify(b.selector ?? null)) {
      errors.push(field.invalid("spec.selector", goLabelSelector(a.selector), "field is immutable"));
    }
    if (JSON.stringify(a.template ?? null) !== JSON.stringify(b.template ?? null) && !a.suspend) {
      errors.push({ ...field.invalid("spec.template", null, "field is immutable"), omitValue: true });
    }
    if (a.completionMode !== b.completionMode) {
      errors.push(field.invalid("spec.completionMode", a.completionMode, "field is immutable"));
    }
    return errors;
  },
};
