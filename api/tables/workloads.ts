/**
 * Printers of apps, batch, autoscaling and policy kinds.
 *
 * @module
 */

import { ageColumn, bool, type Column, int, namedPrinter, num, str, type TablePrinter } from "./columns.ts";
import { age, humanDuration, parseTime } from "./duration.ts";
import {
  arr,
  boolPtr,
  containerCells,
  formatLabels,
  formatLabelSelector,
  hasTrueCondition,
  type Obj,
  selectorString,
} from "./format.ts";

type ContainersOf = (o: Obj) => unknown;

const templateContainers: ContainersOf = (o) => o?.spec?.template?.spec?.containers;

function containerColumns(of: ContainersOf): Column[] {
  return [
    str("Containers", (o) => containerCells(of(o))[0], { wide: true }),
    str("Images", (o) => containerCells(of(o))[1], { wide: true }),
  ];
}

const selector = str("Selector", (o) => selectorString(o?.spec?.selector), { wide: true });
const desiredReplicas = (o: Obj) => num(o?.spec?.replicas ?? 1);
const readyOfDesired = str("Ready", (o) => `${num(o?.status?.readyReplicas)}/${desiredReplicas(o)}`);

/** NAME READY UP-TO-DATE AVAILABLE AGE | CONTAINERS IMAGES SELECTOR. */
export const deploymentPrinter: TablePrinter = namedPrinter(
  readyOfDesired,
  int("Up-to-date", (o) => num(o?.status?.updatedReplicas)),
  int("Available", (o) => num(o?.status?.availableReplicas)),
  ageColumn,
  ...containerColumns(templateContainers),
  selector,
);

/** NAME DESIRED CURRENT READY AGE | CONTAINERS IMAGES SELECTOR. */
export const replicaSetPrinter: TablePrinter = namedPrinter(
  int("Desired", desiredReplicas),
  int("Current", (o) => num(o?.status?.replicas)),
  int("Ready", (o) => num(o?.status?.readyReplicas)),
  ageColumn,
  ...containerColumns(templateContainers),
  selector,
);

/** NAME READY AGE | CONTAINERS IMAGES. */
export const statefulSetPrinter: TablePrinter = namedPrinter(
  readyOfDesired,
  ageColumn,
  ...containerColumns(templateContainers),
);

/** NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE | CONTAINERS IMAGES SELECTOR. */
export const daemonSetPrinter: TablePrinter = namedPrinter(
  int("Desired", (o) => num(o?.status?.desiredNumberScheduled)),
  int("Current", (o) => num(o?.status?.currentNumberScheduled)),
  int("Ready", (o) => num(o?.status?.numberReady)),
  int("Up-to-date", (o) => num(o?.status?.updatedNumberScheduled)),
  int("Available", (o) => num(o?.status?.numberAvailable)),
  str("Node Selector", (o) => formatLabels(o?.spec?.template?.spec?.nodeSelector)),
  ageColumn,
  ...containerColumns(templateContainers),
  selector,
);

/** The controller owning `o` as `kind.group/name` in lower case (`statefulset.apps/web`), or `<none>`. */
export function controllerOf(o: Obj): string {
  const ref = arr(o?.metadata?.ownerReferences).find((r) => r?.controller === true);
  if (!ref) return "<none>";
  const apiVersion = String(ref.apiVersion ?? "");
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const kind = String(ref.kind ?? "");
  if (!kind && !group) return ref.name ?? "";
  return `${(group ? `${kind}.${group}` : kind).toLowerCase()}/${ref.name ?? ""}`;
}

/** NAME CONTROLLER REVISION AGE. */
export const controllerRevisionPrinter: TablePrinter = namedPrinter(
  str("Controller", controllerOf),
  int("Revision", (o) => num(o?.revision)),
  ageColumn,
);

