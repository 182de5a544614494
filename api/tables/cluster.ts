/**
 * Printers of storage, networking, discovery, RBAC, certificates, scheduling, node, coordination,
 * admission registration, flow control and API registration kinds.
 *
 * @module
 */

import {
  ageColumn,
  bool,
  int,
  nameColumn,
  namedPrinter,
  num,
  str,
  type TablePrinter,
  tablePrinter,
} from "./columns.ts";
import { humanDuration } from "./duration.ts";
import { arr, formatLabelSelector, listWithMore, type Obj, orNone } from "./format.ts";

const DEFAULT_CLASS_ANNOTATIONS = [
  "storageclass.kubernetes.io/is-default-class",
  "storageclass.beta.kubernetes.io/is-default-class",
];

function storageClassName(o: Obj): string {
  const annotations = o?.metadata?.annotations ?? {};
  const isDefault = DEFAULT_CLASS_ANNOTATIONS.some((a) => annotations[a] === "true");
  const name = o?.metadata?.name ?? "";
  return isDefault ? `${name} (default)` : name;
}

/** NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE; the default class is marked. */
export const storageClassPrinter: TablePrinter = tablePrinter([
  { ...nameColumn, cell: storageClassName },
  str("Provisioner", (o) => o?.provisioner ?? ""),
  str("ReclaimPolicy", (o) => o?.reclaimPolicy ?? "Delete"),
  str("VolumeBindingMode", (o) => o?.volumeBindingMode ?? "Immediate"),
  str("AllowVolumeExpansion", (o) => o?.allowVolumeExpansion === true),
  ageColumn,
]);

/** NAME DRIVERNAME AGE. */
export const volumeAttributesClassPrinter: TablePrinter = namedPrinter(
  str("DriverName", (o) => o?.driverName ?? ""),
  ageColumn,
);

const boolOr = (v: unknown, fallback: boolean) => (typeof v === "boolean" ? v : fallback);

/** NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE. */
export const csiDriverPrinter: TablePrinter = namedPrinter(
  bool("AttachRequired", (o) => boolOr(o?.spec?.attachRequired, true)),
  bool("PodInfoOnMount", (o) => boolOr(o?.spec?.podInfoOnMount, false)),
  bool("StorageCapacity", (o) => boolOr(o?.spec?.storageCapacity, false)),
  str(
    "TokenRequests",
    (o) =>
      Array.isArray(o?.spec?.tokenRequests)
        ? o.spec.tokenRequests.map((t: Obj) => t?.audience ?? "").join(",")
        : "<unset>",
  ),
  bool("RequiresRepublish", (o) => boolOr(o?.spec?.requiresRepublish, false)),
  str("Modes", (o) => arr(o?.spec?.volumeLifecycleModes).join(",") || "<none>"),
  ageColumn,
);

/** NAME DRIVERS AGE. */
export const csiNodePrinter: TablePrinter = namedPrinter(
  int("Drivers", (o) => arr(o?.spec?.drivers).length),
  ageColumn,
);

/** NAME STORAGECLASSNAME CAPACITY. */
export const csiStorageCapacityPrinter: TablePrinter = namedPrinter(
  str("StorageClassName", (o) => o?.storageClassName ?? ""),
  str(
    "Capacity",
    (o) => (o?.capacity === undefined || o?.capacity === null ? "<unset>" : String(o.capacity)),
  ),
);

/** NAME ATTACHER PV NODE ATTACHED AGE. */
export const volumeAttachmentPrinter: TablePrinter = namedPrinter(
  str("Attacher", (o) => o?.spec?.attacher ?? ""),
  str("PV", (o) => o?.spec?.source?.persistentVolumeName ?? ""),
  str("Node", (o) => o?.spec?.nodeName ?? ""),
  bool("Attached", (o) => o?.status?.attached === true),
  ageColumn,
);

function ingressHosts(o: Obj): string {
  const rules = arr(o?.spec?.rules);
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    if (!more && rule?.host) hosts.push(String(rule.host));
  }
  if (hosts.length === 0) return "*";
  return more ? `${hosts.join(",")} + ${rules.length - 3} more...` : hosts.join(",");
}

/** NAME CLASS HOSTS ADDRESS PORTS AGE. */
export const ingressPrinter: TablePrinter = namedPrinter(
  str("Class", (o) => o?.spec?.ingressClassName ?? "<none>"),
  str("Hosts", ingressHosts),
  str(
    "Address",
    (o) => arr(o?.status?.loadBalancer?.ingress).map((i) => i?.ip || i?.hostname).filter(Boolean).join(","),
  ),
  str("Ports", (o) => (arr(o?.spec?.tls).length ? "80, 443" : "80")),
  ageColumn,
);

