/**
 * Scaling a deployment's ReplicaSets: one at a time with a ScalingReplicaSet event
 * ("Scaled up replica set web-abc to 3 from 1"), each write also recording the deployment's
 * desired and maximum counts in the ReplicaSet's annotations; and, for a change of the
 * deployment's replicas mid-rollout, sharing the difference out in proportion.
 */

import { replicasAnnotationsNeedUpdate, setReplicasAnnotations } from "./annotations.ts";
import {
  filterActive,
  getProportion,
  isRollingUpdate,
  isSaturated,
  maxSurge,
  replicaCount,
  specReplicas,
} from "./replicas.ts";
import { bySizeNewer, bySizeOlder, findActiveOrLatest } from "./replica_sets.ts";
import type { SyncContext } from "./sync_context.ts";
import type { Deployment, ReplicaSet } from "./types.ts";
import { clone } from "../../machinery/object_meta.ts";

/**
 * Scales for a change of the deployment's replicas (or while it is paused): the one active
 * ReplicaSet takes the whole count; a saturated new one leaves the old ones nothing; otherwise,
 * for a rolling update, the difference is shared out in proportion to each ReplicaSet's size
 * (largest first; scaling up newer first, down older first), leftovers to the largest.
 */
export async function scale(
  ctx: SyncContext,
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): Promise<void> {
  const desired = specReplicas(d);
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    if (specReplicas(activeOrLatest) === desired) return;
    await scaleReplicaSetAndRecordEvent(ctx, activeOrLatest, desired, d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of filterActive(oldRSs)) await scaleReplicaSetAndRecordEvent(ctx, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;

  const allRSs = filterActive([...oldRSs, newRS]);
  const allowedSize = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowedSize - replicaCount(allRSs);
  let operation = "";
  if (toAdd > 0) {
    allRSs.sort(bySizeNewer);
    operation = "up";
  } else if (toAdd < 0) {
    allRSs.sort(bySizeOlder);
    operation = "down";
  }
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of allRSs) {
    if (toAdd !== 0) {
      const proportion = getProportion(rs, d, toAdd, added);
      sizes.set(rs.metadata!.name!, specReplicas(rs) + proportion);
      added += proportion;
    } else {
      sizes.set(rs.metadata!.name!, specReplicas(rs));
    }
  }
  for (let i = 0; i < allRSs.length; i++) {
    const rs = allRSs[i];
    const name = rs.metadata!.name!;
    if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, sizes.get(name)! + toAdd - added));
    await scaleReplicaSet(ctx, rs, sizes.get(name)!, d, operation);
  }
}

/** Scales `rs` to `newScale` (and records the event); answers whether it scaled and the ReplicaSet now. */
export async function scaleReplicaSetAndRecordEvent(
  ctx: SyncContext,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  if (specReplicas(rs) === newScale) return { scaled: false, rs };
  return await scaleReplicaSet(ctx, rs, newScale, d, specReplicas(rs) < newScale ? "up" : "down");
}

/**
 * Writes `rs` with `newScale` replicas and the deployment's current desired and maximum counts
 * in its annotations, when either differs; a change of size is reported as ScalingReplicaSet.
 */
export async function scaleReplicaSet(
  ctx: SyncContext,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
  operation: string,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const desired = specReplicas(d);
  const max = desired + maxSurge(d);
  const oldScale = specReplicas(rs);
  const sizeNeedsUpdate = oldScale !== newScale;
  if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
  const copy = clone(rs);
  copy.spec!.replicas = newScale;
  setReplicasAnnotations(copy, desired, max);
  const saved = await ctx.replicaSets.update(copy.metadata!.namespace!, copy);
  if (sizeNeedsUpdate) {
    ctx.recorder.event(
      d,
      "Normal",
      "ScalingReplicaSet",
      `Scaled ${operation} replica set ${saved.metadata?.name} to ${newScale} from ${oldScale}`,
    );
  }
  return { scaled: sizeNeedsUpdate, rs: saved };
}
