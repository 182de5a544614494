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
}

export interface DeleteRequest {
  gracePeriodSeconds?: number;
}

export interface Strategy {
  /** Whether metadata.generation is kept (1 at create, +1 on every spec change). */
  tracksGeneration?: boolean;
  /** Whether PUT of a missing object creates it. */
  allowCreateOnUpdate?: boolean;
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
}

/** The part of an object that is neither metadata nor status, for generation tracking. */
export function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}
