/**
 * Defaults of HorizontalPodAutoscalers in autoscaling/v1 and autoscaling/v2. Both versions
 * describe one stored object: a v1 autoscaler that names no CPU target reads back with the
 * 80% target the v2 form defaults to.
 */

import { child, isObject, isUnset, type Obj, setDefault, structChild } from "./util.ts";

export const DEFAULT_CPU_UTILIZATION = 80;

/** The annotation in which autoscaling/v1 keeps metrics it has no field for. */
export const V1_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics";

/** Scale-up rules an autoscaler with a `behavior` gets for what it leaves unset. */
export function defaultScaleUpRules(): Obj {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  };
}

/** Scale-down rules likewise; the stabilization window is left to the controller's flag. */
export function defaultScaleDownRules(): Obj {
  return {
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
  };
}

/** Fills the unset parts of one direction's scaling rules from `defaults`. */
function defaultScalingRules(behavior: Obj, key: string, defaults: Obj): void {
  const rules = behavior[key];
  if (isUnset(rules)) {
    behavior[key] = defaults;
    return;
  }
  if (!isObject(rules)) return;
  for (const [field, value] of Object.entries(defaults)) setDefault(rules, field, value);
}

/** A `behavior`, when present, is filled out for both directions. */
export function defaultHorizontalPodAutoscalerBehavior(spec: Obj): void {
  const behavior = child(spec, "behavior");
  if (!behavior) return;
  defaultScalingRules(behavior, "scaleUp", defaultScaleUpRules());
  defaultScalingRules(behavior, "scaleDown", defaultScaleDownRules());
}

/** autoscaling/v2: at least one replica; with no metrics, 80% average CPU utilization. */
export function defaultHorizontalPodAutoscalerV2(hpa: Obj): void {
  const spec = structChild(hpa, "spec");
  if (!spec) return;
  setDefault(spec, "minReplicas", 1);
  const metrics = spec.metrics;
  if (isUnset(metrics) || (Array.isArray(metrics) && metrics.length === 0)) {
    spec.metrics = [{
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: DEFAULT_CPU_UTILIZATION } },
    }];
  }
  defaultHorizontalPodAutoscalerBehavior(spec);
}

/**
 * autoscaling/v1: at least one replica; an 80% CPU target unless one is named or other
 * metrics ride in the v1 metrics annotation.
 */
export function defaultHorizontalPodAutoscalerV1(hpa: Obj): void {
  const spec = structChild(hpa, "spec");
  if (!spec) return;
  setDefault(spec, "minReplicas", 1);
  const annotations = child(hpa, "metadata")?.annotations;
  const otherMetrics = isObject(annotations) && annotations[V1_METRICS_ANNOTATION] !== undefined;
  if (!otherMetrics) setDefault(spec, "targetCPUUtilizationPercentage", DEFAULT_CPU_UTILIZATION);
}

export function defaultHorizontalPodAutoscaler(hpa: Obj, version: string): void {
  if (version === "v1") defaultHorizontalPodAutoscalerV1(hpa);
  else defaultHorizontalPodAutoscalerV2(hpa);
}
