/**
 * Pods: READY, STATUS and RESTARTS by kube-apiserver's rules, and the pods printer.
 *
 * @module
 */

import { ageColumn, namedPrinter, str, type TablePrinter } from "./columns.ts";
import { age, parseTime } from "./duration.ts";
import { arr, hasTrueCondition, type Obj, orNone } from "./format.ts";

/** What the pods printer shows of a pod's state. */
export interface PodSummary {
  /** `ready/total` containers. */
  ready: string;
  /** The STATUS column: a phase, a container reason, `Init:…`, `Terminating`, …. */
  status: string;
  /** The restart count, with `(5m ago)` after it when a container last terminated. */
  restarts: string;
}

const isSidecar = (container: Obj) => container?.restartPolicy === "Always";

/** Tracks restarts and the latest time a container last terminated. */
class RestartTally {
  count = 0;
  last = 0;
  add(status: Obj): void {
    this.count += Number(status?.restartCount ?? 0);
    const finished = parseTime(status?.lastState?.terminated?.finishedAt);
    if (finished !== undefined && finished > this.last) this.last = finished;
  }
}

function terminatedReason(terminated: Obj, prefix: string): string {
  if (terminated.reason) return `${prefix}${terminated.reason}`;
  if (terminated.signal) return `${prefix}Signal:${terminated.signal}`;
  return `${prefix}ExitCode:${terminated.exitCode ?? 0}`;
}

/** READY, STATUS and RESTARTS of a pod, by upstream's rules. */
export function podSummary(pod: Obj, now: number): PodSummary {
  const spec = pod?.spec ?? {};
  const status = pod?.status ?? {};
  const phase: string = status.phase ?? "";
  let reason: string = status.reason || phase;
  const conditions = arr(status.conditions);
  if (conditions.some((c) => c?.type === "PodScheduled" && c?.reason === "SchedulingGated")) {
    reason = "SchedulingGated";
  }

  const initContainers = arr(spec.initContainers);
  const initByName = new Map(initContainers.map((c) => [c?.name, c]));
  const total = arr(spec.containers).length + initContainers.filter(isSidecar).length;
  let ready = 0;
  const all = new RestartTally();
  const sidecars = new RestartTally();

  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    all.add(c);
    const sidecar = isSidecar(initByName.get(c?.name));
    if (sidecar) sidecars.add(c);
    const terminated = c?.state?.terminated;
    const waiting = c?.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && c?.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (terminated) reason = terminatedReason(terminated, "Init:");
    else if (waiting?.reason && waiting.reason !== "PodInitializing") reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }

  let tally = all;
  if (!initializing || hasTrueCondition(conditions, "Initialized")) {
    tally = sidecars;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      tally.add(c);
      const state = c?.state ?? {};
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated) reason = terminatedReason(state.terminated, "");
      else if (c?.ready && state.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      reason = hasTrueCondition(conditions, "Ready") ? "Running" : "NotReady";
    }
  }

  if (pod?.metadata?.deletionTimestamp) {
    if (status.reason === "NodeLost") reason = "Unknown";
    else if (phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";
  }

  let restarts = String(tally.count);
  if (tally.count !== 0 && tally.last !== 0) {
    restarts = `${tally.count} (${age(new Date(tally.last).toISOString(), now)} ago)`;
  }
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

function podIP(pod: Obj): string {
  return orNone(arr(pod?.status?.podIPs)[0]?.ip || pod?.status?.podIP);
}

function readinessGates(pod: Obj): string {
  const gates = arr(pod?.spec?.readinessGates);
  if (gates.length === 0) return "<none>";
  const conditions = arr(pod?.status?.conditions);
  const met = gates.filter((g) => conditions.find((c) => c?.type === g?.conditionType)?.status === "True");
  return `${met.length}/${gates.length}`;
}

const podColumns = namedPrinter(
  str("Ready", () => ""),
  str("Status", () => ""),
  // Upstream declares RESTARTS an integer but sends a string cell, since it may carry "(5m ago)".
  { name: "Restarts", type: "integer", cell: () => "" },
  ageColumn,
  str("IP", () => "", { wide: true }),
  str("Node", () => "", { wide: true }),
  str("Nominated Node", () => "", { wide: true }),
  str("Readiness Gates", () => "", { wide: true }),
).columns;

/** NAME READY STATUS RESTARTS AGE | IP NODE NOMINATED NODE READINESS GATES. */
export const podPrinter: TablePrinter = {
  columns: podColumns,
  row(pod, now) {
    const summary = podSummary(pod, now);
    return [
      pod?.metadata?.name ?? "",
      summary.ready,
      summary.status,
      summary.restarts,
      age(pod?.metadata?.creationTimestamp, now),
      podIP(pod),
      orNone(pod?.spec?.nodeName),
      orNone(pod?.status?.nominatedNodeName),
      readinessGates(pod),
    ];
  },
};
