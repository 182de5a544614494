/**
 * The LimitRanger admission plugin, as upstream's: the namespace's LimitRanges give containers of
 * new pods their default limits and requests (recorded in the `kubernetes.io/limit-ranger`
 * annotation), then bound what pods (per container and per pod) and claims (per claim) may ask
 * for — min, max and the largest limit-to-request ratio — refusing with 403 in upstream's words:
 * `pods "x" is forbidden: maximum cpu usage per Container is 500m, but limit is 1`.
 * Pods are checked on create only (their resources cannot change), claims on create and update.
 */

import { forbidden } from "../../machinery/status.ts";
import { type KubeObject, metaOf } from "../../machinery/object_meta.ts";
import {
  formatQuantity,
  parseResourceList,
  quantityMilliValue,
  quantityValue,
  type ResourceList,
  type ResourceQuantity,
} from "../../machinery/resource_quantity.ts";
import type { AdmissionPlugin, AdmissionRequest } from "./mod.ts";
import type { NamespaceCache } from "./namespace_cache.ts";
import { containerResources, podContainers, podResourceTotals } from "./pod_resources.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

/** The annotation naming what the plugin filled in. */
export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";

/** Upstream's largest value that still has an exact milli-value (int64 max / 1000). */
const MAX_MILLI_VALUE = 9_223_372_036_854_775n;

function limitItems(limitRange: KubeObject): Json[] {
  const limits = obj(limitRange.spec).limits;
  return Array.isArray(limits) ? limits.map(obj) : [];
}

/** The Container defaults of one LimitRange: later items win for the same resource. */
function containerDefaults(limitRange: KubeObject): { requests: Json; limits: Json } {
  const requests: Json = {};
  const limits: Json = {};
  for (const item of limitItems(limitRange)) {
    if (item.type !== "Container") continue;
    Object.assign(requests, obj(item.defaultRequest));
    Object.assign(limits, obj(item.default));
  }
  return { requests, limits };
}

/** Fills a container's missing requests and limits; returns the annotation phrases. */
function mergeContainerDefaults(
  container: Json,
  defaults: { requests: Json; limits: Json },
  label: string,
): string[] {
  const resources = obj(container.resources);
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  const fill = (which: "requests" | "limits", from: Json, names: string[]) => {
    const entries = Object.entries(from);
    if (entries.length === 0) return;
    const current = obj(resources[which]);
    let changed = false;
    for (const [name, value] of entries) {
      if (name in current) continue;
      current[name] = value;
      names.push(name);
      changed = true;
    }
    if (changed) resources[which] = current;
  };
  fill("limits", defaults.limits, setLimits);
  fill("requests", defaults.requests, setRequests);
  if (setLimits.length || setRequests.length) container.resources = resources;
  const name = String(container.name ?? "");
  const phrases: string[] = [];
  if (setRequests.length) phrases.push(`${setRequests.sort().join(", ")} request for ${label} ${name}`);
  if (setLimits.length) phrases.push(`${setLimits.sort().join(", ")} limit for ${label} ${name}`);
  return phrases;
}

