/**
 * What every step of a deployment's sync works with: the clients, the ReplicaSet cache, the
 * event recorder and the clock. Writes of the deployment go through here so that the working
 * copy follows the server (a second write in the same sync then carries the newer
 * resourceVersion instead of conflicting with the first).
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual } from "../../machinery/object_meta.ts";
import type { Cache } from "../framework/cache.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

export interface SyncContext {
  deployments: ResourceClient<Deployment>;
  replicaSets: ResourceClient<ReplicaSet>;
  /** The informer's ReplicaSets (read-only). */
  rsCache: Cache<ReplicaSet>;
  recorder: EventRecorder;
  now(): number;
}

/**
 * Writes the working copy's status, and its annotations when they changed (the revision).
 * Upstream's deployments/status takes annotations along with the status; a server whose status
 * subresource keeps metadata gets them in a merge patch of the deployment (which changes no
 * generation). The copy takes the server's answers.
 */
export async function updateDeploymentStatus(ctx: SyncContext, d: Deployment): Promise<void> {
  const namespace = d.metadata!.namespace!;
  const annotations = d.metadata?.annotations ?? {};
  const saved = await ctx.deployments.updateStatus(namespace, d);
  const patch = annotationsPatch(saved.metadata?.annotations ?? {}, annotations);
  if (!patch) return adopt(d, saved);
  const patched = await ctx.deployments.patch(namespace, d.metadata!.name!, "merge", {
    metadata: { annotations: patch, resourceVersion: saved.metadata?.resourceVersion },
  });
  adopt(d, patched);
}

/** The merge patch turning `from` into `to`, or undefined when they are equal. */
function annotationsPatch(
  from: Record<string, string>,
  to: Record<string, string>,
): Record<string, string | null> | undefined {
  if (jsonEqual(from, to)) return undefined;
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(to)) if (from[k] !== v) patch[k] = v;
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  return patch;
}

/** Writes the working copy whole (spec, metadata); the copy takes the server's answer. */
export async function updateDeployment(ctx: SyncContext, d: Deployment): Promise<void> {
  const saved = await ctx.deployments.update(d.metadata!.namespace!, d);
  adopt(d, saved);
}

function adopt(d: Deployment, saved: Deployment): void {
  d.metadata = saved.metadata;
  d.spec = saved.spec;
  d.status = saved.status;
}
