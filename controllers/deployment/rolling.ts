/**
 * The RollingUpdate strategy: grow the new ReplicaSet as far as maxSurge allows, shrink old
 * ones as far as maxUnavailable allows (unhealthy old replicas first, since removing them costs
 * no availability), one step per sync; old ReplicaSets beyond the history limit are deleted once
 * the rollout is complete.
 */

import type { ReconcileResult } from "../framework/controller.ts";
import { syncRolloutStatus } from "./progress.ts";
import {
  availableReplicaCount,
  deploymentComplete,
  filterActive,
  maxUnavailable,
  newRSNewReplicas,
  replicaCount,
  specReplicas,
} from "./replicas.ts";
import { byCreationTimestamp } from "./replica_sets.ts";
import { getAllReplicaSetsAndSyncRevision } from "./new_replica_set.ts";
import { scaleReplicaSetAndRecordEvent } from "./scale.ts";
import { cleanupDeployment } from "./sync.ts";
import type { SyncContext } from "./sync_context.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

export async function rolloutRolling(
  ctx: SyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
): Promise<ReconcileResult> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  const allRSs = [...oldRSs, newRS!];

  if (await reconcileNewReplicaSet(ctx, allRSs, newRS!, d)) {
    return await syncRolloutStatus(ctx, allRSs, newRS, d);
  }
  if (await reconcileOldReplicaSets(ctx, allRSs, filterActive(oldRSs), newRS!, d)) {
    return await syncRolloutStatus(ctx, allRSs, newRS, d);
  }
  if (deploymentComplete(d, d.status ?? {})) await cleanupDeployment(ctx, oldRSs, d);
  return await syncRolloutStatus(ctx, allRSs, newRS, d);
}

/** Scales the new ReplicaSet toward the desired count within the surge; answers whether it scaled. */
async function reconcileNewReplicaSet(
  ctx: SyncContext,
  allRSs: ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  const desired = specReplicas(d);
  if (specReplicas(newRS) === desired) return false;
  if (specReplicas(newRS) > desired) {
    return (await scaleReplicaSetAndRecordEvent(ctx, newRS, desired, d)).scaled;
  }
  const count = newRSNewReplicas(d, allRSs, newRS);
  return (await scaleReplicaSetAndRecordEvent(ctx, newRS, count, d)).scaled;
}

/**
 * Scales old ReplicaSets down as far as availability allows. At most
 * `all - minAvailable - newUnavailable` go: the new ReplicaSet's unavailable pods are counted as
 * lost already, so a new template that never becomes ready cannot drain the old one.
 */
async function reconcileOldReplicaSets(
  ctx: SyncContext,
  allRSs: ReplicaSet[],
  oldRSs: ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  if (replicaCount(oldRSs) === 0) return false;
  const allPods = replicaCount(allRSs);
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  let cleaned: { oldRSs: ReplicaSet[]; count: number };
  try {
    cleaned = await cleanupUnhealthyReplicas(ctx, oldRSs, d, maxScaledDown);
  } catch {
    return false; // as upstream: the next sync tries again
  }
  let scaledDown = 0;
  try {
    scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(
      ctx,
      [...cleaned.oldRSs, newRS],
      cleaned.oldRSs,
      d,
    );
  } catch {
    return false;
  }
  return cleaned.count + scaledDown > 0;
}

/** Scales old ReplicaSets down by their unavailable replicas (oldest first), up to `maxCleanup`. */
async function cleanupUnhealthyReplicas(
  ctx: SyncContext,
  oldRSs: ReplicaSet[],
  d: Deployment,
  maxCleanup: number,
): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
  const sets = [...oldRSs].sort(byCreationTimestamp);
  let total = 0;
  for (let i = 0; i < sets.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sets[i];
    const replicas = specReplicas(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const count = Math.min(maxCleanup - total, replicas - available);
    const target = replicas - count;
    if (target > replicas) {
      throw new Error(
        `when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata?.namespace}/${rs.metadata?.name} ${replicas} -> ${target}`,
      );
    }
    sets[i] = (await scaleReplicaSetAndRecordEvent(ctx, rs, target, d)).rs;
    total += count;
  }
  return { oldRSs: sets, count: total };
}

/** Scales old ReplicaSets down (oldest first) by what is available above minAvailable. */
async function scaleDownOldReplicaSetsForRollingUpdate(
  ctx: SyncContext,
  allRSs: ReplicaSet[],
  oldRSs: ReplicaSet[],
  d: Deployment,
): Promise<number> {
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const sets = [...oldRSs].sort(byCreationTimestamp);
  const want = available - minAvailable;
  let total = 0;
  for (const rs of sets) {
    if (total >= want) break;
    const replicas = specReplicas(rs);
    if (replicas === 0) continue;
    const count = Math.min(replicas, want - total);
    await scaleReplicaSetAndRecordEvent(ctx, rs, replicas - count, d);
    total += count;
  }
  return total;
}
