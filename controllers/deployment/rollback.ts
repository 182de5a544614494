/**
 * Server-side rollback, for the old API's request kept in the `deprecated.deployment.rollback.to`
 * annotation: the deployment takes the template (and annotations) of the ReplicaSet with that
 * revision (0: the one before the current), and the request is cleared. Modern kubectl rolls
 * back on its own by patching the template; either way the ReplicaSet rolled back to then gets
 * the next revision in the next sync.
 */

import {
  clearRollbackTo,
  getRollbackTo,
  lastRevision,
  POD_TEMPLATE_HASH_LABEL,
  revisionOf,
  setDeploymentAnnotationsTo,
} from "./annotations.ts";
import { equalIgnoreHash } from "./replica_sets.ts";
import { getAllReplicaSetsAndSyncRevision } from "./new_replica_set.ts";
import { type SyncContext, updateDeployment } from "./sync_context.ts";
import type { Deployment, ReplicaSet } from "./types.ts";
import { clone } from "../../machinery/object_meta.ts";

/** Upstream's event reasons. */
export const ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound";
export const ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged";
export const ROLLBACK_DONE = "DeploymentRollback";

export async function rollback(ctx: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  const allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
  let revision = getRollbackTo(d) ?? 0;
  if (revision === 0) {
    revision = lastRevision(allRSs);
    if (revision === 0) {
      ctx.recorder.event(d, "Warning", ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision.");
      return await updateDeploymentAndClearRollbackTo(ctx, d);
    }
  }
  for (const rs of allRSs) {
    if (revisionOf(rs) !== revision) continue;
    const performed = await rollbackToTemplate(ctx, d, rs);
    if (performed) {
      ctx.recorder.event(
        d,
        "Normal",
        ROLLBACK_DONE,
        `Rolled back deployment ${JSON.stringify(d.metadata?.name)} to revision ${revision}`,
      );
    }
    return;
  }
  ctx.recorder.event(
    d,
    "Warning",
    ROLLBACK_REVISION_NOT_FOUND,
    "Unable to find the revision to rollback to.",
  );
  await updateDeploymentAndClearRollbackTo(ctx, d);
}

/** Copies the ReplicaSet's template (without its hash label) and annotations onto the deployment. */
async function rollbackToTemplate(ctx: SyncContext, d: Deployment, rs: ReplicaSet): Promise<boolean> {
  let performed = false;
  if (!equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
    const template = clone(rs.spec!.template!);
    if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    d.spec!.template = template;
    setDeploymentAnnotationsTo(d, rs);
    performed = true;
  } else {
    ctx.recorder.event(
      d,
      "Warning",
      ROLLBACK_TEMPLATE_UNCHANGED,
      `The rollback revision contains the same template as current deployment ${
        JSON.stringify(d.metadata?.name)
      }`,
    );
  }
  await updateDeploymentAndClearRollbackTo(ctx, d);
  return performed;
}

async function updateDeploymentAndClearRollbackTo(ctx: SyncContext, d: Deployment): Promise<void> {
  clearRollbackTo(d);
  await updateDeployment(ctx, d);
}
