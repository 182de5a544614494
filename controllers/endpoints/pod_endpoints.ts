/**
 * What the Endpoints and EndpointSlice controllers both ask of pods and Services, as upstream's
 * endpointslice utilities answer it: does a pod belong in a Service's endpoints, which address
 * and port it offers, which Services a pod change touches, and the
 * `endpoints.kubernetes.io/last-change-trigger-time` a sync reports.
 */

import type { Pod, Service } from "../types.ts";
import type { Schema } from "../../openapi/generated/types.ts";

export type ServicePort = Schema<"io.k8s.api.core.v1.ServicePort">;

export const LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";
export const HEADLESS_SERVICE_LABEL = "service.kubernetes.io/headless";

/** A Service's selector, or undefined when it has none (then it selects nothing, not everything). */
export function serviceSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return undefined;
  return sel;
}

/** A selector as a set of required label values matches `labels`. */
export function selectorMatches(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** Not terminal, has an IP, and (unless terminating pods are wanted) is not being deleted. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** The pod names itself after the Service (`spec.hostname` with `spec.subdomain` = the Service). */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec?.subdomain === svc.metadata?.name &&
    svc.metadata?.namespace === pod.metadata?.namespace;
}

function isIPv6(ip: string): boolean {
  return ip.includes(":");
}

/** The pod's IPs; `status.podIP` alone when `podIPs` is missing. */
export function podIPs(pod: Pod): string[] {
  const list = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (list.length === 0 && pod.status?.podIP) list.push(pod.status.podIP);
  return list;
}

/** The IP family a Service's endpoints use: its first family, else its cluster IP's, else the pod's. */
export function serviceIPFamily(svc: Service, pod?: Pod): "IPv4" | "IPv6" {
  const families = svc.spec?.ipFamilies;
  if (families?.length) return families[0] === "IPv6" ? "IPv6" : "IPv4";
  const clusterIP = svc.spec?.clusterIP;
  if (clusterIP && clusterIP !== "None") return isIPv6(clusterIP) ? "IPv6" : "IPv4";
  return pod?.status?.podIP && isIPv6(pod.status.podIP) ? "IPv6" : "IPv4";
}

/** The pod's IP of the Service's family, or undefined. */
export function podIPForService(svc: Service, pod: Pod): string | undefined {
  const v6 = serviceIPFamily(svc, pod) === "IPv6";
  return podIPs(pod).find((ip) => isIPv6(ip) === v6);
}

/**
 * The container port a Service port reaches on a pod: a numeric targetPort as it is; a named
 * one from the containers' (and restartable init containers') ports of the same protocol.
 */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? "TCP";
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always"),
  ];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** No cluster IP (headless, or not yet allocated). */
export function isHeadless(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !ip || ip === "None";
}

/**
 * How a pod update matters: `podChanged` when its endpoint may differ (deletion, readiness,
 * IPs), `labelsChanged` when the Services it belongs to may differ (labels, hostname, subdomain).
 */
export function podEndpointsChanged(old: Pod, pod: Pod): { podChanged: boolean; labelsChanged: boolean } {
  const labelsChanged = !sameLabels(old.metadata?.labels, pod.metadata?.labels) ||
    old.spec?.hostname !== pod.spec?.hostname || old.spec?.subdomain !== pod.spec?.subdomain;
  const podChanged = old.metadata?.deletionTimestamp !== pod.metadata?.deletionTimestamp ||
    isPodReady(old) !== isPodReady(pod) || podIPs(old).join(",") !== podIPs(pod).join(",");
  return { podChanged, labelsChanged };
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k] === b?.[k]);
}

/** Keys of the Services in `services` whose selector takes `labels`. */
export function servicesForLabels(
  services: Service[],
  labels: Record<string, string> | undefined,
): Set<string> {
  const out = new Set<string>();
  for (const svc of services) {
    const sel = serviceSelector(svc);
    if (sel && selectorMatches(sel, labels)) out.add(`${svc.metadata?.namespace}/${svc.metadata?.name}`);
  }
  return out;
}

/**
 * The Services to sync after a pod changed: none for a no-op update; those of its labels when
 * only the pod changed; when labels changed, the union (pod also changed) or the symmetric
 * difference (only labels changed) of the old and new memberships.
 */
export function servicesToUpdateOnPodChange(services: Service[], old: Pod, pod: Pod): Set<string> {
  if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return new Set();
  const { podChanged, labelsChanged } = podEndpointsChanged(old, pod);
  if (!podChanged && !labelsChanged) return new Set();
  const now = servicesForLabels(services, pod.metadata?.labels);
  if (!labelsChanged) return now;
  const before = servicesForLabels(services, old.metadata?.labels);
  if (podChanged) return new Set([...now, ...before]);
  const out = new Set<string>();
  for (const k of now) if (!before.has(k)) out.add(k);
  for (const k of before) if (!now.has(k)) out.add(k);
  return out;
}

/**
 * Computes the trigger time of an Endpoints (or EndpointSlice) change: for a Service first seen,
 * its creation time; after that, the earliest Ready transition of a pod (or Service creation)
 * that moved since the last sync; none when nothing moved.
 */
export class TriggerTimeTracker {
  readonly #states = new Map<string, { pods: Map<string, number>; service: number }>();

  compute(svc: Service, pods: Pod[]): number | undefined {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const state = this.#states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (t === undefined) continue;
      const name = pod.metadata?.name ?? "";
      podTimes.set(name, t);
      if (t > (state?.pods.get(name) ?? -Infinity)) min = min === undefined ? t : Math.min(min, t);
    }
    const created = parseTime(svc.metadata?.creationTimestamp);
    const serviceTime = created ?? 0;
    if (created !== undefined && created > (state?.service ?? -Infinity)) {
      min = min === undefined ? created : Math.min(min, created);
    }
    this.#states.set(key, { pods: podTimes, service: serviceTime });
    if (!state) return created;
    return min;
  }

  delete(namespace: string, name: string): void {
    this.#states.delete(`${namespace}/${name}`);
  }
}

function parseTime(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function podTriggerTime(pod: Pod): number | undefined {
  return parseTime(pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime);
}

/** Go's RFC3339Nano in UTC: fractional seconds only when non-zero, trailing zeros dropped. */
export function formatTriggerTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_, f: string) => f ? `.${f}Z` : "Z");
}
