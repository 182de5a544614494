/**
 * The metadata checks every kind gets before it is stored: the name by the kind's rule,
 * generateName, labels, annotations, finalizers; on update, what may not change.
 */

import { field, type FieldError } from "../../machinery/status.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";
import {
  NAME_RULES,
  validateAnnotations,
  validateFinalizers,
  validateLabels,
  validateObjectMetaName,
} from "../../machinery/validation.ts";

/** Checks `metadata` of an object about to be created or updated. */
export function validateObjectMeta(obj: KubeObject, info: ResourceInfo): FieldError[] {
  const meta = obj.metadata ?? {};
  const errors: FieldError[] = [];
  if (!meta.name) {
    errors.push(field.required("metadata.name", "name or generateName is required"));
  } else {
    const rule = NAME_RULES[`${info.group}/${info.resource}`] ?? "subdomain";
    errors.push(...validateObjectMetaName(rule, meta.name, "metadata.name"));
  }
  if (info.namespaced && !meta.namespace) errors.push(field.required("metadata.namespace"));
  if (meta.labels !== undefined) errors.push(...validateLabels(meta.labels, "metadata.labels"));
  if (meta.annotations !== undefined) {
    errors.push(...validateAnnotations(meta.annotations, "metadata.annotations"));
  }
  if (meta.finalizers !== undefined) {
    errors.push(...validateFinalizers(meta.finalizers, "metadata.finalizers", { builtin: true }));
  }
  return errors;
}

/** Checks what an update may not change in `metadata`. */
export function validateObjectMetaUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const meta = next.metadata ?? {};
  const oldMeta = old.metadata ?? {};
  const errors: FieldError[] = [];
  if (meta.name !== oldMeta.name) {
    errors.push(field.invalid("metadata.name", meta.name, "field is immutable"));
  }
  if (oldMeta.deletionTimestamp) {
    const before = new Set(oldMeta.finalizers ?? []);
    const added = (meta.finalizers ?? []).filter((f) => !before.has(f));
    if (added.length) {
      errors.push(
        field.forbidden(
          "metadata.finalizers",
          "no new finalizers can be added if the object is being deleted",
        ),
      );
    }
  }
  return errors;
}