/** A Job's STATUS from its conditions: Complete, Failed, Terminating, Suspended, FailureTarget, … Running. */
export function jobStatus(job: Obj): string {
  const conditions = job?.status?.conditions;
  if (hasTrueCondition(conditions, "Complete")) return "Complete";
  if (hasTrueCondition(conditions, "Failed")) return "Failed";
  if (job?.metadata?.deletionTimestamp) return "Terminating";
  if (hasTrueCondition(conditions, "Suspended")) return "Suspended";
  if (hasTrueCondition(conditions, "FailureTarget")) return "FailureTarget";
  if (hasTrueCondition(conditions, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

/** A Job's COMPLETIONS: `succeeded/completions`, or `n/1 of <parallelism>` without completions. */
export function jobCompletions(job: Obj): string {
  const succeeded = num(job?.status?.succeeded);
  const completions = job?.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = num(job?.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** A Job's DURATION: from its start to its completion, or to now; empty before it starts. */
export function jobDuration(job: Obj, now: number): string {
  const start = parseTime(job?.status?.startTime);
  if (start === undefined) return "";
  const end = parseTime(job?.status?.completionTime) ?? now;
  return humanDuration(end - start);
}

/** NAME STATUS COMPLETIONS DURATION AGE | CONTAINERS IMAGES SELECTOR. */
export const jobPrinter: TablePrinter = namedPrinter(
  str("Status", jobStatus),
  str("Completions", jobCompletions),
  str("Duration", jobDuration),
  ageColumn,
  ...containerColumns(templateContainers),
  selector,
);

/** NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE | CONTAINERS IMAGES SELECTOR. */
export const cronJobPrinter: TablePrinter = namedPrinter(
  str("Schedule", (o) => o?.spec?.schedule ?? ""),
  str("Timezone", (o) => o?.spec?.timeZone || "<none>"),
  bool("Suspend", (o) => boolPtr(o?.spec?.suspend)),
  int("Active", (o) => arr(o?.status?.active).length),
  str(
    "Last Schedule",
    (o, now) => (o?.status?.lastScheduleTime ? age(o.status.lastScheduleTime, now) : "<none>"),
  ),
  ageColumn,
  ...containerColumns((o) => o?.spec?.jobTemplate?.spec?.template?.spec?.containers),
  str("Selector", (o) => formatLabelSelector(o?.spec?.jobTemplate?.spec?.selector), { wide: true }),
);

/** An HPA's metric specs and current statuses, reading autoscaling/v1 objects as v2. */
function hpaMetrics(hpa: Obj): { specs: Obj[]; statuses: Obj[] } {
  const spec = hpa?.spec ?? {};
  if (spec.metrics !== undefined || spec.targetCPUUtilizationPercentage === undefined) {
    return { specs: arr(spec.metrics), statuses: arr(hpa?.status?.currentMetrics) };
  }
  const cpu = (value: Obj) => ({ type: "Resource", resource: { name: "cpu", ...value } });
  const current = hpa?.status?.currentCPUUtilizationPercentage;
  return {
    specs: [
      cpu({ target: { type: "Utilization", averageUtilization: spec.targetCPUUtilizationPercentage } }),
    ],
    statuses: current === undefined || current === null
      ? []
      : [cpu({ current: { averageUtilization: current } })],
  };
}

const percent = (v: unknown) => `${v}%`;

function valueTarget(spec: Obj, current: Obj): string {
  if (spec?.target?.averageValue !== undefined && spec?.target?.averageValue !== null) {
    return `${current?.current?.averageValue ?? "<unknown>"}/${spec.target.averageValue} (avg)`;
  }
  return `${current?.current?.value ?? "<unknown>"}/${spec?.target?.value ?? ""}`;
}

function resourceTarget(spec: Obj, current: Obj): string {
  if (spec?.target?.averageValue !== undefined && spec?.target?.averageValue !== null) {
    return `${spec.name}: ${current?.current?.averageValue ?? "<unknown>"}/${spec.target.averageValue}`;
  }
  const now = current?.current?.averageUtilization;
  const target = spec?.target?.averageUtilization;
  const nowText = now === undefined || now === null ? "<unknown>" : percent(now);
  return `${spec?.name}: ${nowText}/${target === undefined || target === null ? "<auto>" : percent(target)}`;
}

function metricText(spec: Obj, status: Obj): string {
  switch (spec?.type) {
    case "External":
      return valueTarget(spec.external, status?.external);
    case "Object":
      return valueTarget(spec.object, status?.object);
    case "Pods":
      return `${status?.pods?.current?.averageValue ?? "<unknown>"}/${spec.pods?.target?.averageValue ?? ""}`;
    case "Resource":
      return resourceTarget(spec.resource, status?.resource);
    case "ContainerResource":
      return resourceTarget(spec.containerResource, status?.containerResource);
    default:
      return "<unknown type>";
  }
}

/** An HPA's TARGETS: `current/target` per metric, the first two then `+ N more...`. */
export function hpaTargets(hpa: Obj): string {
  const { specs, statuses } = hpaMetrics(hpa);
  if (specs.length === 0) return "<none>";
  const list = specs.map((spec, i) => metricText(spec, statuses[i]));
  const shown = list.slice(0, 2).join(", ");
  return list.length > 2 ? `${shown} + ${list.length - 2} more...` : shown;
}

/** NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE. */
export const horizontalPodAutoscalerPrinter: TablePrinter = namedPrinter(
  str("Reference", (o) => `${o?.spec?.scaleTargetRef?.kind ?? ""}/${o?.spec?.scaleTargetRef?.name ?? ""}`),
  str("Targets", hpaTargets),
  str("MinPods", (o) => (o?.spec?.minReplicas === undefined ? "<unset>" : String(o.spec.minReplicas))),
  int("MaxPods", (o) => num(o?.spec?.maxReplicas)),
  int("Replicas", (o) => num(o?.status?.currentReplicas)),
  ageColumn,
);

const intOrStringOrNA = (v: unknown) => (v === undefined || v === null ? "N/A" : String(v));

/** NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE. */
export const podDisruptionBudgetPrinter: TablePrinter = namedPrinter(
  str("Min Available", (o) => intOrStringOrNA(o?.spec?.minAvailable)),
  str("Max Unavailable", (o) => intOrStringOrNA(o?.spec?.maxUnavailable)),
  int("Allowed Disruptions", (o) => num(o?.status?.disruptionsAllowed)),
  ageColumn,
);
