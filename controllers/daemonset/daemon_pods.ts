/**
 * A DaemonSet's pods, as upstream's daemon/util makes them: the template with the
 * `controller-revision-hash` and `pod-template-generation` labels and the tolerations every
 * daemon pod gets (not-ready and unreachable NoExecute; disk, memory and PID pressure and
 * unschedulable NoSchedule; network-unavailable for host-network pods); the node a pod is for,
 * pinned by a required node affinity `metadata.name In [node]` (the scheduler binds it);
 * whether a pod is at the current revision; and the surge and unavailability the rolling update
 * allows.
 */

import { clone, jsonEqual } from "../../machinery/object_meta.ts";
import type { DaemonSet, Pod, PodTemplateSpec } from "../types.ts";

type PodSpec = NonNullable<Pod["spec"]>;
type Toleration = NonNullable<PodSpec["tolerations"]>[number];
type Affinity = NonNullable<PodSpec["affinity"]>;

/** The label holding the hash of the template a pod was made from. */
export const DAEMON_SET_UNIQUE_LABEL = "controller-revision-hash";
/** The (deprecated) label holding the template generation a pod was made from. */
export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";
/** The (deprecated) annotation in which the API server counts template changes. */
export const TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation";

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

/**
 * The DaemonSet's template generation: the API server's deprecated annotation when present,
 * else `metadata.generation`.
 */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const annotation = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (annotation !== undefined) {
    const n = Number(annotation);
    return Number.isInteger(n) ? n : undefined;
  }
  return ds.metadata?.generation;
}

function sameToleration(a: Toleration, b: Toleration): boolean {
  return (a.key ?? "") === (b.key ?? "") && (a.effect ?? "") === (b.effect ?? "") &&
    (a.operator ?? "") === (b.operator ?? "") && (a.value ?? "") === (b.value ?? "");
}

/** Adds `toleration`, or replaces one that matches it in all but `tolerationSeconds`. */
export function addOrUpdateToleration(spec: PodSpec, toleration: Toleration): void {
  const out: Toleration[] = [];
  let updated = false;
  for (const t of spec.tolerations ?? []) {
    if (sameToleration(t, toleration)) {
      if (jsonEqual(t, toleration)) return;
      out.push(toleration);
      updated = true;
    } else out.push(t);
  }
  if (!updated) out.push(toleration);
  spec.tolerations = out;
}

/** The tolerations every daemon pod gets, so node trouble does not evict or keep it away. */
export function addOrUpdateDaemonPodTolerations(spec: PodSpec): void {
  const add = (key: string, effect: string) =>
    addOrUpdateToleration(spec, { key, operator: "Exists", effect });
  add(TAINT_NODE_NOT_READY, "NoExecute");
  add(TAINT_NODE_UNREACHABLE, "NoExecute");
  add(TAINT_NODE_DISK_PRESSURE, "NoSchedule");
  add(TAINT_NODE_MEMORY_PRESSURE, "NoSchedule");
  add(TAINT_NODE_PID_PRESSURE, "NoSchedule");
  add(TAINT_NODE_UNSCHEDULABLE, "NoSchedule");
  if (spec.hostNetwork) add(TAINT_NODE_NETWORK_UNAVAILABLE, "NoSchedule");
}

/** The template pods are made from: the revision labels and the daemon tolerations added. */
export function createPodTemplate(
  template: PodTemplateSpec,
  generation: number | undefined,
  hash: string,
): PodTemplateSpec {
  const out = clone(template);
  const meta = out.metadata ??= {};
  meta.labels = { ...meta.labels };
  if (generation !== undefined) meta.labels[TEMPLATE_GENERATION_LABEL] = String(generation);
  if (hash) meta.labels[DAEMON_SET_UNIQUE_LABEL] = hash;
  addOrUpdateDaemonPodTolerations(out.spec!);
  return out;
}

/** Whether the pod is at the current revision: its hash label, or its template generation, agrees. */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const templateMatches = generation !== undefined &&
    labels[TEMPLATE_GENERATION_LABEL] === String(generation);
  const hashMatches = hash !== "" && labels[DAEMON_SET_UNIQUE_LABEL] === hash;
  return hashMatches || templateMatches;
}

/**
 * The affinity with its required node selector replaced by the one term
 * `matchFields metadata.name In [nodeName]`; preferred terms and pod (anti-)affinity are kept.
 */
export function replaceDaemonSetPodNodeNameNodeAffinity(
  affinity: Affinity | undefined,
  nodeName: string,
): Affinity {
  const required = {
    nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
  };
  const out: Affinity = affinity ? clone(affinity) : {};
  out.nodeAffinity = { ...out.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required };
  return out;
}

/**
 * The node a daemon pod is for: `spec.nodeName` once bound, else the one node its required node
 * affinity names by `metadata.name`. Undefined when neither says.
 */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms;
  if (terms?.length !== 1) return undefined;
  for (const f of terms[0].matchFields ?? []) {
    if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * An int-or-percent scaled to `total` (a percentage rounded up when `roundUp`), as upstream's
 * `GetScaledValueFromIntOrPercent`. Throws on a malformed value.
 */
export function scaledValueFromIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number") return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) {
    if (/^-?\d+$/.test(value)) return Number(value);
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(value)}`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** How many pods a rolling update may add above the desired number (0 for OnDelete). */
export function surgeCount(ds: DaemonSet, numberToSchedule: number): number {
  const strategy = ds.spec?.updateStrategy;
  if (strategy?.type !== "RollingUpdate" || !strategy.rollingUpdate?.maxSurge) return 0;
  return scaledValueFromIntOrPercent(strategy.rollingUpdate.maxSurge, numberToSchedule, true);
}

/** How many pods a rolling update may take down at once (0 for OnDelete). */
export function unavailableCount(ds: DaemonSet, numberToSchedule: number): number {
  const strategy = ds.spec?.updateStrategy;
  if (strategy?.type !== "RollingUpdate" || !strategy.rollingUpdate) return 0;
  return scaledValueFromIntOrPercent(strategy.rollingUpdate.maxUnavailable, numberToSchedule, true);
}

/** Whether the rolling update surges (makes the new pod before the old one goes). */
export function allowsSurge(ds: DaemonSet): boolean {
  try {
    return surgeCount(ds, 1) !== 0;
  } catch {
    return false;
  }
}
