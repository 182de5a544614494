/**
 * What makes one kind different from another: a strategy of phase-named hooks that the
 * generic resource store calls in a fixed order (system metadata → prepare → validate →
 * store). Every hook is optional; a kind with none behaves like a ConfigMap.
 */

import type { FieldError } from "../../machinery/status.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";

/** What a hook may want to know about the request. */
export interface StrategyContext {
  info: ResourceInfo;
  /** The subresource written, "" for the main resource. */
  subresource: string;
  /** Current time in ms since the epoch. */
  now: number;
  /** For the write hooks: the request is a dry run (`dryRun=All`), nothing may outlive it. */
  dryRun?: boolean;
}

/**
 * What a write hook reserved outside the object (an IP, a port) for a write in progress. The
 * store calls `commit` once the object is stored (or the dry run is answered) and `rollback`
 * when the write fails or is retried on a newer object. Both are best effort: they log rather
 * than throw.
 */
export interface Reservation {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface DeleteRequest {
  gracePeriodSeconds?: number;
}

export interface Strategy {
  /** Whether metadata.generation is kept (1 at create, +1 on every spec change). */
  tracksGeneration?: boolean;
  /** Whether PUT of a missing object creates it. */
  allowCreateOnUpdate?: boolean;
  /** Whether a create keeps the status it carries (Nodes); otherwise status starts empty. */
  keepStatusOnCreate?: boolean;
  /** Reset what a create may not set (status, …) and fill server-owned fields. */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Carry over what an update may not change; `old` is the stored object. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void;
  /** Kind-specific checks for a new object, beyond the generic metadata checks. */
  validate?(obj: KubeObject, ctx: StrategyContext): FieldError[];
  /** Kind-specific checks for a change (immutable fields, …). */
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /**
   * For kinds deleted gracefully (pods): the grace period in seconds to wait, or 0 to delete
   * at once. `stored` is the current object.
   */
  gracePeriod?(stored: KubeObject, request: DeleteRequest, ctx: StrategyContext): Promise<number> | number;
  /**
   * Whether something besides `metadata.finalizers` still holds a deleted object (a
   * namespace's `spec.finalizers`).
   */
  pendingFinalizers?(obj: KubeObject): boolean;
  /** Refuses a delete by throwing a StatusError (the system namespaces may not be deleted). */
  checkDelete?(stored: KubeObject, ctx: StrategyContext): void;
  /** Called on the object when it is first marked for deletion (a namespace turns Terminating). */
  markDeleted?(obj: KubeObject, ctx: StrategyContext): void;
  /**
   * Runs after validation, just before a new object is stored (dry runs too, with `ctx.dryRun`):
   * reserves what the object needs from outside itself and may fill it in (a Service's cluster
   * IP). Throws a StatusError to refuse.
   */
  beforeCreate?(obj: KubeObject, ctx: StrategyContext): Promise<Reservation | undefined>;
  /** Like `beforeCreate`, for a change of the stored `old` into `obj` (main resource and subresources). */
  beforeUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): Promise<Reservation | undefined>;
  /**
   * Called once an object is really gone from storage (a delete, the last finalizer removed, a
   * namespace emptied), never for dry runs: frees what it held. Errors are logged, not returned.
   */
  afterDelete?(obj: KubeObject, ctx: StrategyContext): Promise<void>;
}

/** The part of an object that is neither metadata nor status, for generation tracking. */
export function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}
