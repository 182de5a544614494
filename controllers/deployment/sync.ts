/**
 * The syncs besides a rollout step: status only (a deployment being deleted); scaling (a change
 * of replicas, or any change while paused); the paused and resumed conditions; telling a
 * scaling event from a rollout; and deleting old ReplicaSets beyond revisionHistoryLimit.
 */

import { isStatusError } from "../../machinery/status.ts";
import { desiredReplicasAnnotation, getRollbackTo } from "./annotations.ts";
import {
  getDeploymentCondition,
  newDeploymentCondition,
  PAUSED_DEPLOY_REASON,
  RESUMED_DEPLOY_REASON,
  setDeploymentCondition,
  TIMED_OUT_REASON,
} from "./conditions.ts";
import { getAllReplicaSetsAndSyncRevision } from "./new_replica_set.ts";
import { filterActive, hasProgressDeadline, hasRevisionHistoryLimit, specReplicas } from "./replicas.ts";
import { byRevision } from "./replica_sets.ts";
import { scale } from "./scale.ts";
import { syncDeploymentStatus } from "./status.ts";
import { type SyncContext, updateDeploymentStatus } from "./sync_context.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

/**
 * Deletes the oldest old ReplicaSets beyond revisionHistoryLimit, skipping any that still has
 * pods, is asked for pods, has not been observed at its generation, or is being deleted.
 */
export async function cleanupDeployment(
  ctx: SyncContext,
  oldRSs: ReplicaSet[],
  d: Deployment,
): Promise<void> {
  if (!hasRevisionHistoryLimit(d)) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
  const diff = cleanable.length - d.spec!.revisionHistoryLimit!;
  if (diff <= 0) return;
  cleanable.sort(byRevision);
  for (let i = 0; i < diff; i++) {
    const rs = cleanable[i];
    if (
      (rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 ||
      (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp
    ) continue;
    try {
      await ctx.replicaSets.delete(rs.metadata!.namespace!, rs.metadata!.name!);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }
}

/** Status only (a deployment being deleted). */
export async function syncStatusOnly(ctx: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  await syncDeploymentStatus(ctx, [...oldRSs, newRS], newRS, d);
}

/** A scaling event or a paused deployment: scale, clean up when paused, sync the status. */
export async function sync(ctx: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  await scale(ctx, d, newRS, oldRSs);
  if (d.spec?.paused && getRollbackTo(d) === undefined) await cleanupDeployment(ctx, oldRSs, d);
  await syncDeploymentStatus(ctx, [...oldRSs, newRS], newRS, d);
}

/**
 * Marks a paused deployment Progressing=Unknown (DeploymentPaused), and a resumed one
 * DeploymentResumed, so that time spent paused never counts against the progress deadline.
 */
export async function checkPausedConditions(ctx: SyncContext, d: Deployment): Promise<void> {
  if (!hasProgressDeadline(d)) return;
  const cond = getDeploymentCondition(d.status, "Progressing");
  if (cond?.reason === TIMED_OUT_REASON) return; // a reported lack of progress stays
  const pausedCondExists = cond?.reason === PAUSED_DEPLOY_REASON;
  let condition;
  if (d.spec?.paused && !pausedCondExists) {
    condition = newDeploymentCondition(
      "Progressing",
      "Unknown",
      PAUSED_DEPLOY_REASON,
      "Deployment is paused",
      ctx.now(),
    );
  } else if (!d.spec?.paused && pausedCondExists) {
    condition = newDeploymentCondition(
      "Progressing",
      "Unknown",
      RESUMED_DEPLOY_REASON,
      "Deployment is resumed",
      ctx.now(),
    );
  }
  if (!condition) return;
  setDeploymentCondition(d.status ??= {}, condition);
  await updateDeploymentStatus(ctx, d);
}

/**
 * The deployment's replicas changed: some active ReplicaSet was sized for another desired count
 * (its desired-replicas annotation).
 */
export async function isScalingEvent(
  ctx: SyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  for (const rs of filterActive([...oldRSs, newRS])) {
    const desired = desiredReplicasAnnotation(rs);
    if (desired === undefined) continue;
    if (desired !== specReplicas(d)) return true;
  }
  return false;
}
