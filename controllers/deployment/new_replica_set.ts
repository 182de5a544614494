/**
 * The new ReplicaSet of a deployment: the one whose template is the deployment's, its revision
 * raised above every old one's (and copied to the deployment), or, when there is none yet, one
 * created as `<deployment>-<pod-template-hash>`, sized as the strategy allows. A name already
 * taken by another template is a hash collision, counted in `status.collisionCount` so the next
 * hash differs.
 */

import { isStatusError } from "../../machinery/status.ts";
import { ownerRefTo } from "../pods.ts";
import {
  maxRevision,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
} from "./annotations.ts";
import {
  FAILED_RS_CREATE_REASON,
  FOUND_NEW_RS_REASON,
  getDeploymentCondition,
  NEW_REPLICA_SET_REASON,
  newDeploymentCondition,
  setDeploymentCondition,
} from "./conditions.ts";
import { hasProgressDeadline, newRSNewReplicas } from "./replicas.ts";
import {
  cloneSelectorAndAddLabel,
  equalIgnoreHash,
  findNewReplicaSet,
  findOldReplicaSets,
} from "./replica_sets.ts";
import { type SyncContext, updateDeploymentStatus } from "./sync_context.ts";
import { computeHash } from "./template_hash.ts";
import type { Deployment, ReplicaSet } from "./types.ts";
import { clone } from "../../machinery/object_meta.ts";

export interface ReplicaSetsOf {
  /** The ReplicaSet whose template is the deployment's (undefined until created). */
  newRS: ReplicaSet | undefined;
  /** All the others. */
  oldRSs: ReplicaSet[];
}

/**
 * The new ReplicaSet (created when `create` and missing) and the old ones; the new one's
 * revision is raised above every old one's and copied to the deployment.
 */
export async function getAllReplicaSetsAndSyncRevision(
  ctx: SyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
  create: boolean,
): Promise<ReplicaSetsOf> {
  const { allOldRSs } = findOldReplicaSets(d, rsList);
  const newRS = await getNewReplicaSet(ctx, d, rsList, allOldRSs, create);
  return { newRS, oldRSs: allOldRSs };
}

/**
 * The ReplicaSet matching the deployment's template, its annotations (revision, copied
 * annotations) and minReadySeconds brought up to date; or, when there is none and `create`,
 * a new one named `<deployment>-<pod-template-hash>`, sized as the strategy allows.
 */
async function getNewReplicaSet(
  ctx: SyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
  oldRSs: ReplicaSet[],
  create: boolean,
): Promise<ReplicaSet | undefined> {
  const existing = findNewReplicaSet(d, rsList);
  const newRevision = String(maxRevision(oldRSs) + 1);
  const namespace = d.metadata!.namespace!;
  const minReadySeconds = d.spec?.minReadySeconds ?? 0;

  if (existing) {
    const copy = clone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
    if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
      copy.spec!.minReadySeconds = minReadySeconds;
      return await ctx.replicaSets.update(namespace, copy);
    }
    let needsUpdate = setDeploymentRevision(d, copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? "");
    const cond = getDeploymentCondition(d.status, "Progressing");
    if (hasProgressDeadline(d) && !cond) {
      const msg = `Found new replica set ${JSON.stringify(copy.metadata?.name)}`;
      setDeploymentCondition(
        d.status ??= {},
        newDeploymentCondition("Progressing", "True", FOUND_NEW_RS_REASON, msg, ctx.now()),
      );
      needsUpdate = true;
    }
    if (needsUpdate) await updateDeploymentStatus(ctx, d);
    return copy;
  }
  if (!create) return undefined;

  const template = clone(d.spec!.template!);
  const hash = computeHash(template, d.status?.collisionCount ?? undefined);
  (template.metadata ??= {}).labels = { ...template.metadata.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
  const name = `${d.metadata!.name}-${hash}`;
  const newRS: ReplicaSet = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace,
      ownerReferences: [ownerRefTo({ ...d, apiVersion: "apps/v1", kind: "Deployment" })],
      labels: { ...template.metadata.labels },
    },
    spec: {
      replicas: 0,
      minReadySeconds,
      selector: cloneSelectorAndAddLabel(d.spec!.selector, POD_TEMPLATE_HASH_LABEL, hash),
      template,
    },
  };
  const replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
  newRS.spec!.replicas = replicas;
  setNewReplicaSetAnnotations(d, newRS, newRevision, false);

  let created: ReplicaSet;
  let alreadyExists = false;
  try {
    created = await ctx.replicaSets.create(namespace, newRS);
  } catch (err) {
    if (isStatusError(err, "AlreadyExists")) {
      alreadyExists = true;
      const rs = ctx.rsCache.getByName(namespace, name);
      if (!rs) throw err; // not in the cache yet: the next sync sees it
      const ref = rs.metadata?.ownerReferences?.find((r) => r.controller);
      if (ref?.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
        created = rs;
      } else {
        // A hash collision: another template has this name. Count it, so the next hash differs.
        (d.status ??= {}).collisionCount = (d.status.collisionCount ?? 0) + 1;
        try {
          await updateDeploymentStatus(ctx, d);
        } catch { /* retried with the sync */ }
        throw err;
      }
    } else if (isStatusError(err) && /because it is being terminated/.test(err.message)) {
      throw err; // the namespace is going away: every create fails; nothing to report
    } else {
      const msg = `Failed to create new replica set ${JSON.stringify(name)}: ${(err as Error).message}`;
      if (hasProgressDeadline(d)) {
        setDeploymentCondition(
          d.status ??= {},
          newDeploymentCondition("Progressing", "False", FAILED_RS_CREATE_REASON, msg, ctx.now()),
        );
        try {
          await updateDeploymentStatus(ctx, d);
        } catch { /* the failure below is what matters */ }
      }
      ctx.recorder.event(d, "Warning", FAILED_RS_CREATE_REASON, msg);
      throw err;
    }
  }
  if (!alreadyExists && replicas > 0) {
    ctx.recorder.event(
      d,
      "Normal",
      "ScalingReplicaSet",
      `Scaled up replica set ${created.metadata?.name} from 0 to ${replicas}`,
    );
  }
  let needsUpdate = setDeploymentRevision(d, newRevision);
  if (!alreadyExists && hasProgressDeadline(d)) {
    const msg = `Created new replica set ${JSON.stringify(created.metadata?.name)}`;
    setDeploymentCondition(
      d.status ??= {},
      newDeploymentCondition("Progressing", "True", NEW_REPLICA_SET_REASON, msg, ctx.now()),
    );
    needsUpdate = true;
  }
  if (needsUpdate) await updateDeploymentStatus(ctx, d);
  return created;
}