function ingressClassParameters(o: Obj): string {
  const p = o?.spec?.parameters;
  if (!p) return "<none>";
  return `${p.kind ?? ""}${p.apiGroup ? `.${p.apiGroup}` : ""}/${p.name ?? ""}`;
}

/** NAME CONTROLLER PARAMETERS AGE. */
export const ingressClassPrinter: TablePrinter = namedPrinter(
  str("Controller", (o) => o?.spec?.controller ?? ""),
  str("Parameters", ingressClassParameters),
  ageColumn,
);

/** NAME POD-SELECTOR AGE. */
export const networkPolicyPrinter: TablePrinter = namedPrinter(
  str("Pod-Selector", (o) => formatLabelSelector(o?.spec?.podSelector)),
  ageColumn,
);

function ipAddressParent(o: Obj): string {
  const ref = o?.spec?.parentRef;
  if (!ref) return "<none>";
  const resource = ref.group ? `${ref.resource}.${ref.group}` : String(ref.resource ?? "");
  return `${resource.toLowerCase()}${ref.namespace ? `/${ref.namespace}` : ""}/${ref.name ?? ""}`;
}

/** NAME PARENTREF. */
export const ipAddressPrinter: TablePrinter = namedPrinter(str("ParentRef", ipAddressParent));

/** NAME CIDRS AGE. */
export const serviceCIDRPrinter: TablePrinter = namedPrinter(
  str("CIDRs", (o) => arr(o?.spec?.cidrs).join(",")),
  ageColumn,
);

function discoveryPorts(o: Obj): string {
  const ports = arr(o?.ports).map((
    p,
  ) => (p?.port !== undefined && p?.port !== null ? String(p.port) : p?.name ?? "*"));
  return listWithMore(ports, { max: 3 }) || "<unset>";
}

function discoveryEndpoints(o: Obj): string {
  const addresses = arr(o?.endpoints).flatMap((e) => arr(e?.addresses).map(String));
  return listWithMore(addresses, { max: 3 }) || "<unset>";
}

/** NAME ADDRESSTYPE PORTS ENDPOINTS AGE. */
export const endpointSlicePrinter: TablePrinter = namedPrinter(
  str("AddressType", (o) => o?.addressType ?? ""),
  str("Ports", discoveryPorts),
  str("Endpoints", discoveryEndpoints),
  ageColumn,
);

/** The subjects of a binding by kind: users, groups and service accounts (`namespace/name`). */
export function bindingSubjects(o: Obj): { users: string; groups: string; serviceAccounts: string } {
  const names = (kind: string) =>
    arr(o?.subjects)
      .filter((s) => s?.kind === kind)
      .map((
        s,
      ) => (kind === "ServiceAccount" && s.namespace ? `${s.namespace}/${s.name}` : String(s.name ?? "")))
      .join(", ");
  return { users: names("User"), groups: names("Group"), serviceAccounts: names("ServiceAccount") };
}

/** NAME ROLE AGE | USERS GROUPS SERVICEACCOUNTS. */
export const roleBindingPrinter: TablePrinter = namedPrinter(
  str("Role", (o) => `${o?.roleRef?.kind ?? ""}/${o?.roleRef?.name ?? ""}`),
  ageColumn,
  str("Users", (o) => bindingSubjects(o).users, { wide: true }),
  str("Groups", (o) => bindingSubjects(o).groups, { wide: true }),
  str("ServiceAccounts", (o) => bindingSubjects(o).serviceAccounts, { wide: true }),
);

/** A CSR's CONDITION: Approved, Denied or Pending, then `,Failed` and `,Issued` when so. */
export function csrCondition(o: Obj): string {
  const types = new Set(arr(o?.status?.conditions).map((c) => c?.type));
  let text = types.has("Denied") ? "Denied" : types.has("Approved") ? "Approved" : "Pending";
  if (types.has("Failed")) text += ",Failed";
  if (o?.status?.certificate) text += ",Issued";
  return text;
}

/** NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION. */
export const certificateSigningRequestPrinter: TablePrinter = namedPrinter(
  ageColumn,
  str("SignerName", (o) => orNone(o?.spec?.signerName)),
  str("Requestor", (o) => o?.spec?.username ?? ""),
  str(
    "RequestedDuration",
    (o) =>
      typeof o?.spec?.expirationSeconds === "number"
        ? humanDuration(o.spec.expirationSeconds * 1000)
        : "<none>",
  ),
  str("Condition", csrCondition),
);

