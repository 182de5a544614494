/**
 * Server-side apply and managed fields. The request path uses `FieldManager.update` for
 * create/update/non-apply patch, `FieldManager.apply` for apply patches, and the helpers for
 * request options, names and the checks around admission and storage.
 */

export {
  buildLastApplied,
  checkManagedFieldsAfterAdmission,
  checkName,
  DEFAULT_MAX_UPDATE_MANAGERS,
  FIELD_MANAGER_MAX_LENGTH,
  FieldManager,
  ignoreManagedFieldsTimestamps,
  LAST_APPLIED_ANNOTATION,
  managerFromUserAgent,
  managerOrUserAgent,
  printManager,
  validateFieldManager,
  validateManagedFieldsEntries,
  validateWriteOptions,
} from "./fieldmanager.ts";
export type { ApplyOptions, UpdateOptions, WriteTarget, WriteVerb } from "./fieldmanager.ts";
export { managedFieldsProblem } from "./managed.ts";
export type { ManagedFieldsEntry } from "./managed.ts";
export { CUSTOM_RESOURCE_RESET, RESET_FIELDS, resetFieldsFor } from "./reset_fields.ts";
export type { ResetFields } from "./reset_fields.ts";