/** Upstream's PodMutateLimitFunc for one LimitRange. */
export function applyLimitRangeDefaults(limitRange: KubeObject, pod: KubeObject): void {
  const defaults = containerDefaults(limitRange);
  if (!Object.keys(defaults.requests).length && !Object.keys(defaults.limits).length) return;
  const { containers, initContainers } = podContainers(pod);
  const phrases = [
    ...containers.flatMap((c) => mergeContainerDefaults(c, defaults, "container")),
    ...initContainers.flatMap((c) => mergeContainerDefaults(c, defaults, "init container")),
  ];
  if (phrases.length === 0) return;
  const meta = metaOf(pod);
  meta.annotations = {
    ...meta.annotations,
    [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${phrases.join("; ")}`,
  };
}

/** Request, limit and bound at one precision (thousandths where nothing overflows), as upstream compares. */
function comparable(
  request: ResourceQuantity | undefined,
  limit: ResourceQuantity | undefined,
  enforced: ResourceQuantity,
): [bigint, bigint, bigint] {
  const r = request ? quantityValue(request) : 0n;
  const l = limit ? quantityValue(limit) : 0n;
  const e = quantityValue(enforced);
  if (r <= MAX_MILLI_VALUE && l <= MAX_MILLI_VALUE && e <= MAX_MILLI_VALUE) {
    return [
      request ? quantityMilliValue(request) : 0n,
      limit ? quantityMilliValue(limit) : 0n,
      quantityMilliValue(enforced),
    ];
  }
  return [r, l, e];
}

function minConstraint(
  type: string,
  name: string,
  enforced: ResourceQuantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l, e] = comparable(req, lim, enforced);
  const bound = formatQuantity(enforced);
  if (!req) return `minimum ${name} usage per ${type} is ${bound}.  No request is specified`;
  if (r < e) return `minimum ${name} usage per ${type} is ${bound}, but request is ${formatQuantity(req)}`;
  if (lim && l < e) {
    return `minimum ${name} usage per ${type} is ${bound}, but limit is ${formatQuantity(lim)}`;
  }
  return undefined;
}

function maxConstraint(
  type: string,
  name: string,
  enforced: ResourceQuantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l, e] = comparable(req, lim, enforced);
  const bound = formatQuantity(enforced);
  if (!lim) return `maximum ${name} usage per ${type} is ${bound}.  No limit is specified`;
  if (l > e) return `maximum ${name} usage per ${type} is ${bound}, but limit is ${formatQuantity(lim)}`;
  if (req && r > e) {
    return `maximum ${name} usage per ${type} is ${bound}, but request is ${formatQuantity(req)}`;
  }
  return undefined;
}

/** The max bound on what is requested only (claims have no limits). */
function maxRequestConstraint(
  type: string,
  name: string,
  enforced: ResourceQuantity,
  requests: ResourceList,
): string | undefined {
  const req = requests.get(name);
  const [r, , e] = comparable(req, undefined, enforced);
  const bound = formatQuantity(enforced);
  if (!req) return `maximum ${name} usage per ${type} is ${bound}.  No request is specified`;
  if (r > e) return `maximum ${name} usage per ${type} is ${bound}, but request is ${formatQuantity(req)}`;
  return undefined;
}

function limitRequestRatioConstraint(
  type: string,
  name: string,
  enforced: ResourceQuantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = requests.get(name);
  const lim = limits.get(name);
  const [r, l] = comparable(req, lim, enforced);
  const bound = formatQuantity(enforced);
  if (!req || r === 0n) {
    return `${name} max limit to request ratio per ${type} is ${bound}, but no request is specified or request is 0`;
  }
  if (!lim || l === 0n) {
    return `${name} max limit to request ratio per ${type} is ${bound}, but no limit is specified or limit is 0`;
  }
  const observed = Number(l) / Number(r);
  let scaled = observed;
  let max = Number(quantityValue(enforced));
  if (quantityValue(enforced) <= MAX_MILLI_VALUE) {
    scaled = observed * 1000;
    max = Number(quantityMilliValue(enforced));
  }
  if (scaled > max) {
    return `${name} max limit to request ratio per ${type} is ${bound}, but provided ratio is ${
      observed.toFixed(6)
    }`;
  }
  return undefined;
}

/** The bounds of one LimitRange item checked against a requests/limits pair. */
function checkBounds(item: Json, requests: ResourceList, limits: ResourceList, out: string[]): void {
  const type = String(item.type);
  const each = (key: string, check: (name: string, q: ResourceQuantity) => string | undefined) => {
    const bounds = parseResourceList(item[key]);
    for (const name of [...bounds.keys()].sort()) {
      const problem = check(name, bounds.get(name)!);
      if (problem) out.push(problem);
    }
  };
  each("min", (name, q) => minConstraint(type, name, q, requests, limits));
  each("max", (name, q) => maxConstraint(type, name, q, requests, limits));
  each("maxLimitRequestRatio", (name, q) => limitRequestRatioConstraint(type, name, q, requests, limits));
}

/** Upstream's PodValidateLimitFunc for one LimitRange: the problems found. */
export function podLimitProblems(limitRange: KubeObject, pod: KubeObject): string[] {
  const problems: string[] = [];
  for (const item of limitItems(limitRange)) {
    if (item.type === "Container") {
      const { containers, initContainers } = podContainers(pod);
      for (const c of [...containers, ...initContainers]) {
        checkBounds(item, containerResources(c, "requests"), containerResources(c, "limits"), problems);
      }
    } else if (item.type === "Pod") {
      checkBounds(item, podResourceTotals(pod, "requests"), podResourceTotals(pod, "limits"), problems);
    }
  }
  return problems;
}

/** Upstream's PersistentVolumeClaimValidateLimitFunc for one LimitRange. */
export function claimLimitProblems(limitRange: KubeObject, claim: KubeObject): string[] {
  const problems: string[] = [];
  const requests = parseResourceList(obj(obj(obj(claim.spec).resources).requests));
  for (const item of limitItems(limitRange)) {
    if (item.type !== "PersistentVolumeClaim") continue;
    const type = String(item.type);
    const min = parseResourceList(item.min);
    for (const name of [...min.keys()].sort()) {
      const problem = minConstraint(type, name, min.get(name)!, requests, new Map());
      if (problem) problems.push(problem);
    }
    const max = parseResourceList(item.max);
    for (const name of [...max.keys()].sort()) {
      const problem = maxRequestConstraint(type, name, max.get(name)!, requests);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/** Joins problems as upstream's error aggregate prints them: duplicates once, several in brackets. */
export function aggregateMessage(problems: string[]): string {
  const unique = [...new Set(problems)];
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
}

function isPodCreate(req: AdmissionRequest): boolean {
  return req.operation === "CREATE" && req.info.group === "" && req.info.resource === "pods";
}

function isClaimWrite(req: AdmissionRequest): boolean {
  return req.info.group === "" && req.info.resource === "persistentvolumeclaims";
}

/** The LimitRanger plugin over the namespace's LimitRanges. */
export function limitRanger(limitRanges: NamespaceCache): AdmissionPlugin {
  /** Runs `fn` on the namespace's ranges, without awaiting when they are cached. */
  const withRanges = (namespace: string, fn: (ranges: KubeObject[]) => void): void | Promise<void> => {
    const ranges = limitRanges.get(namespace);
    if (Array.isArray(ranges)) {
      if (ranges.length) fn(ranges);
      return;
    }
    return ranges.then((loaded) => {
      if (loaded.length) fn(loaded);
    });
  };
  return {
    name: "LimitRanger",
    admit(req) {
      if (req.subresource || !req.namespace || !isPodCreate(req)) return;
      return withRanges(req.namespace, (ranges) => {
        for (const range of ranges) applyLimitRangeDefaults(range, req.object);
      });
    },
    validate(req) {
      if (req.subresource || !req.namespace) return;
      const pod = isPodCreate(req);
      if (!pod && !isClaimWrite(req)) return;
      if (req.oldObject && metaOf(req.oldObject).deletionTimestamp) return;
      return withRanges(req.namespace, (ranges) => {
        for (const range of ranges) {
          const problems = pod ? podLimitProblems(range, req.object) : claimLimitProblems(range, req.object);
          if (problems.length) {
            throw forbidden(
              { group: req.info.group, resource: req.info.resource },
              req.name,
              aggregateMessage(problems),
            );
          }
        }
      });
    },
  };
}