/** NAME SIGNERNAME. */
export const clusterTrustBundlePrinter: TablePrinter = namedPrinter(
  str("SignerName", (o) => orNone(o?.spec?.signerName)),
);

/** NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY. */
export const priorityClassPrinter: TablePrinter = namedPrinter(
  int("Value", (o) => num(o?.value)),
  bool("Global-Default", (o) => o?.globalDefault === true),
  ageColumn,
  str("PreemptionPolicy", (o) => o?.preemptionPolicy ?? "PreemptLowerPriority"),
);

/** NAME HANDLER AGE. */
export const runtimeClassPrinter: TablePrinter = namedPrinter(
  str("Handler", (o) => o?.handler ?? ""),
  ageColumn,
);

/** NAME HOLDER AGE. */
export const leasePrinter: TablePrinter = namedPrinter(
  str("Holder", (o) => o?.spec?.holderIdentity ?? ""),
  ageColumn,
);

/** NAME WEBHOOKS AGE. */
export const webhookConfigurationPrinter: TablePrinter = namedPrinter(
  int("Webhooks", (o) => arr(o?.webhooks).length),
  ageColumn,
);

/** NAME VALIDATIONS PARAMKIND AGE. */
export const validatingAdmissionPolicyPrinter: TablePrinter = namedPrinter(
  int("Validations", (o) => arr(o?.spec?.validations).length),
  str(
    "ParamKind",
    (o) =>
      o?.spec?.paramKind ? `${o.spec.paramKind.apiVersion ?? ""}/${o.spec.paramKind.kind ?? ""}` : "<unset>",
  ),
  ageColumn,
);

function paramRef(o: Obj): string {
  const ref = o?.spec?.paramRef;
  if (!ref) return "<unset>";
  if (ref.name) return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
  if (ref.selector) return formatLabelSelector(ref.selector);
  return "<unset>";
}

/** NAME POLICYNAME PARAMREF AGE. */
export const validatingAdmissionPolicyBindingPrinter: TablePrinter = namedPrinter(
  str("PolicyName", (o) => o?.spec?.policyName ?? ""),
  str("ParamRef", paramRef),
  ageColumn,
);

function flowSchemaMissingPL(o: Obj): string {
  const dangling = arr(o?.status?.conditions).find((c) => c?.type === "Dangling");
  return dangling ? String(dangling.status ?? "") : "?";
}

/** NAME PRIORITYLEVEL MATCHINGPRECEDENCE DISTINGUISHERMETHOD AGE MISSINGPL. */
export const flowSchemaPrinter: TablePrinter = namedPrinter(
  str("PriorityLevel", (o) => o?.spec?.priorityLevelConfiguration?.name ?? ""),
  int("MatchingPrecedence", (o) => num(o?.spec?.matchingPrecedence)),
  str("DistinguisherMethod", (o) => o?.spec?.distinguisherMethod?.type ?? "<none>"),
  ageColumn,
  str("MissingPL", flowSchemaMissingPL),
);

const limited = (field: string) => (o: Obj) => {
  const l = o?.spec?.limited;
  if (!l) return "<none>";
  if (field === "nominalConcurrencyShares") return l.nominalConcurrencyShares ?? "<none>";
  const queuing = l.limitResponse?.queuing;
  return queuing ? (queuing[field] ?? "<none>") : "<none>";
};

/** NAME TYPE NOMINALCONCURRENCYSHARES QUEUES HANDSIZE QUEUELENGTHLIMIT AGE. */
export const priorityLevelConfigurationPrinter: TablePrinter = namedPrinter(
  str("Type", (o) => o?.spec?.type ?? ""),
  str("NominalConcurrencyShares", limited("nominalConcurrencyShares")),
  str("Queues", limited("queues")),
  str("HandSize", limited("handSize")),
  str("QueueLengthLimit", limited("queueLengthLimit")),
  ageColumn,
);

function apiServiceAvailable(o: Obj): string {
  const available = arr(o?.status?.conditions).find((c) => c?.type === "Available");
  if (!available) return "Unknown";
  if (available.status !== "True" && available.reason) return `${available.status} (${available.reason})`;
  return String(available.status ?? "");
}

/** NAME SERVICE AVAILABLE AGE. */
export const apiServicePrinter: TablePrinter = namedPrinter(
  str(
    "Service",
    (o) => (o?.spec?.service ? `${o.spec.service.namespace ?? ""}/${o.spec.service.name ?? ""}` : "Local"),
  ),
  str("Available", apiServiceAvailable),
  ageColumn,
);
