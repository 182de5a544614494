/**
 * Table columns and cells per kind, as kube-apiserver prints them for `kubectl get`.
 * Columns with priority 1 are the `-o wide` ones.
 */

import { age } from "./duration.ts";

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

// deno-lint-ignore no-explicit-any
type Obj = any;

export interface TablePrinter {
  columns: TableColumnDefinition[];
  row(obj: Obj, now: number): unknown[];
}

type Cell = (obj: Obj, now: number) => unknown;

interface Column {
  name: string;
  type?: string;
  format?: string;
  wide?: boolean;
  cell: Cell;
}

/** Builds a printer from columns; the name column comes first. */
function printer(...columns: Column[]): TablePrinter {
  const all: Column[] = [{ name: "Name", format: "name", cell: (o) => o.metadata?.name ?? "" }, ...columns];
  return {
    columns: all.map((c) => ({
      name: c.name,
      type: c.type ?? "string",
      format: c.format ?? "",
      description: "",
      priority: c.wide ? 1 : 0,
    })),
    row: (obj, now) => all.map((c) => c.cell(obj, now)),
  };
}

const ageColumn: Column = { name: "Age", cell: (o, now) => age(o.metadata?.creationTimestamp, now) };
const int = (name: string, cell: Cell, wide = false): Column => ({ name, type: "integer", cell, wide });
const str = (name: string, cell: Cell, wide = false): Column => ({ name, cell, wide });

const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v : []);
const orNone = (s: string) => (s ? s : "<none>");

function labelSelectorString(sel: Obj): string {
  if (!sel) return "<none>";
  const parts: string[] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of arr(sel.matchExpressions)) {
    const op = String(e.operator ?? "");
    if (op === "In") parts.push(`${e.key} in (${arr(e.values).join(",")})`);
    else if (op === "NotIn") parts.push(`${e.key} notin (${arr(e.values).join(",")})`);
    else if (op === "Exists") parts.push(e.key);
    else if (op === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(",") : "<none>";
}

function mapSelectorString(sel: Record<string, string> | undefined): string {
  const entries = Object.entries(sel ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "<none>";
}

const containers = (spec: Obj) => arr(spec?.template?.spec?.containers ?? spec?.jobTemplate?.spec?.template?.spec?.containers);
const containerNames: Column = str("Containers", (o) => containers(o.spec).map((c) => c.name).join(","), true);
const containerImages: Column = str("Images", (o) => containers(o.spec).map((c) => c.image).join(","), true);
const selectorColumn: Column = str("Selector", (o) => labelSelectorString(o.spec?.selector), true);

/** The STATUS, READY and RESTARTS of a pod, by upstream's rules. */
export function podStatus(pod: Obj, now: number): { reason: string; ready: string; restarts: string } {
  const statuses = arr(pod.status?.containerStatuses);
  const total = arr(pod.spec?.containers).length;
  let restarts = 0;
  let readyCount = 0;
  let lastRestart = 0;
  let reason: string = pod.status?.reason || pod.status?.phase || "Unknown";
  for (const c of statuses) {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  }
  const conditions = arr(pod.status?.conditions);
  if (conditions.some((c) => c.type === "PodScheduled" && c.reason === "SchedulingGated")) reason = "SchedulingGated";

  let initializing = false;
  const initStatuses = arr(pod.status?.initContainerStatuses);
  const initTotal = arr(pod.spec?.initContainers).length;
  initStatuses.forEach((c, i) => {
    if (initializing) return;
    restarts += c.restartCount ?? 0;
    const term = c.state?.terminated;
    if (term && term.exitCode === 0) return;
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
      initializing = true;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== "PodInitializing") {
      reason = `Init:${c.state.waiting.reason}`;
      initializing = true;
    } else if (!(c.started && initTotal)) {
      reason = `Init:${i}/${initTotal}`;
      initializing = true;
    }
  });
  if (!initializing) {
    let hasRunning = false;
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) {
        reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      } else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyCount++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      reason = conditions.some((c) => c.type === "Ready" && c.status === "True") ? "Running" : "NotReady";
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = pod.status?.reason === "NodeLost" ? "Unknown" : "Terminating";
  let restartText = String(restarts);
  if (lastRestart && restarts > 0) restartText += ` (${age(new Date(lastRestart).toISOString(), now)} ago)`;
  return { reason, ready: `${readyCount}/${total}`, restarts: restartText };
}

function podReadinessGates(pod: Obj): string {
  const gates = arr(pod.spec?.readinessGates);
  if (!gates.length) return "<none>";
  const conditions = arr(pod.status?.conditions);
  const ready = gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === "True")).length;
  return `${ready}/${gates.length}`;
}

