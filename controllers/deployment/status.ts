/**
 * A deployment's status as its ReplicaSets make it: replicas, updated, ready, available and
 * unavailable counts summed, the observed generation, the collision count, and the Available
 * condition (MinimumReplicasAvailable when at least replicas - maxUnavailable are available).
 */

import { jsonEqual } from "../../machinery/object_meta.ts";
import {
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  newDeploymentCondition,
  setDeploymentCondition,
} from "./conditions.ts";
import {
  actualReplicaCount,
  availableReplicaCount,
  maxUnavailable,
  readyReplicaCount,
  replicaCount,
  specReplicas,
} from "./replicas.ts";
import { type SyncContext, updateDeploymentStatus } from "./sync_context.ts";
import type { Deployment, DeploymentStatus, ReplicaSet } from "./types.ts";

/** The status the ReplicaSets make: counts summed, Available set by minimum availability. */
export function calculateStatus(
  allRSs: Array<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
  now: number = Date.now(),
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined && d.status.collisionCount !== null) {
    status.collisionCount = d.status.collisionCount;
  }
  if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setDeploymentCondition(
      status,
      newDeploymentCondition(
        "Available",
        "True",
        MINIMUM_REPLICAS_AVAILABLE,
        "Deployment has minimum availability.",
        now,
      ),
    );
  } else {
    setDeploymentCondition(
      status,
      newDeploymentCondition(
        "Available",
        "False",
        MINIMUM_REPLICAS_UNAVAILABLE,
        "Deployment does not have minimum availability.",
        now,
      ),
    );
  }
  return status;
}

const COUNTS = [
  "observedGeneration",
  "replicas",
  "updatedReplicas",
  "readyReplicas",
  "availableReplicas",
  "unavailableReplicas",
  "terminatingReplicas",
] as const;

/** Equal statuses, counts of 0 and absent ones taken as the same (the server leaves zeros out). */
export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  for (const k of COUNTS) if ((a?.[k] ?? 0) !== (b?.[k] ?? 0)) return false;
  if ((a?.collisionCount ?? undefined) !== (b?.collisionCount ?? undefined)) return false;
  return jsonEqual(a?.conditions ?? [], b?.conditions ?? []);
}

/** Writes the calculated status when it differs from the deployment's. */
export async function syncDeploymentStatus(
  ctx: SyncContext,
  allRSs: Array<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
): Promise<void> {
  const status = calculateStatus(allRSs, newRS, d, ctx.now());
  if (sameStatus(d.status, status)) return;
  d.status = status;
  await updateDeploymentStatus(ctx, d);
}
