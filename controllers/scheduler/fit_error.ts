/**
 * Why a pod fits nowhere (`FitError`) and the message kube-scheduler puts in the
 * `FailedScheduling` event and the PodScheduled condition:
 * `0/N nodes are available: <PreFilter msg>. <count reason>, …. <PostFilter msg>`, the per-node
 * reasons counted over nodes and sorted as strings.
 */

import type { NodeToStatus } from "./status.ts";
import type { Pod } from "./types.ts";

export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod somewhere (for requeueing on relevant events). */
  unschedulablePlugins: Set<string>;
  /** The PreFilter rejection, when the cycle ended there. */
  preFilterMsg: string;
  /** What preemption said ("preemption: …"), empty when it nominated a node. */
  postFilterMsg: string;
}

export interface FitError {
  pod?: Pod;
  numAllNodes: number;
  diagnosis: Diagnosis;
}

/** The reasons of every node, counted ("2 Insufficient cpu") and sorted. */
export function reasonHistogram(numAllNodes: number, statuses: NodeToStatus): string[] {
  const counts = new Map<string, number>();
  for (const [, s] of statuses.entries()) {
    for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const absent = numAllNodes - statuses.size;
  if (absent > 0) {
    for (const r of statuses.absentNodesStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
  }
  return [...counts].map(([r, n]) => `${n} ${r}`).sort();
}

/** The message of a fit error, as upstream words it. */
export function fitErrorMessage(e: FitError): string {
  let msg = `0/${e.numAllNodes} nodes are available:`;
  const d = e.diagnosis;
  if (d.preFilterMsg) msg += ` ${d.preFilterMsg}.`;
  else {
    const parts = reasonHistogram(e.numAllNodes, d.nodeToStatus);
    if (parts.length) msg += ` ${parts.join(", ")}.`;
  }
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg}`;
  return msg;
}
