/**
 * The scheduling algorithm of one cycle, as kube-scheduler runs it: PreFilter → Filter over
 * the node list from a round-robin start until enough feasible nodes are found (adaptive
 * percentageOfNodesToScore) → PreScore/Score/NormalizeScore → weighted sum → the best node,
 * ties broken at random. When the pod fits nowhere, DefaultPreemption runs and the result
 * carries upstream's `FailedScheduling` message ("0/3 nodes are available: …").
 */

import { type CycleState, goList, runFilterPlugins, runPreFilterPlugins } from "./cycle.ts";
import { type Diagnosis, type FitError, fitErrorMessage } from "./fit_error.ts";
import { type CycleContext, type Plugin, type ScheduleInputs, SKIP } from "./interface.ts";
import type { ClusterSnapshot, NodeInfo } from "./node_info.ts";
import { podInfoOf } from "./pod_info.ts";
import { DEFAULT_PLUGINS } from "./plugins/registry.ts";
import { preempt } from "./preemption.ts";
import { Code, isRejected, newStatus, NodeToStatus, type Status, statusMessage } from "./status.ts";

export { type Diagnosis, type FitError, fitErrorMessage } from "./fit_error.ts";
import type { Pod } from "./types.ts";

/** The fewest nodes a cycle looks at for feasibility. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The smallest adaptive percentage of nodes to find feasible. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
/** The event message when the cluster has no nodes. */
export const ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods";

export interface ScheduleOptions extends ScheduleInputs {
  /** The profile's plugins (default: DEFAULT_PLUGINS). */
  plugins?: readonly Plugin[];
}

export type ScheduleResult =
  | {
    kind: "scheduled";
    nodeName: string;
    /** Nodes found feasible (scored). */
    feasible: number;
    /** Nodes the filters ran on. */
    evaluated: number;
  }
  | {
    kind: "unschedulable";
    /** The `FailedScheduling` event and PodScheduled condition message. */
    message: string;
    fitError?: FitError;
    /**
     * What to set `status.nominatedNodeName` to: a node preemption freed, "" to clear it,
     * undefined to leave it as it is.
     */
    nominatedNodeName?: string;
    /** Pods to evict so the pod fits on `nominatedNodeName`. */
    victims?: Pod[];
  }
  | { kind: "error"; message: string };

/**
 * How many feasible nodes end the search: all below 100 nodes; else the percentage (adaptive
 * when 0: 50 − nodes/125, at least 5) of the nodes, at least 100.
 */
