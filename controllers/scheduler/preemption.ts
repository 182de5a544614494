/**
 * DefaultPreemption, pure: for a pod that fits nowhere, find nodes where evicting pods of lower
 * priority makes it fit — keeping as many of them as still fit, those whose PodDisruptionBudget
 * would be violated reprieved first — and pick one node by upstream's order: fewest PDB
 * violations, lowest highest-victim priority, smallest priority sum, fewest victims, latest
 * start of the highest-priority victims. The caller evicts the victims and sets the pod's
 * `status.nominatedNodeName`.
 */

import { type CycleState, runFilterPlugins } from "./cycle.ts";
import { fitErrorMessage } from "./fit_error.ts";
import type { ScheduleInputs } from "./interface.ts";
import type { NodeInfo } from "./node_info.ts";
import { parseSelector, type PodInfo, selects } from "./pod_info.ts";
import { Code, newStatus, NodeToStatus, type Status } from "./status.ts";
import type { Pod, PodDisruptionBudget } from "./types.ts";

export const NAME = "DefaultPreemption";
export const MSG_NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const MSG_NO_VICTIMS = "No preemption victims found for incoming pod";

/** Upstream's defaults: dry-run at least 10% of the candidate nodes, and at least 100. */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

/** A node where preemption helps, and what it costs. */
export interface Candidate {
  nodeName: string;
  /** Victims, most important first. */
  victims: PodInfo[];
  numPDBViolations: number;
}

export interface PreemptionResult {
  /** Success when a node was nominated, else why not (Unschedulable). */
  code: Code;
  /** "preemption: …" for the FailedScheduling message; empty on success. */
  message: string;
  /** The node to nominate, "" to clear the nomination, undefined to leave it. */
  nominatedNodeName?: string;
  victims?: Pod[];
  candidate?: Candidate;
}

/** Whether a pod is terminating because the scheduler preempted it. */
export function podTerminatingByPreemption(p: Pod): boolean {
  if (!p.metadata?.deletionTimestamp) return false;
  const c = p.status?.conditions?.find((c) => c.type === "DisruptionTarget");
  return !!c && c.status === "True" && c.reason === "PreemptionByScheduler";
}

/** The preemption policy of a pod: its own field, else its PriorityClass's. */
function preemptionPolicy(pod: Pod, inputs: ScheduleInputs): string | undefined {
  const own = pod.spec?.preemptionPolicy;
  if (own) return own;
  const cls = pod.spec?.priorityClassName;
  return cls ? inputs.priorityClasses?.get(cls)?.preemptionPolicy : undefined;
}

/** Why the pod may not preempt, or undefined when it may. */
export function podEligibleToPreemptOthers(
  state: CycleState,
  nodeToStatus: NodeToStatus,
): string | undefined {
  const { pod, podInfo, snapshot, inputs } = state.ctx;
  if (preemptionPolicy(pod, inputs) === "Never") return "not eligible due to preemptionPolicy=Never.";
  const nominated = pod.status?.nominatedNodeName;
  if (nominated) {
    // A nominated node that became unresolvable is fair game again.
    if (nodeToStatus.get(nominated).code === Code.UnschedulableAndUnresolvable) return undefined;
    const ni = snapshot.get(nominated);
    for (const p of ni?.pods ?? []) {
      if (p.priority < podInfo.priority && podTerminatingByPreemption(p.pod)) {
        return "not eligible due to a terminating pod on the nominated node.";
      }
    }
  }
  return undefined;
}

/** Higher priority first; among equals the one that started earlier (unstarted: now). */
export function moreImportantPod(a: PodInfo, b: PodInfo, now: number): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return (a.startTime ?? now) < (b.startTime ?? now);
}

/**
 * Splits pods (order kept) into those whose eviction would push a matching PDB below zero
 * allowed disruptions, and the rest.
 */
