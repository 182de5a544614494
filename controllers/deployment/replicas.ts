/**
 * The arithmetic of a rollout, as upstream's deployment utilities do it: resolving maxSurge and
 * maxUnavailable (ints or percents; surge rounds up, unavailable down, never both zero), how far
 * the new ReplicaSet may grow, each ReplicaSet's share when a deployment is scaled mid-rollout,
 * replica counts summed over ReplicaSets, and when a rollout is complete, progressing or stuck.
 */

import type { Deployment, DeploymentStatus, ReplicaSet } from "./types.ts";
import { getDeploymentCondition, TIMED_OUT_REASON } from "./conditions.ts";
import { desiredReplicasAnnotation, maxReplicasAnnotation } from "./annotations.ts";

const MAX_INT32 = 2147483647;

/** `spec.replicas` of a deployment or ReplicaSet (the server defaults it to 1). */
export function specReplicas(obj: Deployment | ReplicaSet | undefined): number {
  return obj?.spec?.replicas ?? 1;
}

/**
 * An int-or-percent against `total`: an int as it is; `"N%"` of total, rounded up or down.
 * Throws on a string that is not a percentage, as upstream does.
 */
export function scaledValue(
  value: number | string | undefined | null,
  total: number,
  roundUp: boolean,
): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number") return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * maxSurge and maxUnavailable resolved against the desired count. When both come to zero (the
 * unavailable percent rounded down), unavailable becomes 1, so the rollout can move at all.
 */
export function resolveFenceposts(
  maxSurge: number | string | undefined | null,
  maxUnavailable: number | string | undefined | null,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function isRollingUpdate(d: Deployment): boolean {
  return d.spec?.strategy?.type === "RollingUpdate";
}

function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  try {
    return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, specReplicas(d));
  } catch {
    return { surge: 0, unavailable: 0 }; // refused by validation; upstream ignores the error
  }
}

/** How many pods above the desired count a rolling deployment may run (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** How many of the desired pods a rolling deployment may lack (0 for Recreate). */
export function maxUnavailable(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).unavailable : 0;
}

/** Sum of `spec.replicas` (what the ReplicaSets are asked to run). */
export function replicaCount(sets: Array<ReplicaSet | undefined>): number {
  return sets.reduce((n, rs) => n + (rs ? specReplicas(rs) : 0), 0);
}

/** Sum of `status.replicas` (the pods they have). */
export function actualReplicaCount(sets: Array<ReplicaSet | undefined>): number {
  return sets.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(sets: Array<ReplicaSet | undefined>): number {
  return sets.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(sets: Array<ReplicaSet | undefined>): number {
  return sets.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** ReplicaSets asked to run at least one pod. */
export function filterActive(sets: Array<ReplicaSet | undefined>): ReplicaSet[] {
  return sets.filter((rs): rs is ReplicaSet => !!rs && specReplicas(rs) > 0);
}

/**
 * How many replicas the new ReplicaSet should have next: for a rolling update, as many more as
 * the surge allows, never above the desired count; for Recreate, the desired count.
 */
export function newRSNewReplicas(
  d: Deployment,
  allRSs: Array<ReplicaSet | undefined>,
  newRS: ReplicaSet,
): number {
  const desired = specReplicas(d);
  switch (d.spec?.strategy?.type) {
    case "RollingUpdate": {
      const surge = scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge ?? 0, desired, true);
      const current = replicaCount(allRSs);
      const maxTotal = desired + surge;
      if (current >= maxTotal) return specReplicas(newRS);
      const up = Math.min(maxTotal - current, desired - specReplicas(newRS));
      return specReplicas(newRS) + up;
    }
    case "Recreate":
      return desired;
    default:
      throw new Error(`deployment type ${d.spec?.strategy?.type} isn't supported`);
  }
}

/**
 * The new ReplicaSet owns the whole deployment: it has the desired count, was told so in its
 * desired-replicas annotation, and all of them are available.
 */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const want = specReplicas(d);
  return specReplicas(rs) === want && desired === want && (rs.status?.availableReplicas ?? 0) === want;
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * This ReplicaSet's share of `toAdd` more (or fewer) replicas, given `added` handed out so far:
 * its size scaled by the deployment's new maximum over the maximum it was sized for
 * (its max-replicas annotation), bounded by what is left to hand out.
 */
export function getProportion(
  rs: ReplicaSet | undefined,
  d: Deployment,
  toAdd: number,
  added: number,
): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (specReplicas(d) === 0) return -specReplicas(rs);
  const deploymentMax = specReplicas(d) + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  const size = (specReplicas(rs) * deploymentMax) / annotated;
  return roundHalfAway(size) - specReplicas(rs);
}

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== MAX_INT32;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== MAX_INT32;
}

/** Every desired replica is updated, no old pod is left, all are available, the spec is observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const want = specReplicas(d);
  return (status.updatedReplicas ?? 0) === want &&
    (status.replicas ?? 0) === want &&
    (status.availableReplicas ?? 0) === want &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/**
 * Progress since the status the deployment has: more updated pods, fewer old pods, or more
 * available pods.
 */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/**
 * The Progressing condition is older than progressDeadlineSeconds (or already says the deadline
 * passed).
 */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getDeploymentCondition(status, "Progressing");
  if (!cond) return false;
  if (cond.reason === TIMED_OUT_REASON) return true;
  const from = Date.parse(cond.lastUpdateTime ?? "");
  if (Number.isNaN(from)) return false;
  return from + d.spec!.progressDeadlineSeconds! * 1000 < now;
}
