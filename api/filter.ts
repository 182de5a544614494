/**
 * Builds the object filter of a list, watch or deletecollection from its `labelSelector` and
 * `fieldSelector` parameters, refusing field labels the kind does not support.
 */

import { badRequest } from "../machinery/status.ts";
import type { KubeObject } from "../machinery/object_meta.ts";
import { matchesLabels, parseLabelSelector } from "../machinery/labels.ts";
import {
  fieldsOf,
  matchesFields,
  parseFieldSelector,
  supportedFieldLabels,
  unsupportedFieldLabelMessage,
} from "../machinery/fields.ts";
import type { ResourceInfo } from "../openapi/resources.ts";
import { EVERYTHING, type ObjectFilter } from "./registry/resource_store.ts";

export function buildFilter(
  info: ResourceInfo,
  labelSelector: string | null,
  fieldSelector: string | null,
): ObjectFilter {
  const labels = labelSelector?.trim() ? parseLabelSelector(labelSelector) : undefined;
  const fields = fieldSelector?.trim() ? parseFieldSelector(fieldSelector) : undefined;
  if (!labels && !fields) return EVERYTHING;
  let name: string | undefined;
  if (fields) {
    const supported = supportedFieldLabels(info.group, info.resource);
    for (const r of fields.requirements) {
      if (!supported.has(r.field)) {
        throw badRequest(unsupportedFieldLabelMessage(info.group, info.resource, r.field));
      }
      if (r.field === "metadata.name" && r.operator !== "!=") name = r.value;
    }
  }
  return {
    everything: false,
    name,
    matches(obj: KubeObject): boolean {
      if (labels && !matchesLabels(labels, obj.metadata?.labels)) return false;
      if (fields && !matchesFields(fields, fieldsOf(info.group, info.resource, obj))) return false;
      return true;
    },
  };
}
