/**
 * What the scheduler derives from a pod once and reuses every cycle (`PodInfo`): its resource
 * requests computed as kube-scheduler computes them (containers summed, init containers as a
 * running maximum with restartable "sidecar" init containers accumulating, plus overhead), the
 * non-zero requests used for scoring (100m cpu / 200Mi memory for containers that leave them
 * unset), host ports, and parsed pod (anti-)affinity terms.
 */

import {
  type LabelRequirement,
  type LabelSelector,
  matchesRequirement,
  selectorFromLabelSelector,
} from "../../machinery/labels.ts";
import { parseQuantity } from "../../machinery/quantity.ts";
import {
  type Container,
  type LabelSelectorObject,
  type Pod,
  type PodAffinityTerm,
  podPriority,
} from "./types.ts";

/** cpu assumed for a container that requests none, when scoring (millicores). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** memory assumed for a container that requests none, when scoring (bytes). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Compute resources in the scheduler's units: cpu in millicores, the rest in whole units. */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources, hugepages and attachable volumes; absent when none. */
  scalar?: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0 };
}

/** Rounds up as `Quantity.Value()`/`MilliValue()` do, without tripping on float noise. */
function roundUp(n: number): number {
  const r = Math.round(n);
  return Math.abs(n - r) < 1e-6 ? r : Math.ceil(n);
}

/** A quantity in the unit the scheduler keeps for `name` (cpu → millicores). */
export function quantityValue(name: string, q: unknown): number {
  const n = parseQuantity(q);
  if (n === undefined) return 0;
  return name === "cpu" ? roundUp(n * 1000) : roundUp(n);
}

/**
 * Whether a resource is a "scalar" one the scheduler tracks beyond cpu, memory and
 * ephemeral-storage: extended (domain-prefixed), hugepages-*, attachable-volumes-*.
 */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith("hugepages-") || name.startsWith("attachable-volumes-")) return true;
  return name.includes("/") && !name.startsWith("requests.");
}

type ResourceList = Map<string, number>;

function listOf(requests: Record<string, unknown> | undefined): ResourceList {
  const out: ResourceList = new Map();
  if (!requests) return out;
  for (const name in requests) out.set(name, quantityValue(name, requests[name]));
  return out;
}

function addInto(into: ResourceList, from: ResourceList): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

function maxInto(into: ResourceList, from: ResourceList): void {
  for (const [k, v] of from) into.set(k, Math.max(into.get(k) ?? 0, v));
}

function containerRequests(c: Container, nonMissing: boolean): ResourceList {
  const reqs = listOf(c.resources?.requests as Record<string, unknown> | undefined);
  if (nonMissing) {
    if (!reqs.has("cpu")) reqs.set("cpu", DEFAULT_MILLI_CPU_REQUEST);
    if (!reqs.has("memory")) reqs.set("memory", DEFAULT_MEMORY_REQUEST);
  }
  return reqs;
}

function isRestartable(c: Container): boolean {
  return c.restartPolicy === "Always";
}

/**
 * A pod's aggregate requests: the sum over containers, raised to what any init container needs
 * while it runs (a regular init container runs beside the restartable ones started before it),
 * plus `spec.overhead`. With `nonMissing`, containers without a cpu or memory request count the
 * scoring defaults.
 */
export function podRequests(pod: Pod, nonMissing = false): ResourceList {
  const reqs: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c, nonMissing));
  const restartable: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = containerRequests(c, nonMissing);
    if (isRestartable(c)) {
      addInto(reqs, own);
      addInto(restartable, own);
      maxInto(initMax, restartable);
    } else {
      const running = new Map(own);
      addInto(running, restartable);
      maxInto(initMax, running);
    }
  }
  maxInto(reqs, initMax);
  const overhead = pod.spec?.overhead as Record<string, unknown> | undefined;
  if (overhead) addInto(reqs, listOf(overhead));
  return reqs;
}

/** A resource list folded into the scheduler's `Resource` (pods and unknown names dropped). */
export function toResource(list: ResourceList): Resource {
  const r = emptyResource();
  for (const [name, v] of list) {
    if (name === "cpu") r.milliCPU += v;
    else if (name === "memory") r.memory += v;
    else if (name === "ephemeral-storage") r.ephemeralStorage += v;
    else if (isScalarResourceName(name)) {
      r.scalar ??= new Map();
      r.scalar.set(name, (r.scalar.get(name) ?? 0) + v);
    }
  }
  return r;
}

/** A host port a pod binds, with upstream's defaults (0.0.0.0, TCP). */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** The host ports of the pod's containers and of its restartable init containers. */
export function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const take = (c: Container) => {
    for (const p of c.ports ?? []) {
      if ((p.hostPort ?? 0) > 0) {
        out.push({ ip: p.hostIP || "0.0.0.0", protocol: p.protocol || "TCP", port: p.hostPort! });
      }
    }
  };
  for (const c of pod.spec?.initContainers ?? []) if (isRestartable(c)) take(c);
  for (const c of pod.spec?.containers ?? []) take(c);
  return out;
}

/** A pod (anti-)affinity term with its selectors parsed. */
export interface AffinityTerm {
  /** Namespaces named by the term (the pod's own when it names none and has no selector). */
  namespaces: ReadonlySet<string>;
  /** Selects more namespaces by their labels; null selects none. */
  namespaceSelector: LabelSelector | null;
  /** Selects pods; null selects none. */
  selector: LabelSelector | null;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/**
 * Whether one requirement holds, as `matchesRequirement` decides it, minus its per-call
 * overhead: a label value is always a string, so a string lookup means the label is set.
 */
export function requirementHolds(r: LabelRequirement, labels: Record<string, string>): boolean {
  const v = labels[r.key];
  const has = typeof v === "string";
  const vals = r.values;
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && (vals.length === 1 ? vals[0] === v : vals.includes(v));
    case "!=":
    case "notin":
      return !has || (vals.length === 1 ? vals[0] !== v : !vals.includes(v));
    case "exists":
      return has;
    case "!":
      return !has;
    default:
      return matchesRequirement(r, labels);
  }
}

