/**
 * Server-side Tables: the columns and cells kube-apiserver returns for `kubectl get`
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). The server sends every column; kubectl shows
 * the priority-1 ones only with `-o wide`.
 *
 * @module
 */

import { DEFAULT_PRINTER, PRINTERS } from "./printers.ts";
import type { TablePrinter } from "./columns.ts";

export type { TableColumnDefinition, TablePrinter } from "./columns.ts";
export { age, humanDuration } from "./duration.ts";
export { podSummary } from "./pod.ts";

/** The printer of `group/resource` (empty group for core), or NAME/AGE for resources without one. */
export function printerFor(group: string, resource: string): TablePrinter {
  const key = `${group}/${resource}`;
  return Object.hasOwn(PRINTERS, key) ? PRINTERS[key] : DEFAULT_PRINTER;
}
