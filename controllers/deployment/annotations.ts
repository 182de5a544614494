/**
 * The annotations a deployment and its ReplicaSets carry: the revision (the rollout sequence),
 * the revision history of a ReplicaSet rolled back to, the desired and maximum replica counts a
 * ReplicaSet was sized for, and the deployment's own annotations (e.g. `kubernetes.io/change-cause`)
 * copied onto its new ReplicaSet.
 */

import { maxSurge as maxSurgeOf } from "./replicas.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

/** The rollout sequence number of a ReplicaSet (and the deployment's latest). */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** The earlier revisions a ReplicaSet served before it was rolled back to. */
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
/** The deployment's replicas when this ReplicaSet was last sized. */
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
/** The deployment's replicas + maxSurge when this ReplicaSet was last sized. */
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
/** The old API's rollback request (`extensions/v1beta1` rollbackTo), as apps/v1 keeps it. */
export const DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to";
export const LAST_APPLIED_CONFIG_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
/** The label that tells a deployment's ReplicaSets (and their pods) apart. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";

/** Upstream keeps the revision history to about 100 entries. */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;

const ANNOTATIONS_TO_SKIP = new Set([
  LAST_APPLIED_CONFIG_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO,
]);

/** Annotations that stay with their object: never copied between a deployment and its ReplicaSets. */
export function skipCopyAnnotation(key: string): boolean {
  return ANNOTATIONS_TO_SKIP.has(key);
}

/** Go's strconv.ParseInt(s, 10, 64) as far as revisions need it. */
function parseInt64(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** Go's strconv.Atoi. */
function atoi(s: string | undefined): number | undefined {
  return s === undefined ? undefined : parseInt64(s);
}

/**
 * The revision of an object: 0 without the annotation; undefined when it is not a number (such
 * objects are skipped when revisions are compared).
 */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number | undefined {
  const v = obj.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined) return 0;
  return parseInt64(v);
}

/** The highest revision among the ReplicaSets. */
export function maxRevision(sets: Array<ReplicaSet | undefined>): number {
  let max = 0;
  for (const rs of sets) {
    if (!rs) continue;
    const v = revisionOf(rs);
    if (v !== undefined && v > max) max = v;
  }
  return max;
}

/** The second highest revision (the one before the current): where a rollback with revision 0 goes. */
export function lastRevision(sets: Array<ReplicaSet | undefined>): number {
  let max = 0;
  let second = 0;
  for (const rs of sets) {
    if (!rs) continue;
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (v >= max) {
      second = max;
      max = v;
    } else if (v > second) second = v;
  }
  return second;
}

function annotationsOf(obj: { metadata?: { annotations?: Record<string, string> } }): Record<string, string> {
  const meta = (obj.metadata ??= {});
  return (meta.annotations ??= {});
}

/** Sets the deployment's revision annotation; answers whether it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const a = annotationsOf(d);
  if (a[REVISION_ANNOTATION] === revision) return false;
  a[REVISION_ANNOTATION] = revision;
  return true;
}

/** Copies the deployment's annotations (all but the skipped ones) onto the ReplicaSet; answers whether any changed. */
function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  const to = annotationsOf(rs);
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (skipCopyAnnotation(k) || to[k] === v) continue;
    to[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * Brings the new ReplicaSet's annotations up to date: the deployment's annotations copied; the
 * revision raised to `newRevision` when lower (a ReplicaSet rolled back to keeps the revisions it
 * had in its revision history, cut from the front to `historyLimitChars`); and, for a ReplicaSet
 * about to be created, the replica annotations. Answers whether anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: string,
  exists: boolean,
  historyLimitChars = MAX_REV_HISTORY_LENGTH_IN_CHARS,
): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const a = annotationsOf(rs);
  const had = REVISION_ANNOTATION in a;
  const oldRevision = a[REVISION_ANNOTATION] ?? "";
  let oldRevisionInt = parseInt64(oldRevision);
  if (oldRevisionInt === undefined) {
    if (oldRevision !== "") return false; // not a number: left alone, as upstream does
    oldRevisionInt = 0;
  }
  const newRevisionInt = parseInt64(newRevision);
  if (newRevisionInt === undefined) return false;
  if (oldRevisionInt < newRevisionInt) {
    a[REVISION_ANNOTATION] = newRevision;
    changed = true;
    if (had) {
      const history = a[REVISION_HISTORY_ANNOTATION] ?? "";
      const oldRevisions = history.split(",");
      if (oldRevisions[0].length === 0) {
        a[REVISION_HISTORY_ANNOTATION] = oldRevision;
      } else {
        let total = history.length + oldRevision.length + 1;
        let start = 0;
        while (total > historyLimitChars && start < oldRevisions.length) {
          total -= oldRevisions[start].length + 1;
          start++;
        }
        if (total <= historyLimitChars) {
          a[REVISION_HISTORY_ANNOTATION] = [...oldRevisions.slice(start), oldRevision].join(",");
        }
      }
    }
  }
  if (!exists) {
    const desired = d.spec?.replicas ?? 1;
    if (setReplicasAnnotations(rs, desired, desired + maxSurgeOf(d))) changed = true;
  }
  return changed;
}

/** Records the desired and maximum replicas on the ReplicaSet; answers whether either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = annotationsOf(rs);
  let changed = false;
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return atoi(rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION]);
}

export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return atoi(rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION]);
}

/**
 * On a rollback, the deployment takes the annotations of the ReplicaSet it rolls back to (its
 * own skipped ones kept).
 */
export function setDeploymentAnnotationsTo(d: Deployment, rs: ReplicaSet): void {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (skipCopyAnnotation(k)) kept[k] = v;
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) {
    if (!skipCopyAnnotation(k)) kept[k] = v;
  }
  (d.metadata ??= {}).annotations = kept;
}

/** The revision a deprecated rollback request asks for (0: the previous one), or undefined. */
export function getRollbackTo(d: Deployment): number | undefined {
  const v = d.metadata?.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (!v) return undefined;
  return parseInt64(v);
}

export function clearRollbackTo(d: Deployment): void {
  delete d.metadata?.annotations?.[DEPRECATED_ROLLBACK_TO];
}
