/**
 * The status of a deployment during a rollout: besides the counts, the Progressing condition
 * (NewReplicaSetAvailable once complete, ReplicaSetUpdated while progress is made,
 * ProgressDeadlineExceeded once none was made for progressDeadlineSeconds) and ReplicaFailure
 * passed up from the ReplicaSets. A rollout not yet complete is looked at again when its deadline
 * would pass.
 */

import type { ReconcileResult } from "../framework/controller.ts";
import {
  getDeploymentCondition,
  NEW_RS_AVAILABLE_REASON,
  newDeploymentCondition,
  removeDeploymentCondition,
  REPLICA_SET_UPDATED_REASON,
  replicaSetToDeploymentCondition,
  setDeploymentCondition,
  TIMED_OUT_REASON,
} from "./conditions.ts";
import {
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  hasProgressDeadline,
} from "./replicas.ts";
import { calculateStatus, sameStatus } from "./status.ts";
import { type SyncContext, updateDeploymentStatus } from "./sync_context.ts";
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from "./types.ts";

/** Computes and writes the rollout status; answers when to look again for a progress check. */
export async function syncRolloutStatus(
  ctx: SyncContext,
  allRSs: Array<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
): Promise<ReconcileResult> {
  const now = ctx.now();
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeDeploymentCondition(status, "Progressing");

  const current = getDeploymentCondition(d.status, "Progressing");
  const isCompleteDeployment = status.replicas === status.updatedReplicas &&
    current?.reason === NEW_RS_AVAILABLE_REASON;
  if (hasProgressDeadline(d) && !isCompleteDeployment) {
    const subject = newRS
      ? `ReplicaSet ${JSON.stringify(newRS.metadata?.name)}`
      : `Deployment ${JSON.stringify(d.metadata?.name)}`;
    if (deploymentComplete(d, status)) {
      setDeploymentCondition(
        status,
        newDeploymentCondition(
          "Progressing",
          "True",
          NEW_RS_AVAILABLE_REASON,
          `${subject} has successfully progressed.`,
          now,
        ),
      );
    } else if (deploymentProgressing(d, status)) {
      // Progress moves lastUpdateTime even when the reason stays; the transition time holds while True.
      const condition = newDeploymentCondition(
        "Progressing",
        "True",
        REPLICA_SET_UPDATED_REASON,
        `${subject} is progressing.`,
        now,
      );
      if (current) {
        if (current.status === "True") condition.lastTransitionTime = current.lastTransitionTime;
        removeDeploymentCondition(status, "Progressing");
      }
      setDeploymentCondition(status, condition);
    } else if (deploymentTimedOut(d, status, now)) {
      setDeploymentCondition(
        status,
        newDeploymentCondition(
          "Progressing",
          "False",
          TIMED_OUT_REASON,
          `${subject} has timed out progressing.`,
          now,
        ),
      );
    }
  }

  const failure = replicaFailures(allRSs, newRS)[0];
  if (failure) setDeploymentCondition(status, failure);
  else removeDeploymentCondition(status, "ReplicaFailure");

  if (sameStatus(d.status, status)) return requeueStuckDeployment(d, status, now);
  d.status = status;
  await updateDeploymentStatus(ctx, d);
}

/** ReplicaFailure conditions of the new ReplicaSet, else of the others. */
function replicaFailures(
  allRSs: Array<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
): DeploymentCondition[] {
  const of = (rs: ReplicaSet | undefined) =>
    (rs?.status?.conditions ?? []).filter((c) => c.type === "ReplicaFailure").map(
      replicaSetToDeploymentCondition,
    );
  const fromNew = of(newRS);
  if (fromNew.length) return fromNew;
  return allRSs.flatMap(of);
}

/**
 * When a rollout with a deadline shows no progress, it must be looked at again when the
 * deadline passes (lastUpdateTime + progressDeadlineSeconds), or it would never time out.
 */
export function requeueStuckDeployment(
  d: Deployment,
  status: DeploymentStatus,
  now: number,
): ReconcileResult {
  const current = getDeploymentCondition(d.status, "Progressing");
  if (!hasProgressDeadline(d) || !current) return;
  if (deploymentComplete(d, status) || current.reason === TIMED_OUT_REASON) return;
  const from = Date.parse(current.lastUpdateTime ?? "");
  if (Number.isNaN(from)) return;
  const after = from + d.spec!.progressDeadlineSeconds! * 1000 - now;
  // Less than a second left: look again soon; otherwise a second after, against clock skew.
  if (after < 1000) return { requeueAfterMs: Math.max(after, 0) + 100 };
  return { requeueAfterMs: after + 1000 };
}