/** Whether `labels` satisfy every requirement (this runs for every pod a selector is tried on). */
export function selects(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const reqs = sel.requirements;
  if (reqs.length === 0) return true;
  const l = labels ?? NO_LABELS;
  for (let i = 0; i < reqs.length; i++) if (!requirementHolds(reqs[i], l)) return false;
  return true;
}

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A selector object parsed; an invalid one selects nothing, as a parse error does upstream. */
export function parseSelector(ls: LabelSelectorObject | null | undefined): LabelSelector | null {
  try {
    return selectorFromLabelSelector(ls);
  } catch {
    return null;
  }
}

function affinityTerm(namespace: string, t: PodAffinityTerm): AffinityTerm {
  const named = t.namespaces ?? [];
  const namespaces = named.length === 0 && !t.namespaceSelector ? [namespace] : named;
  return {
    namespaces: new Set(namespaces),
    namespaceSelector: parseSelector(t.namespaceSelector),
    selector: parseSelector(t.labelSelector),
    topologyKey: t.topologyKey,
  };
}

/** The target of a term match: a pod's namespace and labels. */
export interface PodRef {
  namespace: string;
  labels: Record<string, string>;
}

/**
 * Whether `pod` is selected by `term`: its namespace is named or its namespace's labels
 * (`nsLabels`) match the namespace selector, and its labels match the label selector.
 */
export function termMatches(term: AffinityTerm, pod: PodRef, nsLabels?: Record<string, string>): boolean {
  if (!term.selector) return false;
  if (!term.namespaces.has(pod.namespace)) {
    if (!term.namespaceSelector || !selects(term.namespaceSelector, nsLabels)) return false;
  }
  return selects(term.selector, pod.labels);
}

/** Everything the scheduler derives from one pod. */
export interface PodInfo extends PodRef {
  readonly pod: Pod;
  /** The cache key: the UID, else `namespace/name`. */
  readonly key: string;
  readonly name: string;
  readonly priority: number;
  /** Actual requests (fit, balanced allocation). */
  readonly requests: Resource;
  /** cpu and memory with the scoring defaults for containers that request none. */
  readonly nonZeroCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** The pod has `podAffinity` or `podAntiAffinity` (upstream's "pod with affinity"). */
  readonly hasAffinity: boolean;
  readonly hasRequiredAntiAffinity: boolean;
  /** Terms that can move InterPodAffinity scores of other pods. */
  readonly hasScoringTerms: boolean;
  /** `metadata.deletionTimestamp` is set. */
  readonly terminating: boolean;
  /** `status.startTime` in ms since the epoch, if started. */
  readonly startTime?: number;
}

const cache = new WeakMap<Pod, PodInfo>();

/** The `PodInfo` of a pod, computed once per pod object. */
export function podInfoOf(pod: Pod): PodInfo {
  let info = cache.get(pod);
  if (!info) {
    info = computePodInfo(pod);
    cache.set(pod, info);
  }
  return info;
}

/** A `PodInfo` for a changed copy of a pod whose scheduling inputs are unchanged (assume). */
export function podInfoFor(pod: Pod, like: PodInfo): PodInfo {
  const info: PodInfo = { ...like, pod };
  cache.set(pod, info);
  return info;
}

function computePodInfo(pod: Pod): PodInfo {
  const meta = pod.metadata ?? {};
  const namespace = meta.namespace || "default";
  const requests = toResource(podRequests(pod));
  const nonZero = podRequests(pod, true);
  const aff = pod.spec?.affinity;
  const required = (terms?: PodAffinityTerm[]) => (terms ?? []).map((t) => affinityTerm(namespace, t));
  const preferred = (terms?: { weight: number; podAffinityTerm: PodAffinityTerm }[]) =>
    (terms ?? []).map((w) => ({ ...affinityTerm(namespace, w.podAffinityTerm), weight: w.weight }));
  const requiredAffinityTerms = required(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
  const requiredAntiAffinityTerms = required(
    aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
  );
  const preferredAffinityTerms = preferred(aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
  const preferredAntiAffinityTerms = preferred(
    aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
  );
  const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
  return {
    pod,
    key: meta.uid || `${namespace}/${meta.name ?? ""}`,
    namespace,
    name: meta.name ?? "",
    labels: meta.labels ?? {},
    priority: podPriority(pod),
    requests,
    nonZeroCPU: nonZero.get("cpu") ?? 0,
    nonZeroMemory: nonZero.get("memory") ?? 0,
    hostPorts: hostPorts(pod),
    requiredAffinityTerms,
    requiredAntiAffinityTerms,
    preferredAffinityTerms,
    preferredAntiAffinityTerms,
    hasAffinity: !!(aff?.podAffinity || aff?.podAntiAffinity),
    hasRequiredAntiAffinity: requiredAntiAffinityTerms.length > 0,
    hasScoringTerms: requiredAffinityTerms.length > 0 || preferredAffinityTerms.length > 0 ||
      preferredAntiAffinityTerms.length > 0,
    terminating: !!meta.deletionTimestamp,
    startTime: Number.isNaN(start) ? undefined : start,
  };
}
