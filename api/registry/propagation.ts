/**
 * Cascading deletion, the server's half: which garbage-collection finalizers (`orphan`,
 * `foregroundDeletion`) a delete leaves on the object, from the request's `propagationPolicy`
 * (or the deprecated `orphanDependents`), the finalizers already there, and the kind's default.
 * The garbage collector does the rest: orphans the dependents or deletes them first, then
 * removes the finalizer.
 */

import { field, invalid, type StatusError } from "../../machinery/status.ts";

/** Dependents are left behind: the owner's references are removed from them. */
export const FINALIZER_ORPHAN_DEPENDENTS = "orphan";
/** Dependents that block owner deletion go first; the owner stays until they are gone. */
export const FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion";

/**
 * What deleting an object of a kind does to its dependents when the request does not say:
 * delete them (in the background), orphan them, or nothing at all (the kind takes no
 * garbage-collection finalizers).
 */
export type GarbageCollectionPolicy = "DeleteDependents" | "OrphanDependents" | "Unsupported";

/**
 * The kind's default, as upstream's strategies answer it: events take no GC finalizers;
 * core/v1 ReplicationControllers orphan (kept for compatibility); everything else deletes.
 */
export function defaultGarbageCollectionPolicy(
  group: string,
  version: string,
  resource: string,
): GarbageCollectionPolicy {
  if (resource === "events" && (group === "" || group === "events.k8s.io")) return "Unsupported";
  if (group === "" && version === "v1" && resource === "replicationcontrollers") return "OrphanDependents";
  return "DeleteDependents";
}

export interface PropagationOptions {
  propagationPolicy?: string;
  orphanDependents?: boolean;
}

/** Refuses delete options that set both `orphanDependents` and `propagationPolicy`. */
export function validatePropagation(options: PropagationOptions): StatusError | undefined {
  if (options.orphanDependents === undefined || options.orphanDependents === null) return undefined;
  if (!options.propagationPolicy) return undefined;
  return invalid("meta.k8s.io", "DeleteOptions", "", [
    field.invalid(
      "propagationPolicy",
      options.propagationPolicy,
      "orphanDependents and deletionPropagation cannot be both set",
    ),
  ]);
}

function shouldOrphan(
  finalizers: string[],
  options: PropagationOptions,
  policy: GarbageCollectionPolicy,
): boolean {
  if (typeof options.orphanDependents === "boolean") return options.orphanDependents;
  switch (options.propagationPolicy) {
    case "Orphan":
      return true;
    case "Background":
    case "Foreground":
      return false;
  }
  for (const f of finalizers) {
    if (f === FINALIZER_ORPHAN_DEPENDENTS) return true;
    if (f === FINALIZER_DELETE_DEPENDENTS) return false;
  }
  return policy === "OrphanDependents";
}

function shouldDeleteInForeground(finalizers: string[], options: PropagationOptions): boolean {
  if (typeof options.orphanDependents === "boolean") return false;
  switch (options.propagationPolicy) {
    case "Foreground":
      return true;
    case "Background":
    case "Orphan":
      return false;
  }
  for (const f of finalizers) {
    if (f === FINALIZER_DELETE_DEPENDENTS) return true;
    if (f === FINALIZER_ORPHAN_DEPENDENTS) return false;
  }
  return false;
}

/**
 * The finalizers a delete leaves on an object: its own, with `orphan` and `foregroundDeletion`
 * as the request (then the existing finalizers, then the kind's default) ask. Answers undefined
 * when the set does not change.
 */
export function finalizersForGarbageCollection(
  finalizers: string[] | undefined,
  options: PropagationOptions,
  policy: GarbageCollectionPolicy,
): string[] | undefined {
  if (policy === "Unsupported") return undefined;
  const current = finalizers ?? [];
  const next = current.filter((f) => f !== FINALIZER_ORPHAN_DEPENDENTS && f !== FINALIZER_DELETE_DEPENDENTS);
  if (shouldOrphan(current, options, policy)) next.push(FINALIZER_ORPHAN_DEPENDENTS);
  if (shouldDeleteInForeground(current, options)) next.push(FINALIZER_DELETE_DEPENDENTS);
  const before = new Set(current);
  const after = new Set(next);
  if (before.size === after.size && [...after].every((f) => before.has(f))) return undefined;
  return next;
}
