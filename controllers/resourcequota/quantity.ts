/**
 * Quantities as the resource quota controller sums them: the shared quantity arithmetic of
 * `machinery/resource_quantity.ts` under short names, plus the two operations only quota needs.
 */

import {
  addQuantities,
  compareQuantities,
  formatQuantity,
  parseResourceQuantity,
  quantityOfInt,
  type ResourceQuantity,
  zeroQuantity,
} from "../../machinery/resource_quantity.ts";

export type { QuantityFormat } from "../../machinery/resource_quantity.ts";
export type Quantity = ResourceQuantity;

export const zero = zeroQuantity;
export const fromInt = quantityOfInt;
export const parse = parseResourceQuantity;
export const add = addQuantities;
export const cmp = compareQuantities;
export const format = formatQuantity;

const NANO = 1_000_000_000n;

/** The larger of the two (the left one on a tie). */
export function max(a: Quantity, b: Quantity): Quantity {
  return cmp(a, b) >= 0 ? a : b;
}

/** Rounds up to a whole unit (storage is counted in whole bytes). */
export function roundUpToUnit(q: Quantity): Quantity {
  const rest = q.nano % NANO;
  if (rest === 0n) return q;
  return { nano: q.nano - rest + (q.nano > 0n ? NANO : 0n), format: q.format };
}

/** The canonical text of a quantity written as `text`, or the text itself when it does not parse. */
export function canonical(text: unknown): string {
  const q = parse(text);
  return q ? format(q) : String(text);
}