const pods = printer(
  str("Ready", (o, now) => podStatus(o, now).ready),
  str("Status", (o, now) => podStatus(o, now).reason),
  // RESTARTS is an integer upstream but may carry "(5m ago)"; kubectl prints the cell as given.
  str("Restarts", (o, now) => podStatus(o, now).restarts),
  ageColumn,
  str("IP", (o) => orNone(o.status?.podIP ?? ""), true),
  str("Node", (o) => orNone(o.spec?.nodeName ?? ""), true),
  str("Nominated Node", (o) => orNone(o.status?.nominatedNodeName ?? ""), true),
  str("Readiness Gates", podReadinessGates, true),
);

function servicePorts(svc: Obj): string {
  const ports = arr(svc.spec?.ports);
  if (!ports.length) return "<none>";
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
}

function serviceExternalIp(svc: Obj): string {
  const type = svc.spec?.type ?? "ClusterIP";
  const external = arr(svc.spec?.externalIPs);
  if (type === "ExternalName") return svc.spec?.externalName ?? "<none>";
  if (type === "LoadBalancer") {
    const ingress = arr(svc.status?.loadBalancer?.ingress).map((i) => i.ip || i.hostname).filter(Boolean);
    const all = [...ingress, ...external];
    return all.length ? all.join(",") : "<pending>";
  }
  return external.length ? external.join(",") : "<none>";
}

function nodeStatus(node: Obj): string {
  const ready = arr(node.status?.conditions).find((c) => c.type === "Ready");
  const parts = [ready ? (ready.status === "True" ? "Ready" : "NotReady") : "Unknown"];
  if (node.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) roles.add(k.slice("node-role.kubernetes.io/".length) || String(v));
    else if (k === "kubernetes.io/role" && v) roles.add(String(v));
  }
  return roles.size ? [...roles].sort().join(",") : "<none>";
}

const nodeAddress = (type: string) => (o: Obj) =>
  orNone(arr(o.status?.addresses).find((a) => a.type === type)?.address ?? "");

function eventObject(ev: Obj): string {
  const inv = ev.involvedObject ?? ev.regarding ?? {};
  return `${String(inv.kind ?? "").toLowerCase()}/${inv.name ?? ""}`;
}

function eventLastSeen(ev: Obj, now: number): string {
  const ts = ev.series?.lastObservedTime ?? ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
  return age(ts, now);
}

function jobStatus(job: Obj): string {
  const conditions = arr(job.status?.conditions);
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (job.metadata?.deletionTimestamp) return "Terminating";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("Suspended")) return "Suspended";
  return "Running";
}

function jobDuration(job: Obj, now: number): string {
  const start = job.status?.startTime;
  if (!start) return "";
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
  return age(start, end);
}

function jobCompletions(job: Obj): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

const subjectsOf = (kind: string) => (o: Obj) =>
  arr(o.subjects).filter((s) => s.kind === kind).map((s) => kind === "ServiceAccount" ? `${s.namespace ?? ""}/${s.name}` : s.name).join(", ");

const bindingColumns = [
  str("Role", (o: Obj) => `${o.roleRef?.kind ?? ""}/${o.roleRef?.name ?? ""}`),
  ageColumn,
  str("Users", subjectsOf("User"), true),
  str("Groups", subjectsOf("Group"), true),
  str("ServiceAccounts", subjectsOf("ServiceAccount"), true),
];

const createdAt: Column = { name: "Created At", type: "date", cell: (o) => o.metadata?.creationTimestamp ?? "" };

const workloadWide = [containerNames, containerImages, selectorColumn];

