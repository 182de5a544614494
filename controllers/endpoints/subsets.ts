/**
 * Endpoints subsets in their canonical form, as upstream packs them: every (address, port)
 * pair is regrouped so that addresses offering the same ports share one subset, an address
 * unready on a port stays unready, and everything is sorted so equal content compares equal.
 * Also the truncation of Endpoints over 1000 addresses.
 */

import type { Schema } from "../../openapi/generated/types.ts";

export type Endpoints = Schema<"io.k8s.api.core.v1.Endpoints">;
export type EndpointSubset = Schema<"io.k8s.api.core.v1.EndpointSubset">;
export type EndpointAddress = Schema<"io.k8s.api.core.v1.EndpointAddress">;
export type EndpointPort = Schema<"io.k8s.api.core.v1.EndpointPort">;

/** Most addresses (ready and not) an Endpoints object holds. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";
export const TRUNCATED = "truncated";

const NO_PORT: EndpointPort = { port: -1 };

/** The address as a key: IP and the uid of its target. */
function addressKey(a: EndpointAddress): string {
  return `${a.ip}\u0000${a.targetRef?.uid ?? ""}`;
}

function portKey(p: EndpointPort): string {
  return JSON.stringify([p.name ?? "", p.port, p.protocol ?? "", p.appProtocol ?? ""]);
}

/** Orders addresses by IP, then target uid (no target first). */
export function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid;
  const ub = b.targetRef?.uid;
  if (ua === ub) return 0;
  if (ub === undefined) return 1;
  if (ua === undefined) return -1;
  return ua < ub ? -1 : 1;
}

/** The canonical layout of `subsets` (a new array). */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>();
  // port key → (address key → ready)
  const byPort = new Map<string, { port: EndpointPort; ready: Map<string, boolean> }>();
  const note = (addr: EndpointAddress, port: EndpointPort, ready: boolean) => {
    const ak = addressKey(addr);
    if (!addresses.has(ak)) addresses.set(ak, addr);
    const pk = portKey(port);
    let entry = byPort.get(pk);
    if (!entry) byPort.set(pk, entry = { port, ready: new Map() });
    // Not ready wins over ready.
    if (entry.ready.get(ak) !== false) entry.ready.set(ak, ready);
  };
  for (const s of subsets) {
    // Addresses without ports (a headless Service without ports) are kept under a sentinel.
    const ports = s.ports?.length ? s.ports : [NO_PORT];
    for (const port of ports) {
      for (const a of s.addresses ?? []) note(a, port, true);
      for (const a of s.notReadyAddresses ?? []) note(a, port, false);
    }
  }
  // Group ports by the exact set of (address, ready) they reach.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const key = [...ready].map(([k, r]) => `${k}\u0000${r}`).sort().join("\u0001");
    let g = groups.get(key);
    if (!g) groups.set(key, g = { ready, ports: [] });
    g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const { ready, ports } of groups.values()) {
    const readyAddrs: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [k, r] of ready) (r ? readyAddrs : notReady).push(addresses.get(k)!);
    const subset: EndpointSubset = {};
    if (readyAddrs.length) subset.addresses = readyAddrs.sort(compareAddresses);
    if (notReady.length) subset.notReadyAddresses = notReady.sort(compareAddresses);
    if (ports.length === 1 && ports[0] === NO_PORT) {
      out.push(subset);
      continue;
    }
    subset.ports = ports.sort((a, b) => portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0);
    out.push(subset);
  }
  return sortSubsets(out);
}

/** Sorts subsets by their content, so equal sets of subsets come out equal. */
function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const keyed = subsets.map((s) => ({ s, k: JSON.stringify(s) }));
  keyed.sort((a, b) => a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
  return keyed.map((x) => x.s);
}

/** Subsets as compared: empty lists dropped, target resourceVersions ignored. */
export function normalizeSubsets(subsets: EndpointSubset[] | undefined): unknown {
  const addr = (a: EndpointAddress) => {
    const out: Record<string, unknown> = { ip: a.ip };
    if (a.hostname) out.hostname = a.hostname;
    if (a.nodeName) out.nodeName = a.nodeName;
    if (a.targetRef) {
      const { resourceVersion: _rv, ...ref } = a.targetRef;
      out.targetRef = ref;
    }
    return out;
  };
  return (subsets ?? []).map((s) => ({
    addresses: (s.addresses ?? []).map(addr),
    notReadyAddresses: (s.notReadyAddresses ?? []).map(addr),
    ports: (s.ports ?? []).map((p) => ({
      name: p.name ?? "",
      port: p.port,
      protocol: p.protocol ?? "",
      appProtocol: p.appProtocol ?? "",
    })),
  }));
}

/** Whether the over-capacity annotation is as the subsets ask (absent under capacity). */
export function capacityAnnotationSetCorrectly(
  annotations: Record<string, string> | undefined,
  subsets: EndpointSubset[] | undefined,
): boolean {
  let n = 0;
  for (const s of subsets ?? []) n += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  if (n > MAX_ENDPOINTS_CAPACITY) return false;
  return !(annotations && OVER_CAPACITY_ANNOTATION in annotations);
}

/**
 * Cuts the subsets down to the capacity, ready addresses first, sharing the room among subsets
 * in proportion to their size. Answers whether anything was cut.
 */
export function truncateSubsets(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_ENDPOINTS_CAPACITY) return false;
  const truncateReady = totalReady > MAX_ENDPOINTS_CAPACITY;
  const max = truncateReady ? MAX_ENDPOINTS_CAPACITY : MAX_ENDPOINTS_CAPACITY - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let room = max;
  for (const s of subsets) {
    const inSubset = truncateReady ? s.addresses?.length ?? 0 : s.notReadyAddresses?.length ?? 0;
    const take = Math.min(Math.ceil((inSubset / total) * max), room);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, take);
      s.notReadyAddresses = [];
      room -= s.addresses.length;
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, take);
      room -= s.notReadyAddresses.length;
    }
    if (!s.addresses?.length) delete s.addresses;
    if (!s.notReadyAddresses?.length) delete s.notReadyAddresses;
  }
  return true;
}
