/**
 * How many pods a PodDisruptionBudget expects, and how many must stay healthy, as upstream's
 * disruption controller works them out: an integer `minAvailable` counts the selected pods
 * themselves; a percentage, or any `maxUnavailable`, scales against the replicas of the pods'
 * controllers (ReplicationController, Deployment, ReplicaSet, StatefulSet, or anything with a
 * `scale` subresource), each counted once.
 */

import type { OwnerReference, Pod, PodDisruptionBudget } from "../types.ts";
import { controllerRef } from "../pods.ts";

/** A controller of some selected pods and its desired replicas. */
export interface ControllerScale {
  uid: string;
  scale: number;
}

/** Finds the scale of the controller a pod's controller reference names; undefined if not this kind. */
export type ControllerFinder = (
  ref: OwnerReference,
  namespace: string,
) => Promise<ControllerScale | undefined>;

export interface ExpectedCount {
  expectedCount: number;
  desiredHealthy: number;
  /** Names of selected pods without a controller. */
  unmanagedPods: string[];
}

/**
 * `value` of an int-or-percent against `total`, rounding up a percentage as upstream does for
 * PodDisruptionBudgets.
 */
export function scaledValue(value: number | string, total: number): number {
  if (typeof value === "number") return value;
  if (!value.endsWith("%")) {
    throw new Error("invalid value for IntOrString: invalid type: string is not a percentage");
  }
  const percent = Number(value.slice(0, -1));
  if (!Number.isInteger(percent)) throw new Error(`invalid value "${value}": not an integer percentage`);
  return Math.ceil((percent * total) / 100);
}

/** The expected pod count and desired healthy count of `pdb` over its selected `pods`. */
export async function expectedPodCount(
  pdb: PodDisruptionBudget,
  pods: Pod[],
  finders: ControllerFinder[],
): Promise<ExpectedCount> {
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const { expectedCount, unmanagedPods } = await expectedScale(pods, finders);
    const unavailable = scaledValue(maxUnavailable, expectedCount);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - unavailable), unmanagedPods };
  }
  if (typeof minAvailable === "number") {
    return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanagedPods: [] };
  }
  if (typeof minAvailable === "string") {
    const { expectedCount, unmanagedPods } = await expectedScale(pods, finders);
    return { expectedCount, desiredHealthy: scaledValue(minAvailable, expectedCount), unmanagedPods };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/** The sum of the replicas of the pods' controllers; fails if a managed pod's controller is not found. */
async function expectedScale(
  pods: Pod[],
  finders: ControllerFinder[],
): Promise<{ expectedCount: number; unmanagedPods: string[] }> {
  const scales = new Map<string, number>();
  const unmanagedPods: string[] = [];
  for (const pod of pods) {
    const ref = controllerRef(pod);
    if (!ref) {
      unmanagedPods.push(pod.metadata?.name ?? "");
      continue;
    }
    if (scales.has(ref.uid)) continue;
    let found: ControllerScale | undefined;
    for (const finder of finders) {
      found = await finder(ref, pod.metadata?.namespace ?? "");
      if (found) break;
    }
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name}"`);
    scales.set(found.uid, found.scale);
  }
  let expectedCount = 0;
  for (const s of scales.values()) expectedCount += s;
  return { expectedCount, unmanagedPods };
}

/** The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}
