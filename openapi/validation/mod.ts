/**
 * The semantic checks of the built-in kinds, beyond types and metadata: what
 * kube-apiserver's validation refuses, worded as it words it. Objects arrive defaulted.
 */

import type { FieldError } from "../../machinery/status.ts";
import { validatePodSpec, validatePodUpdate } from "./pod.ts";
import { WORKLOAD_UPDATE_VALIDATORS, WORKLOAD_VALIDATORS } from "./workloads.ts";
import { CORE_UPDATE_VALIDATORS, CORE_VALIDATORS } from "./core.ts";
import type { Obj } from "./util.ts";

const VALIDATORS: Record<string, (o: Obj) => FieldError[]> = {
  "/Pod": (pod) => validatePodSpec(pod.spec, "spec"),
  ...WORKLOAD_VALIDATORS,
  ...CORE_VALIDATORS,
};

const UPDATE_VALIDATORS: Record<string, (o: Obj, old: Obj) => FieldError[]> = {
  "/Pod": validatePodUpdate,
  ...WORKLOAD_UPDATE_VALIDATORS,
  ...CORE_UPDATE_VALIDATORS,
};

/** Problems of a new or changed object of `group`/`kind`. */
export function validateObject(group: string, kind: string, obj: Obj): FieldError[] {
  return VALIDATORS[`${group}/${kind}`]?.(obj) ?? [];
}

/** Problems of a change, beyond those of the new object: what may not change. */
export function validateObjectUpdate(group: string, kind: string, obj: Obj, old: Obj): FieldError[] {
  return UPDATE_VALIDATORS[`${group}/${kind}`]?.(obj, old) ?? [];
}
