/**
 * The DaemonSet rolling update, as upstream plans it (the pods it deletes and the nodes it makes
 * new pods on; the manage loop does the rest):
 *
 * - Without surge: old pods are deleted while fewer than `maxUnavailable` nodes are unavailable
 *   (a node counts as unavailable when its new pod is not yet available, when it has no pod or
 *   two, or when its old pod is itself unavailable — such old pods are replaced at once).
 * - With surge: a new pod is made beside the old one on up to `maxSurge` nodes at a time (at once
 *   where the old pod is unavailable), and the old pod is deleted when the new one is available.
 *
 * Nodes are visited by name, so the plan is the same for the same world.
 */

import { isPodAvailable } from "../pods.ts";
import type { DaemonSet, Node, Pod } from "../types.ts";
import { isPodUpdated, surgeCount, templateGeneration, unavailableCount } from "./daemon_pods.ts";
import { nodeShouldRunDaemonPod } from "./placement.ts";

/** Daemon pods by the node they are for. */
export type NodeToDaemonPods = Map<string, Pod[]>;

/**
 * The one new and one old pod on a node (not counting pods being deleted); `ok` is false when
 * there are more than one of either (the manage loop prunes them first).
 */
export function findUpdatedPodsOnNode(
  ds: DaemonSet,
  pods: Pod[],
  hash: string,
): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  const generation = templateGeneration(ds);
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, ok: true };
}

/**
 * The surge and unavailability allowed, and the number of nodes that should run the daemon;
 * every such node gets an entry (empty when it has no pod). Both zero means one unavailable.
 */
export function updatedDesiredNodeCounts(
  ds: DaemonSet,
  nodes: Node[],
  nodeToDaemonPods: NodeToDaemonPods,
): { maxSurge: number; maxUnavailable: number; desiredNumberScheduled: number } {
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
    desired++;
    const name = node.metadata?.name ?? "";
    if (!nodeToDaemonPods.has(name)) nodeToDaemonPods.set(name, []);
  }
  let maxUnavailable = unavailableCount(ds, desired);
  const maxSurge = surgeCount(ds, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable, desiredNumberScheduled: desired };
}

export interface RollingUpdatePlan {
  podsToDelete: Pod[];
  nodesToCreate: string[];
}

/** What the rolling update does next; `nodeToDaemonPods` gains entries for empty nodes. */
export function planRollingUpdate(
  ds: DaemonSet,
  nodes: Node[],
  nodeToDaemonPods: NodeToDaemonPods,
  hash: string,
  now = Date.now(),
): RollingUpdatePlan {
  const { maxSurge, maxUnavailable, desiredNumberScheduled } = updatedDesiredNodeCounts(
    ds,
    nodes,
    nodeToDaemonPods,
  );
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const available = (p: Pod) => isPodAvailable(p, minReady, now);
  const entries = [...nodeToDaemonPods].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  if (maxSurge === 0) {
    let numUnavailable = 0;
    const allowedReplacements: Pod[] = [];
    const candidates: Pod[] = [];
    for (const [, pods] of entries) {
      const { newPod, oldPod, ok } = findUpdatedPodsOnNode(ds, pods, hash);
      if (!ok) {
        numUnavailable++;
        continue;
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
      else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (!available(oldPod!)) {
        allowedReplacements.push(oldPod!);
        numUnavailable++;
      } else if (numUnavailable < maxUnavailable) {
        candidates.push(oldPod!);
      }
    }
    const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
    return { podsToDelete: [...allowedReplacements, ...candidates.slice(0, remaining)], nodesToCreate: [] };
  }

  const byName = new Map(nodes.map((n) => [n.metadata?.name ?? "", n]));
  const shouldRun = (nodeName: string) => {
    const node = byName.get(nodeName);
    return !!node && nodeShouldRunDaemonPod(node, ds).shouldRun;
  };
  const oldPodsToDelete: Pod[] = [];
  const shouldNotRunPodsToDelete: Pod[] = [];
  const candidateNewNodes: string[] = [];
  const allowedNewNodes: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const [nodeName, pods] of entries) {
    const { newPod, oldPod, ok } = findUpdatedPodsOnNode(ds, pods, hash);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;
    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun(nodeName)) oldPodsToDelete.push(oldPod);
        else allowedNewNodes.push(nodeName);
      } else if (!shouldRun(nodeName)) {
        shouldNotRunPodsToDelete.push(oldPod);
      } else if (numSurge < maxSurge) {
        candidateNewNodes.push(nodeName);
      }
      continue;
    }
    if (!available(newPod)) {
      numSurge++;
      continue;
    }
    oldPodsToDelete.push(oldPod);
  }
  // Pods on nodes that no longer want them go only as others become available elsewhere.
  const deletable = Math.min(numAvailable - desiredNumberScheduled, shouldNotRunPodsToDelete.length);
  if (deletable > 0) oldPodsToDelete.push(...shouldNotRunPodsToDelete.slice(0, deletable));
  const remainingSurge = Math.min(Math.max(maxSurge - numSurge, 0), candidateNewNodes.length);
  return {
    podsToDelete: oldPodsToDelete,
    nodesToCreate: [...allowedNewNodes, ...candidateNewNodes.slice(0, remainingSurge)],
  };
}
