/**
 * Conversion between the versions of a resource that share storage: objects are stored in one
 * version (the storage version) and converted for the others on the way in and out.
 *
 * - events: stored as core/v1 Event, also served as events.k8s.io/v1 Event;
 * - horizontalpodautoscalers: stored as autoscaling/v2, also served as autoscaling/v1.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";

export interface Converter {
  /** The `group/resource` whose storage holds this version's objects, and its storage version. */
  storage: { group: string; resource: string; apiVersion: string };
  /** From this version to the storage version. */
  toStorage(obj: KubeObject): KubeObject;
  /** From the storage version to this version. */
  fromStorage(obj: KubeObject): KubeObject;
}

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

/** Renames keys of `obj` by `pairs` ([from, to]); keys not named are kept as they are. */
function rename(obj: Obj, pairs: [string, string][]): Obj {
  const map = new Map(pairs);
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj)) out[map.get(k) ?? k] = v;
  return out;
}

/** events.k8s.io/v1 field ↔ core/v1 field. */
const EVENT_FIELDS: [string, string][] = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

const eventsV1: Converter = {
  storage: { group: "", resource: "events", apiVersion: "v1" },
  toStorage(obj) {
    return { ...rename(obj, EVENT_FIELDS), apiVersion: "v1", kind: "Event" };
  },
  fromStorage(obj) {
    return {
      ...rename(obj, EVENT_FIELDS.map(([a, b]) => [b, a] as [string, string])),
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
    };
  },
};

function isCpuUtilization(m: Obj): boolean {
  return m?.type === "Resource" && m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization";
}

const hpaV1: Converter = {
  storage: { group: "autoscaling", resource: "horizontalpodautoscalers", apiVersion: "autoscaling/v2" },
  toStorage(obj) {
    const { targetCPUUtilizationPercentage, ...spec } = (obj.spec ?? {}) as Obj;
    const out: KubeObject = { ...obj, apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", spec };
    if (targetCPUUtilizationPercentage !== undefined) {
      spec.metrics = [{
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: targetCPUUtilizationPercentage },
        },
      }];
    }
    if (obj.status) {
      const { currentCPUUtilizationPercentage, ...status } = obj.status as Obj;
      if (currentCPUUtilizationPercentage !== undefined) {
        status.currentMetrics = [{
          type: "Resource",
          resource: { name: "cpu", current: { averageUtilization: currentCPUUtilizationPercentage } },
        }];
      }
      out.status = status;
    }
    return out;
  },
  fromStorage(obj) {
    const { metrics, behavior: _behavior, ...spec } = (obj.spec ?? {}) as Obj;
    const cpu = (metrics ?? []).find(isCpuUtilization);
    if (cpu) spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
    const out: KubeObject = { ...obj, apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", spec };
    if (obj.status) {
      const { currentMetrics, conditions: _conditions, ...status } = obj.status as Obj;
      const current = (currentMetrics ?? []).find((m: Obj) =>
        m?.type === "Resource" && m.resource?.name === "cpu"
      );
      if (current?.resource?.current?.averageUtilization !== undefined) {
        status.currentCPUUtilizationPercentage = current.resource.current.averageUtilization;
      }
      out.status = status;
    }
    return out;
  },
};

/** The converter for `group/version/resource` when it is served from another version's storage. */
export function converterFor(group: string, version: string, resource: string): Converter | undefined {
  if (group === "events.k8s.io" && version === "v1" && resource === "events") return eventsV1;
  if (group === "autoscaling" && version === "v1" && resource === "horizontalpodautoscalers") return hpaV1;
  return undefined;
}