export function numFeasibleNodesToFind(percentage: number | undefined, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let p = percentage ?? 0;
  if (p === 0) {
    p = 50 - Math.trunc(numAllNodes / 125);
    if (p < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) p = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * p) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

/** A small seedable PRNG (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the per-cycle context. */
export function newCycleContext(pod: Pod, snapshot: ClusterSnapshot, inputs: ScheduleInputs): CycleContext {
  const podInfo = podInfoOf(pod);
  return {
    pod,
    podInfo,
    snapshot,
    inputs,
    namespaceLabels: inputs.namespaces?.get(podInfo.namespace)?.metadata?.labels ?? {},
  };
}

let scratch = new Float64Array(0);

/** Weighted sum of every score plugin's normalized scores, per node. */
export function prioritizeNodes(
  ctx: CycleContext,
  plugins: readonly Plugin[],
  nodes: readonly NodeInfo[],
): Float64Array {
  const n = nodes.length;
  const totals = new Float64Array(n);
  if (scratch.length < n) scratch = new Float64Array(n);
  const scores = scratch.subarray(0, n);
  for (const p of plugins) {
    if (!p.weight || !p.score) continue;
    const state = p.preScore ? p.preScore(ctx, nodes) : undefined;
    if (state === SKIP) continue;
    for (let i = 0; i < n; i++) scores[i] = p.score(ctx, state, nodes[i]);
    p.normalizeScore?.(ctx, state, scores, nodes);
    const w = p.weight;
    for (let i = 0; i < n; i++) totals[i] += scores[i] * w;
  }
  return totals;
}

/** The index of the highest total; among equals each is equally likely. */
export function selectHost(totals: Float64Array, random: () => number): number {
  let best = -Infinity, selected = -1, ties = 0;
  for (let i = 0; i < totals.length; i++) {
    const t = totals[i];
    if (t > best) {
      best = t;
      selected = i;
      ties = 1;
    } else if (t === best) {
      ties++;
      if (Math.floor(random() * ties) === 0) selected = i;
    }
  }
  return selected;
}

/**
 * Finds a node for `pod`. On success the caller binds it and calls `snapshot.assumePod(pod,
 * nodeName)` (and `forgetPod` if binding fails). `snapshot.nextStartNodeIndex` advances.
 */
export function schedulePod(
  pod: Pod,
  snapshot: ClusterSnapshot,
  options: ScheduleOptions = {},
): ScheduleResult {
  const plugins = options.plugins ?? DEFAULT_PLUGINS;
  const random = options.random ?? Math.random;
  const allNodes = snapshot.nodeInfos();
  if (allNodes.length === 0) {
    return { kind: "unschedulable", message: ERR_NO_NODES_AVAILABLE, nominatedNodeName: "" };
  }

  const ctx = newCycleContext(pod, snapshot, options);
  const diagnosis: Diagnosis = {
    nodeToStatus: new NodeToStatus(),
    unschedulablePlugins: new Set(),
    preFilterMsg: "",
    postFilterMsg: "",
  };
  const { result: pre, state } = runPreFilterPlugins(ctx, plugins);
  if (pre.status) {
    if (!isRejected(pre.status)) return { kind: "error", message: statusMessage(pre.status) };
    diagnosis.nodeToStatus.absentNodesStatus = pre.status;
    diagnosis.preFilterMsg = statusMessage(pre.status);
    if (pre.status.plugin) diagnosis.unschedulablePlugins.add(pre.status.plugin);
    for (const p of pre.pluginsWithNodes) diagnosis.unschedulablePlugins.add(p);
    return unschedulable(pod, state, diagnosis, allNodes.length, options);
  }

  const record = (node: NodeInfo, s: Status) => {
    diagnosis.nodeToStatus.set(node.name, s);
    if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
  };

  // A node freed by an earlier preemption is tried first.
  const nominated = pod.status?.nominatedNodeName ? snapshot.get(pod.status.nominatedNodeName) : undefined;
  if (nominated) {
    const s = runFilterPlugins(state, nominated);
    if (!s) return { kind: "scheduled", nodeName: nominated.name, feasible: 1, evaluated: 1 };
    record(nominated, s);
  }

  let nodes = allNodes;
  if (pre.nodeNames) {
    const names = pre.nodeNames;
    nodes = allNodes.filter((n) => names.has(n.name));
    diagnosis.nodeToStatus.absentNodesStatus = newStatus(
      Code.UnschedulableAndUnresolvable,
      "",
      `node(s) didn't satisfy plugin(s) ${goList([...pre.pluginsWithNodes].sort())}`,
    );
    for (const p of pre.pluginsWithNodes) diagnosis.unschedulablePlugins.add(p);
  }

  const feasible: NodeInfo[] = [];
  const n = nodes.length;
  if (n > 0) {
    const toFind = numFeasibleNodesToFind(options.percentageOfNodesToScore, n);
    const start = snapshot.nextStartNodeIndex;
    for (let i = 0; i < n && feasible.length < toFind; i++) {
      const node = nodes[(start + i) % n];
      const s = runFilterPlugins(state, node);
      if (!s) feasible.push(node);
      else if (s.code === Code.Error) return { kind: "error", message: statusMessage(s) };
      else record(node, s);
    }
  }
  const evaluated = feasible.length + diagnosis.nodeToStatus.size;
  snapshot.nextStartNodeIndex = (snapshot.nextStartNodeIndex + evaluated) % allNodes.length;

  if (feasible.length === 0) return unschedulable(pod, state, diagnosis, allNodes.length, options);
  if (feasible.length === 1) return { kind: "scheduled", nodeName: feasible[0].name, feasible: 1, evaluated };
  const totals = prioritizeNodes(ctx, plugins, feasible);
  const chosen = feasible[selectHost(totals, random)];
  return { kind: "scheduled", nodeName: chosen.name, feasible: feasible.length, evaluated };
}

function unschedulable(
  pod: Pod,
  state: CycleState,
  diagnosis: Diagnosis,
  numAllNodes: number,
  options: ScheduleOptions,
): ScheduleResult {
  const fitError: FitError = { pod, numAllNodes, diagnosis };
  let nominatedNodeName: string | undefined = "";
  let victims: Pod[] | undefined;
  if (options.preemption !== false) {
    const r = preempt(state, diagnosis.nodeToStatus, options);
    diagnosis.postFilterMsg = r.message;
    nominatedNodeName = r.nominatedNodeName;
    victims = r.victims;
  }
  return { kind: "unschedulable", message: fitErrorMessage(fitError), fitError, nominatedNodeName, victims };
}
