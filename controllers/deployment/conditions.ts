/**
 * A deployment's conditions (Available, Progressing, ReplicaFailure) and their reasons, as
 * upstream names them. Setting a condition that already holds with the same status and reason
 * changes nothing; a change of reason keeps the transition time while the status holds.
 */

import { rfc3339 } from "../../machinery/object_meta.ts";
import type { DeploymentCondition, DeploymentStatus, ReplicaSetCondition } from "./types.ts";

// Progressing
/** One of the deployment's ReplicaSets was updated as part of the rollout. */
export const REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated";
/** The new ReplicaSet could not be created. */
export const FAILED_RS_CREATE_REASON = "ReplicaSetCreateError";
/** The new ReplicaSet was created. */
export const NEW_REPLICA_SET_REASON = "NewReplicaSetCreated";
/** The new ReplicaSet already existed (adopted, or the controller restarted). */
export const FOUND_NEW_RS_REASON = "FoundNewReplicaSet";
/** The rollout finished: every desired replica is updated and available. */
export const NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable";
/** No progress within progressDeadlineSeconds. */
export const TIMED_OUT_REASON = "ProgressDeadlineExceeded";
export const PAUSED_DEPLOY_REASON = "DeploymentPaused";
export const RESUMED_DEPLOY_REASON = "DeploymentResumed";
// Available
export const MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable";
export const MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable";

export type ConditionStatus = "True" | "False" | "Unknown";

export function newDeploymentCondition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  now: number = Date.now(),
): DeploymentCondition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getDeploymentCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * Puts `condition` in place of the one of its type, unless that one has the same status and
 * reason; the transition time is kept while the status does not change.
 */
export function setDeploymentCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getDeploymentCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  const kept = (status.conditions ?? []).filter((c) => c.type !== type);
  if (kept.length) status.conditions = kept;
  else delete status.conditions;
}

/** A ReplicaSet's condition as a deployment's (ReplicaFailure is passed up). */
export function replicaSetToDeploymentCondition(cond: ReplicaSetCondition): DeploymentCondition {
  return {
    type: cond.type,
    status: cond.status,
    lastTransitionTime: cond.lastTransitionTime,
    lastUpdateTime: cond.lastTransitionTime,
    reason: cond.reason,
    message: cond.message,
  };
}
