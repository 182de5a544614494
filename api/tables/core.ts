/**
 * Printers of core/v1 kinds (other than pods and events).
 *
 * @module
 */

import { ageColumn, int, namedPrinter, num, str, type TablePrinter } from "./columns.ts";
import { rfc3339 } from "./duration.ts";
import {
  accessModes,
  arr,
  containerCells,
  formatLabels,
  listWithMore,
  type Obj,
  orNone,
  quantity,
} from "./format.ts";

const createdAt = {
  name: "Created At",
  type: "date",
  cell: (o: Obj) => rfc3339(o?.metadata?.creationTimestamp),
};

/** NAME CONTAINERS IMAGES POD LABELS. */
export const podTemplatePrinter: TablePrinter = namedPrinter(
  str("Containers", (o) => containerCells(o?.template?.spec?.containers)[0]),
  str("Images", (o) => containerCells(o?.template?.spec?.containers)[1]),
  str("Pod Labels", (o) => formatLabels(o?.template?.metadata?.labels)),
);

/** NAME DESIRED CURRENT READY AGE | CONTAINERS IMAGES SELECTOR. */
export const replicationControllerPrinter: TablePrinter = namedPrinter(
  int("Desired", (o) => num(o?.spec?.replicas ?? 1)),
  int("Current", (o) => num(o?.status?.replicas)),
  int("Ready", (o) => num(o?.status?.readyReplicas)),
  ageColumn,
  str("Containers", (o) => containerCells(o?.spec?.template?.spec?.containers)[0], { wide: true }),
  str("Images", (o) => containerCells(o?.spec?.template?.spec?.containers)[1], { wide: true }),
  str("Selector", (o) => formatLabels(o?.spec?.selector), { wide: true }),
);