export function filterPodsWithPDBViolation(
  pods: readonly PodInfo[],
  pdbs: readonly PodDisruptionBudget[],
): [violating: PodInfo[], nonViolating: PodInfo[]] {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => parseSelector(p.spec?.selector));
  const violating: PodInfo[] = [], nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    let violated = false;
    if (Object.keys(pi.labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if ((pdb.metadata?.namespace || "default") !== pi.namespace) return;
        const sel = selectors[i];
        // A nil or empty selector matches nothing.
        if (!sel || sel.requirements.length === 0 || !selects(sel, pi.labels)) return;
        if (pdb.status?.disruptedPods && Object.hasOwn(pdb.status.disruptedPods, pi.name)) return;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return [violating, nonViolating];
}

/**
 * The fewest pods on `node` (all of lower priority) whose eviction lets the pod fit: remove
 * them all, check the pod fits, then add back the most important ones that still allow it.
 */
export function selectVictimsOnNode(
  base: CycleState,
  node: NodeInfo,
  pdbs: readonly PodDisruptionBudget[],
  now: number,
): { victims: PodInfo[]; numPDBViolations: number; status: Status | null } {
  const state = base.clone();
  const ni = node.clone();
  const priority = base.ctx.podInfo.priority;
  const potential = ni.pods.filter((p) => p.priority < priority);
  if (potential.length === 0) {
    return {
      victims: [],
      numPDBViolations: 0,
      status: newStatus(Code.UnschedulableAndUnresolvable, NAME, MSG_NO_VICTIMS),
    };
  }
  for (const p of potential) {
    ni.removePod(p.key);
    state.removePod(p, ni);
  }
  const s = runFilterPlugins(state, ni);
  if (s) return { victims: [], numPDBViolations: 0, status: s };
  const byImportance = (a: PodInfo, b: PodInfo) =>
    moreImportantPod(a, b, now) ? -1 : moreImportantPod(b, a, now) ? 1 : 0;
  potential.sort(byImportance);
  const [violating, nonViolating] = filterPodsWithPDBViolation(potential, pdbs);
  const victims: PodInfo[] = [];
  const reprieve = (p: PodInfo): boolean => {
    ni.addPodInfo(p);
    state.addPod(p, ni);
    const fits = !runFilterPlugins(state, ni);
    if (!fits) {
      ni.removePod(p.key);
      state.removePod(p, ni);
      victims.push(p);
    }
    return fits;
  };
  let numPDBViolations = 0;
  for (const p of violating) if (!reprieve(p)) numPDBViolations++;
  for (const p of nonViolating) reprieve(p);
  if (violating.length > 0 && nonViolating.length > 0) victims.sort(byImportance);
  return { victims, numPDBViolations, status: null };
}

/** Among the highest-priority victims, the earliest start (unstarted: now). */
function earliestStartOfHighest(victims: readonly PodInfo[], now: number): number {
  let maxPriority = victims[0].priority;
  let earliest = victims[0].startTime ?? now;
  for (const v of victims) {
    const start = v.startTime ?? now;
    if (v.priority === maxPriority) {
      if (start < earliest) earliest = start;
    } else if (v.priority > maxPriority) {
      maxPriority = v.priority;
      earliest = start;
    }
  }
  return earliest;
}

/**
 * Picks the candidate node: fewest PDB violations, then the lowest highest-victim priority,
 * the smallest sum of priorities, the fewest victims, the latest start time of the
 * highest-priority victims; the first of any remaining tie.
 */
export function pickOneNodeForPreemption(
  candidates: readonly Candidate[],
  now: number,
): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const scoreFuncs: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -c.victims[0].priority,
    // Shifted so pods with negative priority still add up as "more".
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + 2147483648, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfHighest(c.victims, now),
  ];
  let remaining = [...candidates];
  for (const f of scoreFuncs) {
    let max = -Infinity;
    let selected: Candidate[] = [];
    for (const c of remaining) {
      const s = f(c);
      if (s > max) {
        max = s;
        selected = [c];
      } else if (s === max) selected.push(c);
    }
    if (selected.length === 1) return selected[0];
    remaining = selected;
  }
  return remaining[0];
}

/** How many candidates the dry run collects before it stops looking. */
export function numCandidates(numNodes: number): number {
  let n = Math.trunc((numNodes * MIN_CANDIDATE_NODES_PERCENTAGE) / 100);
  if (n < MIN_CANDIDATE_NODES_ABSOLUTE) n = MIN_CANDIDATE_NODES_ABSOLUTE;
  return Math.min(n, numNodes);
}

/** The fit error preemption reports when no node helps, as a message. */
function notHelpful(numAllNodes: number, statuses: NodeToStatus): string {
  statuses.absentNodesStatus = newStatus(Code.UnschedulableAndUnresolvable, NAME, MSG_NOT_HELPFUL);
  return fitErrorMessage({
    numAllNodes,
    diagnosis: {
      nodeToStatus: statuses,
      unschedulablePlugins: new Set(),
      preFilterMsg: "",
      postFilterMsg: "",
    },
  });
}

/**
 * PostFilter: tries to make room for the cycle's pod given the filter verdicts. Nodes whose
 * verdict is plain Unschedulable are dry-run, starting at a random offset.
 */
export function preempt(
  state: CycleState,
  nodeToStatus: NodeToStatus,
  inputs: ScheduleInputs,
): PreemptionResult {
  const now = inputs.now ?? Date.now();
  const random = inputs.random ?? Math.random;
  const notEligible = podEligibleToPreemptOthers(state, nodeToStatus);
  if (notEligible) return { code: Code.Unschedulable, message: `preemption: ${notEligible}` };

  const allNodes = state.ctx.snapshot.nodeInfos();
  const potential = allNodes.filter((n) => nodeToStatus.get(n.name).code === Code.Unschedulable);
  const statuses = new NodeToStatus();
  if (potential.length === 0) {
    return {
      code: Code.Unschedulable,
      message: `preemption: ${notHelpful(allNodes.length, statuses)}`,
      nominatedNodeName: "",
    };
  }
  const pdbs = inputs.pdbs?.list() ?? [];
  const offset = Math.floor(random() * potential.length);
  const wanted = numCandidates(potential.length);
  const nonViolating: Candidate[] = [], violating: Candidate[] = [];
  for (let i = 0; i < potential.length; i++) {
    const node = potential[(offset + i) % potential.length];
    const r = selectVictimsOnNode(state, node, pdbs, now);
    if (!r.status && r.victims.length > 0) {
      const c = { nodeName: node.name, victims: r.victims, numPDBViolations: r.numPDBViolations };
      const list = r.numPDBViolations === 0 ? nonViolating : violating;
      if (list.length < wanted) list.push(c);
      if (nonViolating.length > 0 && nonViolating.length + violating.length >= wanted) break;
      continue;
    }
    statuses.set(
      node.name,
      r.status ?? newStatus(Code.Error, NAME, `expected at least one victim pod on node "${node.name}"`),
    );
  }
  const candidates = [...nonViolating, ...violating];
  const best = pickOneNodeForPreemption(candidates, now);
  if (!best) {
    return {
      code: Code.Unschedulable,
      message: `preemption: ${notHelpful(allNodes.length, statuses)}`,
      nominatedNodeName: "",
    };
  }
  return {
    code: Code.Success,
    message: "",
    nominatedNodeName: best.nodeName,
    victims: best.victims.map((v) => v.pod),
    candidate: best,
  };
}