/** The printers by `group/resource`. */
export const PRINTERS: Record<string, TablePrinter> = {
  "/pods": pods,
  "/podtemplates": printer(
    str("Containers", (o) => arr(o.template?.spec?.containers).map((c) => c.name).join(",")),
    str("Images", (o) => arr(o.template?.spec?.containers).map((c) => c.image).join(",")),
    str("Pod Labels", (o) => mapSelectorString(o.template?.metadata?.labels)),
  ),
  "/namespaces": printer(str("Status", (o) => o.status?.phase ?? ""), ageColumn),
  "/configmaps": printer(
    int("Data", (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length),
    ageColumn,
  ),
  "/secrets": printer(
    str("Type", (o) => o.type ?? "Opaque"),
    int("Data", (o) => Object.keys(o.data ?? {}).length + Object.keys(o.stringData ?? {}).length),
    ageColumn,
  ),
  "/serviceaccounts": printer(int("Secrets", (o) => arr(o.secrets).length), ageColumn),
  "/services": printer(
    str("Type", (o) => o.spec?.type ?? "ClusterIP"),
    str("Cluster-IP", (o) => orNone(o.spec?.clusterIP ?? "")),
    str("External-IP", serviceExternalIp),
    str("Port(s)", servicePorts),
    ageColumn,
    str("Selector", (o) => mapSelectorString(o.spec?.selector), true),
  ),
  "/endpoints": printer(
    str("Endpoints", (o) => {
      const eps: string[] = [];
      for (const s of arr(o.subsets)) {
        for (const a of arr(s.addresses)) for (const p of arr(s.ports).length ? arr(s.ports) : [{}]) eps.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      }
      if (!eps.length) return "<none>";
      return eps.length > 3 ? `${eps.slice(0, 3).join(",")} + ${eps.length - 3} more...` : eps.join(",");
    }),
    ageColumn,
  ),
  "/nodes": printer(
    str("Status", nodeStatus),
    str("Roles", nodeRoles),
    ageColumn,
    str("Version", (o) => o.status?.nodeInfo?.kubeletVersion ?? ""),
    str("Internal-IP", nodeAddress("InternalIP"), true),
    str("External-IP", nodeAddress("ExternalIP"), true),
    str("OS-Image", (o) => o.status?.nodeInfo?.osImage ?? "<unknown>", true),
    str("Kernel-Version", (o) => o.status?.nodeInfo?.kernelVersion ?? "<unknown>", true),
    str("Container-Runtime", (o) => o.status?.nodeInfo?.containerRuntimeVersion ?? "<unknown>", true),
  ),
  "/events": {
    columns: [
      { name: "Last Seen", type: "string", format: "", description: "", priority: 0 },
      { name: "Type", type: "string", format: "", description: "", priority: 0 },
      { name: "Reason", type: "string", format: "", description: "", priority: 0 },
      { name: "Object", type: "string", format: "", description: "", priority: 0 },
      { name: "Subobject", type: "string", format: "", description: "", priority: 1 },
      { name: "Source", type: "string", format: "", description: "", priority: 1 },
      { name: "Message", type: "string", format: "", description: "", priority: 0 },
      { name: "First Seen", type: "string", format: "", description: "", priority: 1 },
      { name: "Count", type: "string", format: "", description: "", priority: 1 },
      { name: "Name", type: "string", format: "name", description: "", priority: 1 },
    ],
    row: (o: Obj, now: number) => [
      eventLastSeen(o, now),
      o.type ?? "",
      o.reason ?? "",
      eventObject(o),
      o.involvedObject?.fieldPath ?? "",
      [o.source?.component ?? o.reportingComponent ?? "", o.source?.host ?? ""].filter(Boolean).join(", "),
      String(o.message ?? o.note ?? "").trim(),
      age(o.firstTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp, now),
      String(o.count ?? o.series?.count ?? 1),
      o.metadata?.name ?? "",
    ],
  },
  "/replicationcontrollers": printer(
    int("Desired", (o) => o.spec?.replicas ?? 0),
    int("Current", (o) => o.status?.replicas ?? 0),
    int("Ready", (o) => o.status?.readyReplicas ?? 0),
    ageColumn,
    containerNames,
    containerImages,
    str("Selector", (o) => mapSelectorString(o.spec?.selector), true),
  ),
  "apps/deployments": printer(
    str("Ready", (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
    int("Up-to-date", (o) => o.status?.updatedReplicas ?? 0),
    int("Available", (o) => o.status?.availableReplicas ?? 0),
    ageColumn,
    ...workloadWide,
  ),
  "apps/replicasets": printer(
    int("Desired", (o) => o.spec?.replicas ?? 0),
    int("Current", (o) => o.status?.replicas ?? 0),
    int("Ready", (o) => o.status?.readyReplicas ?? 0),
    ageColumn,
    ...workloadWide,
  ),
  "apps/statefulsets": printer(
    str("Ready", (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
    ageColumn,
    containerNames,
    containerImages,
  ),
  "apps/daemonsets": printer(
    int("Desired", (o) => o.status?.desiredNumberScheduled ?? 0),
    int("Current", (o) => o.status?.currentNumberScheduled ?? 0),
    int("Ready", (o) => o.status?.numberReady ?? 0),
    int("Up-to-date", (o) => o.status?.updatedNumberScheduled ?? 0),
    int("Available", (o) => o.status?.numberAvailable ?? 0),
    str("Node Selector", (o) => mapSelectorString(o.spec?.template?.spec?.nodeSelector)),
    ageColumn,
    ...workloadWide,
  ),
  "apps/controllerrevisions": printer(
    str("Controller", (o) => {
      const owner = arr(o.metadata?.ownerReferences).find((r) => r.controller);
      return owner ? `${String(owner.kind).toLowerCase()}.${String(owner.apiVersion).split("/")[0]}/${owner.name}` : "<none>";
    }),
    int("Revision", (o) => o.revision ?? 0),
    ageColumn,
  ),
  "batch/jobs": printer(
    str("Status", jobStatus),
    str("Completions", jobCompletions),
    str("Duration", jobDuration),
    ageColumn,
    ...workloadWide,
  ),
  "batch/cronjobs": printer(
    str("Schedule", (o) => o.spec?.schedule ?? ""),
    str("Timezone", (o) => orNone(o.spec?.timeZone ?? "")),
    str("Suspend", (o) => String(o.spec?.suspend ?? false) === "true" ? "True" : "False"),
    int("Active", (o) => arr(o.status?.active).length),
    str("Last Schedule", (o, now) => o.status?.lastScheduleTime ? age(o.status.lastScheduleTime, now) : "<none>"),
    ageColumn,
    containerNames,
    containerImages,
    str("Selector", (o) => labelSelectorString(o.spec?.jobTemplate?.spec?.selector), true),
  ),
  "/persistentvolumeclaims": printer(
    str("Status", (o) => o.metadata?.deletionTimestamp ? "Terminating" : o.status?.phase ?? ""),
    str("Volume", (o) => o.spec?.volumeName ?? ""),
    str("Capacity", (o) => o.status?.capacity?.storage ?? ""),
    str("Access Modes", (o) => accessModes(o.status?.accessModes)),
    str("StorageClass", (o) => o.spec?.storageClassName ?? ""),
    str("VolumeAttributesClass", (o) => orNone(o.spec?.volumeAttributesClassName ?? "")),
    ageColumn,
    str("VolumeMode", (o) => o.spec?.volumeMode ?? "Filesystem", true),
  ),
  "/persistentvolumes": printer(
    str("Capacity", (o) => o.spec?.capacity?.storage ?? ""),
    str("Access Modes", (o) => accessModes(o.spec?.accessModes)),
    str("Reclaim Policy", (o) => o.spec?.persistentVolumeReclaimPolicy ?? ""),
    str("Status", (o) => o.metadata?.deletionTimestamp ? "Terminating" : o.status?.phase ?? ""),
    str("Claim", (o) => o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : ""),
    str("StorageClass", (o) => o.spec?.storageClassName ?? ""),
    str("VolumeAttributesClass", (o) => orNone(o.spec?.volumeAttributesClassName ?? "")),
    str("Reason", (o) => o.status?.reason ?? ""),
    ageColumn,
    str("VolumeMode", (o) => o.spec?.volumeMode ?? "Filesystem", true),
  ),
  "/resourcequotas": printer(ageColumn, str("Request", () => ""), str("Limit", () => "")),
  "/limitranges": printer(createdAt),
  "storage.k8s.io/storageclasses": printer(
    str("Provisioner", (o) => o.provisioner ?? ""),
    str("ReclaimPolicy", (o) => o.reclaimPolicy ?? "Delete"),
    str("VolumeBindingMode", (o) => o.volumeBindingMode ?? "Immediate"),
    str("AllowVolumeExpansion", (o) => String(o.allowVolumeExpansion ?? false)),
    ageColumn,
  ),
  "networking.k8s.io/ingresses": printer(
    str("Class", (o) => o.spec?.ingressClassName ?? "<none>"),
    str("Hosts", (o) => arr(o.spec?.rules).map((r) => r.host).filter(Boolean).join(",") || "*"),
    str("Address", (o) => arr(o.status?.loadBalancer?.ingress).map((i) => i.ip || i.hostname).join(",")),
    str("Ports", (o) => (arr(o.spec?.tls).length ? "80, 443" : "80")),
    ageColumn,
  ),
  "networking.k8s.io/ingressclasses": printer(str("Controller", (o) => o.spec?.controller ?? ""), str("Parameters", () => "<none>"), ageColumn),
  "networking.k8s.io/networkpolicies": printer(str("Pod-Selector", (o) => labelSelectorString(o.spec?.podSelector).replace("<none>", "<none>")), ageColumn),
  "autoscaling/horizontalpodautoscalers": printer(
    str("Reference", (o) => `${o.spec?.scaleTargetRef?.kind ?? ""}/${o.spec?.scaleTargetRef?.name ?? ""}`),
    str("Targets", () => "<unknown>"),
    int("MinPods", (o) => o.spec?.minReplicas ?? 1),
    int("MaxPods", (o) => o.spec?.maxReplicas ?? 0),
    int("Replicas", (o) => o.status?.currentReplicas ?? 0),
    ageColumn,
  ),
  "policy/poddisruptionbudgets": printer(
    str("Min Available", (o) => String(o.spec?.minAvailable ?? "N/A")),
    str("Max Unavailable", (o) => String(o.spec?.maxUnavailable ?? "N/A")),
    int("Allowed Disruptions", (o) => o.status?.disruptionsAllowed ?? 0),
    ageColumn,
  ),
  "scheduling.k8s.io/priorityclasses": printer(
    int("Value", (o) => o.value ?? 0),
    str("Global-Default", (o) => String(o.globalDefault ?? false)),
    ageColumn,
    str("PreemptionPolicy", (o) => o.preemptionPolicy ?? "PreemptLowerPriority"),
  ),
  "coordination.k8s.io/leases": printer(str("Holder", (o) => o.spec?.holderIdentity ?? ""), ageColumn),
  "rbac.authorization.k8s.io/roles": printer(createdAt),
  "rbac.authorization.k8s.io/clusterroles": printer(createdAt),
  "rbac.authorization.k8s.io/rolebindings": printer(...bindingColumns),
  "rbac.authorization.k8s.io/clusterrolebindings": printer(...bindingColumns),
  "apiextensions.k8s.io/customresourcedefinitions": printer(createdAt),
  "certificates.k8s.io/certificatesigningrequests": printer(
    ageColumn,
    str("SignerName", (o) => o.spec?.signerName ?? ""),
    str("Requestor", (o) => o.spec?.username ?? ""),
    str("RequestedDuration", () => "<none>"),
    str("Condition", (o) => arr(o.status?.conditions).map((c) => c.type).join(",") || "Pending"),
  ),
  "node.k8s.io/runtimeclasses": printer(str("Handler", (o) => o.handler ?? ""), ageColumn),
  "discovery.k8s.io/endpointslices": printer(
    str("AddressType", (o) => o.addressType ?? ""),
    str("Ports", (o) => arr(o.ports).map((p) => p.port).join(",") || "<unset>"),
    str("Endpoints", (o) => arr(o.endpoints).flatMap((e) => arr(e.addresses)).slice(0, 3).join(",") || "<unset>"),
    ageColumn,
  ),
};

function accessModes(modes: unknown): string {
  const short: Record<string, string> = {
    ReadWriteOnce: "RWO",
    ReadOnlyMany: "ROX",
    ReadWriteMany: "RWX",
    ReadWriteOncePod: "RWOP",
  };
  return arr(modes).map((m) => short[m] ?? m).join(",");
}

PRINTERS["events.k8s.io/events"] = PRINTERS["/events"];

/** NAME and AGE, for kinds without a printer of their own. */
export const DEFAULT_PRINTER = printer(ageColumn);