/** A service's ports: `80/TCP`, or `80:30080/TCP` with a node port, joined by commas. */
export function servicePorts(svc: Obj): string {
  const pieces = arr(svc?.spec?.ports).map((p) => {
    const protocol = p?.protocol ?? "TCP";
    return num(p?.nodePort) > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p?.port}/${protocol}`;
  });
  return pieces.length ? pieces.join(",") : "<none>";
}

function loadBalancerAddresses(status: Obj): string[] {
  return arr(status?.loadBalancer?.ingress).map((i) => i?.ip || i?.hostname).filter(Boolean);
}

/** A service's EXTERNAL-IP by its type. */
export function serviceExternalIP(svc: Obj): string {
  const external = arr(svc?.spec?.externalIPs).map(String);
  switch (svc?.spec?.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return external.length ? external.join(",") : "<none>";
    case "LoadBalancer": {
      const all = [...loadBalancerAddresses(svc?.status), ...external];
      return all.length ? all.join(",") : "<pending>";
    }
    case "ExternalName":
      return svc?.spec?.externalName ?? "";
    default:
      return "<unknown>";
  }
}

function clusterIP(svc: Obj): string {
  return orNone(arr(svc?.spec?.clusterIPs)[0] ?? svc?.spec?.clusterIP);
}

/** NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE | SELECTOR. */
export const servicePrinter: TablePrinter = namedPrinter(
  str("Type", (o) => o?.spec?.type ?? "ClusterIP"),
  str("Cluster-IP", clusterIP),
  str("External-IP", serviceExternalIP),
  str("Port(s)", servicePorts),
  ageColumn,
  str("Selector", (o) => formatLabels(o?.spec?.selector), { wide: true }),
);

function hostPort(ip: string, port: unknown): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** An Endpoints object's addresses (`ip:port`), the first three then `+ N more...`. */
export function endpointsList(ep: Obj): string {
  const subsets = arr(ep?.subsets);
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = arr(subset?.addresses).map((a) => String(a?.ip ?? ""));
    const ports = arr(subset?.ports);
    if (ports.length === 0) {
      count += addresses.length;
      list.push(...addresses);
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      list.push(...addresses.map((ip) => hostPort(ip, p?.port)));
    }
  }
  return listWithMore(list, { max: 3, total: count });
}

/** NAME ENDPOINTS AGE. */
export const endpointsPrinter: TablePrinter = namedPrinter(str("Endpoints", endpointsList), ageColumn);

/** A node's STATUS: Ready, NotReady or Unknown, then SchedulingDisabled when cordoned. */
export function nodeStatus(node: Obj): string {
  const ready = arr(node?.status?.conditions).findLast((c) => c?.type === "Ready");
  const parts = [ready ? (ready.status === "True" ? "Ready" : "NotReady") : "Unknown"];
  if (node?.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

const ROLE_PREFIX = "node-role.kubernetes.io/";

/** A node's ROLES from its `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels, sorted. */
export function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node?.metadata?.labels ?? {})) {
    if (key.startsWith(ROLE_PREFIX)) {
      const role = key.slice(ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (key === "kubernetes.io/role" && value) {
      roles.add(String(value));
    }
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
}

const nodeAddress = (type: string) => (node: Obj) =>
  orNone(arr(node?.status?.addresses).find((a) => a?.type === type)?.address);
const nodeInfo = (field: string) => (node: Obj) => node?.status?.nodeInfo?.[field] || "<unknown>";

/** NAME STATUS ROLES AGE VERSION | INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME. */
export const nodePrinter: TablePrinter = namedPrinter(
  str("Status", nodeStatus),
  str("Roles", nodeRoles),
  ageColumn,
  str("Version", (o) => o?.status?.nodeInfo?.kubeletVersion ?? ""),
  str("Internal-IP", nodeAddress("InternalIP"), { wide: true }),
  str("External-IP", nodeAddress("ExternalIP"), { wide: true }),
  str("OS-Image", nodeInfo("osImage"), { wide: true }),
  str("Kernel-Version", nodeInfo("kernelVersion"), { wide: true }),
  str("Container-Runtime", nodeInfo("containerRuntimeVersion"), { wide: true }),
);

/** NAME STATUS AGE. */
export const namespacePrinter: TablePrinter = namedPrinter(
  str("Status", (o) => o?.status?.phase ?? ""),
  ageColumn,
);

const keyCount = (...maps: unknown[]) =>
  new Set(maps.flatMap((m) => (m && typeof m === "object" ? Object.keys(m) : []))).size;

/** NAME DATA AGE. */
export const configMapPrinter: TablePrinter = namedPrinter(
  int("Data", (o) => keyCount(o?.data) + keyCount(o?.binaryData)),
  ageColumn,
);

/** NAME TYPE DATA AGE. */
export const secretPrinter: TablePrinter = namedPrinter(
  str("Type", (o) => o?.type ?? "Opaque"),
  int("Data", (o) => keyCount(o?.data, o?.stringData)),
  ageColumn,
);

/** NAME SECRETS AGE. */
export const serviceAccountPrinter: TablePrinter = namedPrinter(
  int("Secrets", (o) => arr(o?.secrets).length),
  ageColumn,
);

const BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";

function storageClassOf(o: Obj): string {
  const annotated = o?.metadata?.annotations?.[BETA_STORAGE_CLASS];
  if (typeof annotated === "string") return annotated;
  return o?.spec?.storageClassName ?? "";
}

const terminatingOrPhase = (
  o: Obj,
) => (o?.metadata?.deletionTimestamp ? "Terminating" : o?.status?.phase ?? "");
const unsetOr = (v: unknown) => (typeof v === "string" ? v : "<unset>");

/** NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE | VOLUMEMODE. */
export const persistentVolumePrinter: TablePrinter = namedPrinter(
  str("Capacity", (o) => quantity(o?.spec?.capacity?.storage)),
  str("Access Modes", (o) => accessModes(o?.spec?.accessModes)),
  str("Reclaim Policy", (o) => o?.spec?.persistentVolumeReclaimPolicy ?? ""),
  str("Status", terminatingOrPhase),
  str(
    "Claim",
    (o) => (o?.spec?.claimRef ? `${o.spec.claimRef.namespace ?? ""}/${o.spec.claimRef.name ?? ""}` : ""),
  ),
  str("StorageClass", storageClassOf),
  str("VolumeAttributesClass", (o) => unsetOr(o?.spec?.volumeAttributesClassName)),
  str("Reason", (o) => o?.status?.reason ?? ""),
  ageColumn,
  str("VolumeMode", (o) => unsetOr(o?.spec?.volumeMode), { wide: true }),
);

const bound = (o: Obj) => Boolean(o?.spec?.volumeName);

/** NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE | VOLUMEMODE. */
export const persistentVolumeClaimPrinter: TablePrinter = namedPrinter(
  str("Status", terminatingOrPhase),
  str("Volume", (o) => o?.spec?.volumeName ?? ""),
  str("Capacity", (o) => (bound(o) ? quantity(o?.status?.capacity?.storage) : "")),
  str("Access Modes", (o) => (bound(o) ? accessModes(o?.status?.accessModes) : "")),
  str("StorageClass", storageClassOf),
  str("VolumeAttributesClass", (o) => unsetOr(o?.spec?.volumeAttributesClassName)),
  ageColumn,
  str("VolumeMode", (o) => unsetOr(o?.spec?.volumeMode), { wide: true }),
);

/** A ResourceQuota's `used/hard` pairs, split into the `limits.*` ones and the rest. */
export function quotaUsage(quota: Obj): { request: string; limit: string } {
  const hard = quota?.status?.hard ?? {};
  const used = quota?.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const text = `${name}: ${quantity(used[name])}/${quantity(hard[name])}`;
    const pieces = name.split(".");
    (pieces.length > 1 && pieces[0] === "limits" ? limit : request).push(text);
  }
  return { request: request.join(", "), limit: limit.join(", ") };
}

/** NAME AGE REQUEST LIMIT. */
export const resourceQuotaPrinter: TablePrinter = namedPrinter(
  ageColumn,
  str("Request", (o) => quotaUsage(o).request),
  str("Limit", (o) => quotaUsage(o).limit),
);

/** NAME CREATED AT. */
export const createdAtPrinter: TablePrinter = namedPrinter(createdAt);

function componentHealth(cs: Obj): [string, string, string] {
  const healthy = arr(cs?.conditions).find((c) => c?.type === "Healthy");
  if (!healthy) return ["Unknown", "", ""];
  return [healthy.status === "True" ? "Healthy" : "Unhealthy", healthy.message ?? "", healthy.error ?? ""];
}

/** NAME STATUS MESSAGE ERROR. */
export const componentStatusPrinter: TablePrinter = namedPrinter(
  str("Status", (o) => componentHealth(o)[0]),
  str("Message", (o) => componentHealth(o)[1]),
  str("Error", (o) => componentHealth(o)[2]),
);
