/**
 * Quota evaluators, as upstream's registry has them: each knows one resource's quota names
 * (`pods`, `requests.cpu`, `count/pods`, …), how much one object uses, and which scopes an
 * object falls in. Pods, services and claims have their own; configmaps, secrets,
 * replicationcontrollers and resourcequotas count objects under a legacy alias; any other
 * `count/<resource>[.<group>]` counts objects generically.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import type {
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  ScopedResourceSelectorRequirement,
  Service,
} from "../types.ts";
import { isBestEffort, podLimits, podRequests } from "./pod_resources.ts";
import { add, cmp, fromInt, parse, type Quantity, roundUpToUnit } from "./quantity.ts";

export type Usage = Map<string, Quantity>;

export interface Evaluator {
  group: string;
  resource: string;
  /** The quota names among `names` this evaluator measures. */
  matchingResources(names: string[]): string[];
  /** What one object uses. */
  usage(obj: KubeObject, now: number): Usage;
  /** Whether the object falls in a scope (a quota's `scopes` entry or `scopeSelector` expression). */
  matchesScope(scope: ScopedResourceSelectorRequirement, obj: KubeObject): boolean;
  /** For an object stuck terminating: when its usage stops counting. */
  usageChangesAt?(obj: KubeObject): number | undefined;
}

/** `count/<resource>` or `count/<resource>.<group>`. */
export function objectCountName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

const noScope = () => false;

function intersect(names: string[], known: readonly string[]): string[] {
  return [...new Set(names.filter((n) => known.includes(n)))].sort();
}

// ---- pods ----

const POD_RESOURCES = [
  objectCountName("", "pods"),
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "pods",
] as const;

const HUGEPAGES = "hugepages-";
const REQUESTS = "requests.";

/** Native resources have no domain or one under kubernetes.io. */
function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

function isExtendedResource(name: string): boolean {
  return !isNativeResource(name) && !name.startsWith(REQUESTS);
}

/** `requests.<domain>/<name>`: the only quota form an extended resource has. */
function isExtendedResourceNameForQuota(name: string): boolean {
  return !isNativeResource(name) && name.startsWith(REQUESTS);
}

/** Terminal pods, and pods past their deletion grace, no longer count against compute quota. */
function podCountsAgainstQuota(pod: Pod, now: number): boolean {
  const phase = pod.status?.phase;
  if (phase === "Failed" || phase === "Succeeded") return false;
  const meta = pod.metadata;
  if (meta?.deletionTimestamp && meta.deletionGracePeriodSeconds !== undefined) {
    const end = Date.parse(meta.deletionTimestamp) + meta.deletionGracePeriodSeconds * 1000;
    if (now > end) return false;
  }
  return true;
}

function podComputeUsage(requests: Usage, limits: Usage): Usage {
  const out: Usage = new Map([["pods", fromInt(1)]]);
  for (const r of ["cpu", "memory", "ephemeral-storage"]) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [name, q] of requests) {
    if (name.startsWith(HUGEPAGES)) {
      out.set(name, q);
      out.set(REQUESTS + name, q);
    }
    if (isExtendedResource(name)) out.set(REQUESTS + name, q);
  }
  return out;
}

/** The scope selector requirement as a label selector over `{<scopeName>: value}`. */
function matchesScopeValue(scope: ScopedResourceSelectorRequirement, value: string | undefined): boolean {
  const values = scope.values ?? [];
  switch (scope.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default:
      return false;
  }
}

function isTerminating(pod: Pod): boolean {
  const s = pod.spec?.activeDeadlineSeconds;
  return typeof s === "number" && s >= 0;
}

function usesCrossNamespacePodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  const terms = [
    ...(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
    ...(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) =>
      w.podAffinityTerm
    ),
  ];
  return terms.some((t) => (t?.namespaces?.length ?? 0) > 0 || t?.namespaceSelector != null);
}

export const podEvaluator: Evaluator = {
  group: "",
  resource: "pods",
  matchingResources(names) {
    const out = intersect(names, POD_RESOURCES);
    for (const n of names) {
      if (
        n.startsWith(HUGEPAGES) || n.startsWith(REQUESTS + HUGEPAGES) || isExtendedResourceNameForQuota(n)
      ) {
        if (!out.includes(n)) out.push(n);
      }
    }
    return out;
  },
  usage(obj, now) {
    const pod = obj as Pod;
    // Object counts cover every pod stored; compute resources only live ones.
    const out: Usage = new Map([[objectCountName("", "pods"), fromInt(1)]]);
    if (!podCountsAgainstQuota(pod, now)) return out;
    for (const [k, v] of podComputeUsage(podRequests(pod), podLimits(pod))) out.set(k, v);
    return out;
  },
  matchesScope(scope, obj) {
    const pod = obj as Pod;
    switch (scope.scopeName) {
      case "Terminating":
        return isTerminating(pod);
      case "NotTerminating":
        return !isTerminating(pod);
      case "BestEffort":
        return isBestEffort(pod);
      case "NotBestEffort":
        return !isBestEffort(pod);
      case "PriorityClass": {
        const pc = pod.spec?.priorityClassName || undefined;
        if (scope.operator === "Exists" || scope.operator === undefined) return pc !== undefined;
        return matchesScopeValue(scope, pc);
      }
      case "CrossNamespacePodAffinity":
        return usesCrossNamespacePodAffinity(pod);
      default:
        return false;
    }
  },
  usageChangesAt(obj) {
    const meta = (obj as Pod).metadata;
    if (!meta?.deletionTimestamp || meta.deletionGracePeriodSeconds === undefined) return undefined;
    return Date.parse(meta.deletionTimestamp) + meta.deletionGracePeriodSeconds * 1000;
  },
};

// ---- services ----

