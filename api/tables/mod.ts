/** Server-side Tables: the columns and cells kube-apiserver returns for `kubectl get`. */

import { DEFAULT_PRINTER, PRINTERS, type TablePrinter } from "./printers.ts";

export type { TableColumnDefinition, TablePrinter } from "./printers.ts";
export { humanDuration } from "./duration.ts";
export { podStatus } from "./printers.ts";

/** The printer of `group/resource`, or NAME/AGE for kinds without one. */
export function printerFor(group: string, resource: string): TablePrinter {
  return PRINTERS[`${group}/${resource}`] ?? DEFAULT_PRINTER;
}
