/**
 * The Recreate strategy: scale every old ReplicaSet to zero, wait until none of their pods is
 * left running, and only then create (or scale up) the new ReplicaSet.
 */

import type { ReconcileResult } from "../framework/controller.ts";
import { syncRolloutStatus } from "./progress.ts";
import { actualReplicaCount, deploymentComplete, filterActive, specReplicas } from "./replicas.ts";
import { getAllReplicaSetsAndSyncRevision } from "./new_replica_set.ts";
import { scaleReplicaSetAndRecordEvent } from "./scale.ts";
import { cleanupDeployment } from "./sync.ts";
import type { SyncContext } from "./sync_context.ts";
import type { Deployment, Pod, ReplicaSet } from "./types.ts";

/** Pods by the uid of the ReplicaSet that controls them. */
export type PodMap = Map<string, Pod[]>;

export async function rolloutRecreate(
  ctx: SyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
  podMap: PodMap,
): Promise<ReconcileResult> {
  // The new ReplicaSet is not created yet: nothing may scale up before the old ones are down.
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  let allRSs = [...oldRSs, newRS];

  if (await scaleDownOldReplicaSetsForRecreate(ctx, filterActive(oldRSs), d)) {
    return await syncRolloutStatus(ctx, allRSs, newRS, d);
  }
  if (oldPodsRunning(newRS, oldRSs, podMap)) return await syncRolloutStatus(ctx, allRSs, newRS, d);

  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }
  await scaleReplicaSetAndRecordEvent(ctx, newRS!, specReplicas(d), d);
  if (deploymentComplete(d, d.status ?? {})) await cleanupDeployment(ctx, oldRSs, d);
  return await syncRolloutStatus(ctx, allRSs, newRS, d);
}

async function scaleDownOldReplicaSetsForRecreate(
  ctx: SyncContext,
  oldRSs: ReplicaSet[],
  d: Deployment,
): Promise<boolean> {
  let scaled = false;
  for (const rs of oldRSs) {
    if (specReplicas(rs) === 0) continue;
    if ((await scaleReplicaSetAndRecordEvent(ctx, rs, 0, d)).scaled) scaled = true;
  }
  return scaled;
}

/**
 * Old ReplicaSets still report pods, or some pod of theirs is not yet Succeeded or Failed
 * (a pod in phase Unknown might still run, so it counts).
 */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase !== "Failed" && phase !== "Succeeded") return true;
    }
  }
  return false;
}
