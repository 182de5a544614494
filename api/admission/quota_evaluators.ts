/**
 * Quota evaluators, as upstream's registry has them: for one resource, which quota names it
 * measures (`pods`, `requests.cpu`, `count/deployments.apps`, …), what one object uses, which
 * scopes an object falls in, and which writes can change usage. Pods, services and claims have
 * their own; configmaps, secrets, replicationcontrollers and resourcequotas are counted under a
 * legacy name too; anything else is counted as `count/<resource>[.<group>]`.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import { metaOf } from "../../machinery/object_meta.ts";
import {
  parseResourceList,
  parseResourceQuantity,
  quantityOfInt,
  type ResourceList,
  type ResourceQuantity,
} from "../../machinery/resource_quantity.ts";
import { matchesRequirement } from "../../machinery/labels.ts";
import { podQosClass } from "../registry/strategies.ts";
import type { AdmissionRequest } from "./mod.ts";
import { containerResources, podContainers, podResourceTotals } from "./pod_resources.ts";
import { claimClass } from "../../machinery/volumes.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

/** One entry of a quota's scope selector (`spec.scopes` entries read as `Exists`). */
export interface ScopeSelector {
  scopeName: string;
  operator: string;
  values?: string[];
}

export interface QuotaEvaluator {
  group: string;
  resource: string;
  /** The quota names among `names` this evaluator measures. */
  matchingResources(names: string[]): string[];
  /** Whether the write can change usage (creates, and the updates that move usage). */
  handles(req: AdmissionRequest): boolean;
  /** What one object uses, at time `now` (ms). */
  usage(obj: KubeObject, now: number): ResourceList;
  /** Whether the object falls in the scope. */
  matchesScope(scope: ScopeSelector, obj: KubeObject): boolean;
  /** Requirements an object must meet for a quota tracking `required` ("must specify …"), if unmet. */
  constraints?(required: string[], obj: KubeObject): string | undefined;
}

/** `count/<resource>` or `count/<resource>.<group>`. */
export function objectCountName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

/** The group and resource a `count/…` name counts. */
export function parseObjectCountName(name: string): { group: string; resource: string } | undefined {
  if (!name.startsWith("count/")) return undefined;
  const rest = name.slice("count/".length);
  const dot = rest.indexOf(".");
  return dot < 0
    ? { group: "", resource: rest }
    : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
}

function intersect(names: string[], known: ReadonlySet<string>): string[] {
  return [...new Set(names.filter((n) => known.has(n)))];
}

const ONE = quantityOfInt(1);
const noScope = () => false;

// ---- pods ----

const POD_RESOURCES: ReadonlySet<string> = new Set([
  "count/pods",
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
]);

/** The quota names that require every container to state the resource (upstream's old mistake, kept). */
const MUST_SPECIFY: ReadonlySet<string> = new Set([
  "cpu",
  "memory",
  "requests.cpu",
  "requests.memory",
  "limits.cpu",
  "limits.memory",
]);

/** Not in the `kubernetes.io` namespace and namespaced by a domain: an extended resource. */
function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

function isExtendedQuotaName(name: string): boolean {
  return name.startsWith("requests.") && !isNativeResource(name);
}

/** What a container's (or a pod's) requests and limits count as, by quota name. */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([["pods", ONE]]);
  const pair = (name: string) => {
    const request = requests.get(name);
    if (request) {
      out.set(name, request);
      out.set(`requests.${name}`, request);
    }
    const limit = limits.get(name);
    if (limit) out.set(`limits.${name}`, limit);
  };
  pair("cpu");
  pair("memory");
  pair("ephemeral-storage");
  for (const [name, request] of requests) {
    if (name.startsWith("hugepages-")) {
      out.set(name, request);
      out.set(`requests.${name}`, request);
    } else if (!isNativeResource(name)) {
      out.set(`requests.${name}`, request);
    }
  }
  return out;
}

/** Terminating: the pod has an active deadline. */
export function isTerminating(pod: KubeObject): boolean {
  const deadline = obj(pod.spec).activeDeadlineSeconds;
  return typeof deadline === "number" && deadline >= 0;
}

/** Whether a pod still counts against compute quota: not terminal, not past its deletion grace. */
export function podCountsForCompute(pod: KubeObject, now: number): boolean {
  const phase = obj(pod.status).phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  const meta = metaOf(pod);
  if (meta.deletionTimestamp && typeof meta.deletionGracePeriodSeconds === "number") {
    const due = Date.parse(meta.deletionTimestamp) + meta.deletionGracePeriodSeconds * 1000;
    if (now > due) return false;
  }
  return true;
}

