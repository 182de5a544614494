/**
 * EndpointSlice endpoints and ports from pods, as upstream's endpointslice reconciler makes
 * them: conditions ready/serving/terminating, addresses of the slice's family, targetRef,
 * nodeName, zone (the node's `topology.kubernetes.io/zone`) and hostname; and how endpoints
 * are told apart (addresses, hostname, target) and compared beyond that.
 */

import type { Node, Pod, Service } from "../types.ts";
import type { Schema } from "../../openapi/generated/types.ts";
import { findPort, isPodReady, podIPs, shouldSetHostname } from "../endpoints/pod_endpoints.ts";

export type EndpointSlice = Schema<"io.k8s.api.discovery.v1.EndpointSlice">;
export type Endpoint = Schema<"io.k8s.api.discovery.v1.Endpoint">;
export type EndpointPort = Schema<"io.k8s.api.discovery.v1.EndpointPort">;
export type AddressType = "IPv4" | "IPv6";

export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
export const LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
export const LABEL_SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror";
export const LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";

function isIPv6(ip: string): boolean {
  return ip.includes(":");
}

/** The pod's IPs of one family. */
export function endpointAddresses(pod: Pod, addressType: AddressType): string[] {
  return podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === "IPv6"));
}

/** The endpoint a pod offers a Service, for one address family. */
export function podToEndpoint(
  pod: Pod,
  node: Node | undefined,
  svc: Service,
  addressType: AddressType,
): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  // A terminating pod is never "ready", unless the Service publishes not-ready addresses.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: endpointAddresses(pod, addressType),
    conditions: { ready, serving, terminating },
    targetRef: {
      kind: "Pod",
      namespace: pod.metadata?.namespace,
      name: pod.metadata?.name,
      uid: pod.metadata?.uid,
    },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname;
  return ep;
}

/** The slice ports of a Service on one pod (named target ports resolved on the pod). */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0 && svc.spec?.clusterIP === "None") return [];
  const out: EndpointPort[] = [];
  for (const sp of ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? "", port, protocol: sp.protocol ?? "TCP" };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** A key for a set of ports, whatever their order. */
export function portMapKey(ports: EndpointPort[] | undefined): string {
  return (ports ?? [])
    .map((p) => JSON.stringify([p.name ?? "", p.port ?? null, p.protocol ?? "", p.appProtocol ?? ""]))
    .sort()
    .join("|");
}

/** What tells endpoints apart: addresses, hostname, target namespace and name. */
export function endpointKey(ep: Endpoint): string {
  return JSON.stringify([
    [...ep.addresses].sort(),
    ep.hostname ?? "",
    ep.targetRef?.namespace ?? "",
    ep.targetRef?.name ?? "",
  ]);
}

/** Equal beyond the key: node, zone, conditions and target (resourceVersion ignored). */
export function endpointsEqualBeyondKey(a: Endpoint, b: Endpoint): boolean {
  if ((a.nodeName ?? null) !== (b.nodeName ?? null)) return false;
  if ((a.zone ?? null) !== (b.zone ?? null)) return false;
  const ca = a.conditions ?? {};
  const cb = b.conditions ?? {};
  if ((ca.ready ?? null) !== (cb.ready ?? null)) return false;
  if ((ca.serving ?? null) !== (cb.serving ?? null)) return false;
  if ((ca.terminating ?? null) !== (cb.terminating ?? null)) return false;
  const ta = a.targetRef;
  const tb = b.targetRef;
  if (!ta || !tb) return !ta && !tb;
  return ta.kind === tb.kind && ta.namespace === tb.namespace && ta.name === tb.name && ta.uid === tb.uid &&
    (ta.apiVersion ?? "") === (tb.apiVersion ?? "") && (ta.fieldPath ?? "") === (tb.fieldPath ?? "");
}

/** The address families a Service's slices use: its families, else its cluster IP's, else both. */
export function addressTypesForService(svc: Service): Set<AddressType> {
  const out = new Set<AddressType>();
  for (const f of svc.spec?.ipFamilies ?? []) {
    if (f === "IPv4") out.add("IPv4");
    if (f === "IPv6") out.add("IPv6");
  }
  if (out.size) return out;
  const ip = svc.spec?.clusterIP;
  if (ip && ip !== "None") return new Set([isIPv6(ip) ? "IPv6" : "IPv4"]);
  return new Set(["IPv4", "IPv6"]);
}