const SERVICE_RESOURCES = [
  objectCountName("", "services"),
  "services",
  "services.nodeports",
  "services.loadbalancers",
];

export const serviceEvaluator: Evaluator = {
  group: "",
  resource: "services",
  matchingResources: (names) => intersect(names, SERVICE_RESOURCES),
  usage(obj) {
    const svc = obj as Service;
    const ports = svc.spec?.ports ?? [];
    const out: Usage = new Map([
      [objectCountName("", "services"), fromInt(1)],
      ["services", fromInt(1)],
      ["services.loadbalancers", fromInt(0)],
      ["services.nodeports", fromInt(0)],
    ]);
    if (svc.spec?.type === "NodePort") out.set("services.nodeports", fromInt(ports.length));
    if (svc.spec?.type === "LoadBalancer") {
      // Without node ports allocated, only ports that name one explicitly count.
      const counted = svc.spec.allocateLoadBalancerNodePorts === false
        ? ports.filter((p) => p.nodePort).length
        : ports.length;
      out.set("services.nodeports", fromInt(counted));
      out.set("services.loadbalancers", fromInt(1));
    }
    return out;
  },
  matchesScope: noScope,
};

// ---- persistent volume claims ----

const STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/";
const PVC_RESOURCES = ["persistentvolumeclaims", "requests.storage"];

import { claimClass } from "../../machinery/volumes.ts";
export { claimClass };

function claimStorage(pvc: PersistentVolumeClaim): Quantity | undefined {
  const requested = parse((pvc.spec?.resources?.requests as Record<string, unknown> | undefined)?.storage);
  if (!requested) return undefined;
  let result = roundUpToUnit(requested);
  const allocated = parse((pvc.status?.allocatedResources as Record<string, unknown> | undefined)?.storage);
  if (allocated && cmp(allocated, result) > 0) result = roundUpToUnit(allocated);
  return result;
}

export const claimEvaluator: Evaluator = {
  group: "",
  resource: "persistentvolumeclaims",
  matchingResources(names) {
    const count = objectCountName("", "persistentvolumeclaims");
    return names.filter((n) =>
      n === count || PVC_RESOURCES.includes(n) ||
      PVC_RESOURCES.some((r) => n.endsWith(STORAGE_CLASS_SUFFIX + r))
    );
  },
  usage(obj) {
    const pvc = obj as PersistentVolumeClaim;
    const out: Usage = new Map([
      ["persistentvolumeclaims", fromInt(1)],
      [objectCountName("", "persistentvolumeclaims"), fromInt(1)],
    ]);
    const cls = claimClass(pvc);
    if (cls) out.set(cls + STORAGE_CLASS_SUFFIX + "persistentvolumeclaims", fromInt(1));
    const storage = claimStorage(pvc);
    if (storage) {
      out.set("requests.storage", storage);
      if (cls) out.set(cls + STORAGE_CLASS_SUFFIX + "requests.storage", storage);
    }
    return out;
  },
  matchesScope: noScope,
};

// ---- object counts ----

/** Counts objects of one resource under `count/…` (and a legacy alias, if any). */
export function objectCountEvaluator(group: string, resource: string, alias?: string): Evaluator {
  const names = [objectCountName(group, resource), ...(alias ? [alias] : [])];
  return {
    group,
    resource,
    matchingResources: (input) => intersect(input, names),
    usage: () => new Map(names.map((n) => [n, fromInt(1)])),
    matchesScope: noScope,
  };
}

/** The evaluators every quota controller has. */
export const STATIC_EVALUATORS: Evaluator[] = [
  podEvaluator,
  serviceEvaluator,
  claimEvaluator,
  objectCountEvaluator("", "configmaps", "configmaps"),
  objectCountEvaluator("", "resourcequotas", "resourcequotas"),
  objectCountEvaluator("", "replicationcontrollers", "replicationcontrollers"),
  objectCountEvaluator("", "secrets", "secrets"),
];

/** Resources quota never counts (virtual, or never quota-ed before). */
const IGNORED = new Set([
  "/bindings",
  "/componentstatuses",
  "/events",
  "events.k8s.io/events",
  "authentication.k8s.io/tokenreviews",
  "authentication.k8s.io/selfsubjectreviews",
  "authorization.k8s.io/subjectaccessreviews",
  "authorization.k8s.io/selfsubjectaccessreviews",
  "authorization.k8s.io/localsubjectaccessreviews",
  "authorization.k8s.io/selfsubjectrulesreviews",
]);

/** `count/deployments.apps` → {group: "apps", resource: "deployments"}; undefined when not a count or ignored. */
export function parseObjectCountName(name: string): { group: string; resource: string } | undefined {
  if (!name.startsWith("count/")) return undefined;
  const rest = name.slice("count/".length);
  const dot = rest.indexOf(".");
  const resource = dot < 0 ? rest : rest.slice(0, dot);
  const group = dot < 0 ? "" : rest.slice(dot + 1);
  if (!resource || IGNORED.has(`${group}/${resource}`)) return undefined;
  return { group, resource };
}

/** The scopes of a quota as requirements: each `spec.scopes` entry is an Exists. */
export function quotaScopes(quota: ResourceQuota): ScopedResourceSelectorRequirement[] {
  const out: ScopedResourceSelectorRequirement[] = (quota.spec?.scopes ?? []).map((scopeName) => ({
    scopeName,
    operator: "Exists",
  }));
  return [...out, ...(quota.spec?.scopeSelector?.matchExpressions ?? [])];
}

/** Adds `usage` into `total` (only names `total` tracks). */
export function addUsage(total: Usage, usage: Usage): void {
  for (const [name, q] of usage) {
    const have = total.get(name);
    if (have) total.set(name, add(have, q));
  }
}