/** A selector requirement on the single label the PriorityClass scope exposes. */
function matchesPriorityClass(scope: ScopeSelector, pod: KubeObject): boolean {
  const priorityClassName = obj(pod.spec).priorityClassName;
  const labels: Record<string, string> = typeof priorityClassName === "string" && priorityClassName
    ? { PriorityClass: priorityClassName }
    : {};
  const operator = ({ In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" } as const)[
    scope.operator as "In" | "NotIn" | "Exists" | "DoesNotExist"
  ];
  if (!operator) return false;
  return matchesRequirement({ key: "PriorityClass", operator, values: scope.values ?? [] }, labels);
}

export const podEvaluator: QuotaEvaluator = {
  group: "",
  resource: "pods",
  matchingResources(names) {
    const out = intersect(names, POD_RESOURCES);
    for (const name of names) {
      if (
        name.startsWith("hugepages-") || name.startsWith("requests.hugepages-") || isExtendedQuotaName(name)
      ) {
        if (!out.includes(name)) out.push(name);
      }
    }
    return out;
  },
  handles(req) {
    if (req.subresource) return false;
    if (req.operation === "CREATE") return true;
    return !!req.oldObject && isTerminating(req.oldObject) !== isTerminating(req.object);
  },
  usage(pod, now) {
    const out: ResourceList = new Map([["count/pods", ONE]]);
    if (!podCountsForCompute(pod, now)) return out;
    const totals = computeUsage(
      podResourceTotals(pod, "requests", { overhead: true }),
      podResourceTotals(pod, "limits", { overhead: true }),
    );
    for (const [name, q] of totals) out.set(name, q);
    return out;
  },
  matchesScope(scope, pod) {
    switch (scope.scopeName) {
      case "Terminating":
        return isTerminating(pod);
      case "NotTerminating":
        return !isTerminating(pod);
      case "BestEffort":
        return podQosClass(pod) === "BestEffort";
      case "NotBestEffort":
        return podQosClass(pod) !== "BestEffort";
      case "PriorityClass":
        if (scope.operator === "Exists") return !!obj(pod.spec).priorityClassName;
        return matchesPriorityClass(scope, pod);
      case "CrossNamespacePodAffinity":
        return usesCrossNamespaceAffinity(pod);
    }
    return false;
  },
  constraints(required, pod) {
    const needed = required.filter((n) => MUST_SPECIFY.has(n));
    if (needed.length === 0) return undefined;
    const missing = new Map<string, Set<string>>();
    const { containers, initContainers } = podContainers(pod);
    for (const c of [...containers, ...initContainers]) {
      const has = computeUsage(containerResources(c, "requests"), containerResources(c, "limits"));
      for (const name of needed) {
        if (has.has(name)) continue;
        if (!missing.has(name)) missing.set(name, new Set());
        missing.get(name)!.add(String(c.name ?? ""));
      }
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()].sort().map((name) =>
      `${name} for: ${[...missing.get(name)!].sort().join(",")}`
    );
    return `must specify ${parts.join("; ")}`;
  },
};

function usesCrossNamespaceAffinity(pod: KubeObject): boolean {
  const affinity = obj(obj(pod.spec).affinity);
  for (const kind of ["podAffinity", "podAntiAffinity"]) {
    const terms = obj(affinity[kind]);
    const required = Array.isArray(terms.requiredDuringSchedulingIgnoredDuringExecution)
      ? terms.requiredDuringSchedulingIgnoredDuringExecution.map(obj)
      : [];
    const preferred = Array.isArray(terms.preferredDuringSchedulingIgnoredDuringExecution)
      ? terms.preferredDuringSchedulingIgnoredDuringExecution.map((w) => obj(obj(w).podAffinityTerm))
      : [];
    for (const term of [...required, ...preferred]) {
      if ((Array.isArray(term.namespaces) && term.namespaces.length) || term.namespaceSelector) return true;
    }
  }
  return false;
}

// ---- services ----

const SERVICE_RESOURCES: ReadonlySet<string> = new Set([
  "count/services",
  "services",
  "services.loadbalancers",
  "services.nodeports",
]);

export const serviceEvaluator: QuotaEvaluator = {
  group: "",
  resource: "services",
  matchingResources: (names) => intersect(names, SERVICE_RESOURCES),
  handles: (req) => !req.subresource && (req.operation === "CREATE" || req.operation === "UPDATE"),
  usage(svc) {
    const spec = obj(svc.spec);
    const ports = Array.isArray(spec.ports) ? spec.ports.map(obj) : [];
    const out: ResourceList = new Map([
      ["count/services", ONE],
      ["services", ONE],
      ["services.loadbalancers", quantityOfInt(0)],
      ["services.nodeports", quantityOfInt(0)],
    ]);
    if (spec.type === "NodePort") out.set("services.nodeports", quantityOfInt(ports.length));
    if (spec.type === "LoadBalancer") {
      // Without node ports allocated for load balancers, only the ports asking for one count.
      const count = spec.allocateLoadBalancerNodePorts === false
        ? ports.filter((p) => typeof p.nodePort === "number" && p.nodePort !== 0).length
        : ports.length;
      out.set("services.nodeports", quantityOfInt(count));
      out.set("services.loadbalancers", ONE);
    }
    return out;
  },
  matchesScope: noScope,
};

// ---- persistent volume claims ----

const STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/";
const CLAIM_RESOURCES: ReadonlySet<string> = new Set([
  "count/persistentvolumeclaims",
  "persistentvolumeclaims",
  "requests.storage",
]);

export const claimEvaluator: QuotaEvaluator = {
  group: "",
  resource: "persistentvolumeclaims",
  matchingResources(names) {
    const out = intersect(names, CLAIM_RESOURCES);
    for (const name of names) {
      if (
        (name.endsWith(`${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`) ||
          name.endsWith(`${STORAGE_CLASS_SUFFIX}requests.storage`)) && !out.includes(name)
      ) out.push(name);
    }
    return out;
  },
  handles: (req) => !req.subresource && (req.operation === "CREATE" || req.operation === "UPDATE"),
  usage(claim) {
    const out: ResourceList = new Map([["count/persistentvolumeclaims", ONE], [
      "persistentvolumeclaims",
      ONE,
    ]]);
    const storageClass = claimClass(claim);
    if (storageClass) out.set(`${storageClass}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, ONE);
    let storage: ResourceQuantity | undefined = parseResourceQuantity(
      obj(obj(obj(claim.spec).resources).requests).storage,
    );
    // A claim being expanded is charged for the larger of what it asks and what it was given.
    const allocated = parseResourceList(obj(claim.status).allocatedResources).get("storage");
    if (allocated && (!storage || allocated.nano > storage.nano)) storage = allocated;
    if (storage) {
      out.set("requests.storage", storage);
      if (storageClass) out.set(`${storageClass}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
    }
    return out;
  },
  matchesScope: noScope,
};

// ---- object counts ----

/** Resources counted under a legacy quota name as well as `count/…`. */
const LEGACY_COUNT_NAMES: Record<string, string> = {
  "/configmaps": "configmaps",
  "/secrets": "secrets",
  "/replicationcontrollers": "replicationcontrollers",
  "/resourcequotas": "resourcequotas",
};

/** Resources quota never counts: nothing is stored for them. */
const IGNORED = new Set([
  "/bindings",
  "/componentstatuses",
  "authentication.k8s.io/tokenreviews",
  "authentication.k8s.io/selfsubjectreviews",
  "authorization.k8s.io/subjectaccessreviews",
  "authorization.k8s.io/selfsubjectaccessreviews",
  "authorization.k8s.io/localsubjectaccessreviews",
  "authorization.k8s.io/selfsubjectrulesreviews",
]);

/** Counts objects of one resource (creates only). */
export function objectCountEvaluator(group: string, resource: string): QuotaEvaluator {
  const names = new Set([objectCountName(group, resource)]);
  const legacy = LEGACY_COUNT_NAMES[`${group}/${resource}`];
  if (legacy) names.add(legacy);
  return {
    group,
    resource,
    matchingResources: (input) => intersect(input, names),
    handles: (req) => !req.subresource && req.operation === "CREATE",
    usage: () => new Map([...names].map((n) => [n, ONE])),
    matchesScope: noScope,
  };
}

const evaluators = new Map<string, QuotaEvaluator | null>([
  ["/pods", podEvaluator],
  ["/services", serviceEvaluator],
  ["/persistentvolumeclaims", claimEvaluator],
]);

/** The evaluator of a resource, or undefined for the resources quota ignores. */
export function evaluatorFor(group: string, resource: string): QuotaEvaluator | undefined {
  const key = `${group}/${resource}`;
  let evaluator = evaluators.get(key);
  if (evaluator === undefined) {
    evaluator = IGNORED.has(key) ? null : objectCountEvaluator(group, resource);
    evaluators.set(key, evaluator);
  }
  return evaluator ?? undefined;
}

/** The scope selectors of a quota: `spec.scopes` (as Exists) and `spec.scopeSelector`. */
export function quotaScopes(quota: KubeObject): ScopeSelector[] {
  const spec = obj(quota.spec);
  const out: ScopeSelector[] = [];
  if (Array.isArray(spec.scopes)) {
    for (const s of spec.scopes) out.push({ scopeName: String(s), operator: "Exists" });
  }
  const expressions = obj(spec.scopeSelector).matchExpressions;
  if (Array.isArray(expressions)) {
    for (const e of expressions.map(obj)) {
      out.push({
        scopeName: String(e.scopeName ?? ""),
        operator: String(e.operator ?? ""),
        values: Array.isArray(e.values) ? e.values.map(String) : undefined,
      });
    }
  }
  return out;
}

/** Whether the quota covers the object: it tracks something the evaluator measures, in every scope. */
export function quotaMatches(
  evaluator: QuotaEvaluator,
  hardNames: string[],
  scopes: ScopeSelector[],
  o: KubeObject,
) {
  return evaluator.matchingResources(hardNames).length > 0 &&
    scopes.every((s) => evaluator.matchesScope(s, o));
}
