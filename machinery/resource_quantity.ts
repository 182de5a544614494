/**
 * Exact resource quantities for admission arithmetic (quota sums, limit-range bounds): a value in
 * nano-units held as a BigInt, with the format it was written in, printed in the canonical form
 * kube-apiserver prints (`1500m`, `1536Mi`, `1e3`). `quantity.ts` answers floats for quick
 * comparisons; sums that are written back to an object or shown in a message come from here.
 */

/** How a quantity is printed: decimal suffixes, binary suffixes, or a decimal exponent. */
export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

/** A quantity: `nano` is the value times 10⁹. */
export interface ResourceQuantity {
  nano: bigint;
  format: QuantityFormat;
}

const NANO_PER_UNIT = 1_000_000_000n;
const NANO_PER_MILLI = 1_000_000n;

/** Decimal suffix → power of ten. */
const DECIMAL_POWERS: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
/** Power of ten (a multiple of three) → decimal suffix. */
const DECIMAL_SUFFIX_OF = new Map(Object.entries(DECIMAL_POWERS).map(([s, p]) => [p, s]));
/** Binary suffixes by power of 1024. */
const BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

const GRAMMAR = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?[0-9]+)|([numkMGTPE]?))$/;

/** Zero in the given format. */
export function zeroQuantity(format: QuantityFormat = "DecimalSI"): ResourceQuantity {
  return { nano: 0n, format };
}

/** A whole number of units, DecimalSI (object counts). */
export function quantityOfInt(n: number): ResourceQuantity {
  return { nano: BigInt(n) * NANO_PER_UNIT, format: "DecimalSI" };
}

/**
 * The quantity `text` denotes, or undefined when it is not one. Precision below a nano-unit
 * rounds away from zero, as upstream's parser does.
 */
export function parseResourceQuantity(text: unknown): ResourceQuantity | undefined {
  if (typeof text === "number") {
    if (!Number.isFinite(text)) return undefined;
    text = String(text);
  }
  if (typeof text !== "string") return undefined;
  const m = GRAMMAR.exec(text.trim());
  if (!m) return undefined;
  const [, sign, whole, fraction = "", binary, exponent, decimal] = m;
  if (whole === "" && fraction === "") return undefined;
  let digits = BigInt(`${whole}${fraction}` || "0");
  let power10 = -fraction.length + 9;
  let format: QuantityFormat = "DecimalSI";
  if (binary !== undefined) {
    digits *= 1024n ** BigInt(BINARY_SUFFIXES.indexOf(binary));
    format = "BinarySI";
  } else if (exponent !== undefined) {
    const e = Number(exponent.slice(1));
    if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) return undefined;
    power10 += e;
    format = "DecimalExponent";
  } else {
    power10 += DECIMAL_POWERS[decimal ?? ""];
  }
  let nano: bigint;
  if (power10 >= 0) nano = digits * 10n ** BigInt(power10);
  else {
    const divisor = 10n ** BigInt(-power10);
    nano = digits / divisor + (digits % divisor === 0n ? 0n : 1n);
  }
  return { nano: sign === "-" ? -nano : nano, format };
}

/** `a + b`; a zero left side takes the right side's format, as upstream's Add does. */
export function addQuantities(a: ResourceQuantity, b: ResourceQuantity): ResourceQuantity {
  return { nano: a.nano + b.nano, format: a.nano === 0n ? b.format : a.format };
}

/** `a - b` in a's format. */
export function subtractQuantities(a: ResourceQuantity, b: ResourceQuantity): ResourceQuantity {
  return { nano: a.nano - b.nano, format: a.format };
}

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
export function compareQuantities(a: ResourceQuantity, b: ResourceQuantity): number {
  return a.nano < b.nano ? -1 : a.nano > b.nano ? 1 : 0;
}

function ceilDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d === 0n ? q : n > 0n ? q + 1n : q - 1n;
}

/** The value in whole units, rounded away from zero (upstream's `Value()`). */
export function quantityValue(q: ResourceQuantity): bigint {
  return ceilDiv(q.nano, NANO_PER_UNIT);
}

/** The value in thousandths, rounded away from zero (upstream's `MilliValue()`). */
export function quantityMilliValue(q: ResourceQuantity): bigint {
  return ceilDiv(q.nano, NANO_PER_MILLI);
}

/** The canonical text upstream prints: `0`, `1500m`, `2`, `1536Mi`, `1e3`, `512` (for 0.5Ki). */
export function formatQuantity(q: ResourceQuantity): string {
  if (q.nano === 0n) return "0";
  const sign = q.nano < 0n ? "-" : "";
  const abs = q.nano < 0n ? -q.nano : q.nano;
  let format = q.format;
  // Binary suffixes only for whole values of at least 1Ki; anything else prints as decimal.
  if (format === "BinarySI" && (abs < 1024n * NANO_PER_UNIT || abs % NANO_PER_UNIT !== 0n)) {
    format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let value = abs / NANO_PER_UNIT;
    let power = 0;
    while (power < BINARY_SUFFIXES.length - 1 && value % 1024n === 0n) {
      value /= 1024n;
      power++;
    }
    return `${sign}${value}${BINARY_SUFFIXES[power]}`;
  }
  // Strip trailing zeros into the exponent in steps of three, from nano upwards.
  let mantissa = abs;
  let power = -9;
  while (mantissa % 1000n === 0n && (format === "DecimalExponent" || power < 18)) {
    mantissa /= 1000n;
    power += 3;
  }
  if (format === "DecimalExponent") return `${sign}${mantissa}${power === 0 ? "" : `e${power}`}`;
  return `${sign}${mantissa}${DECIMAL_SUFFIX_OF.get(power) ?? ""}`;
}

/** The canonical text of a quantity written as `text`, or undefined when it is not one. */
export function canonicalQuantity(text: unknown): string | undefined {
  const q = parseResourceQuantity(text);
  return q ? formatQuantity(q) : undefined;
}

/** A list of named quantities (`ResourceList`), parsed; entries that do not parse are left out. */
export type ResourceList = Map<string, ResourceQuantity>;

/** The quantities of a JSON `ResourceList` (`{cpu: "500m"}`); unparsable entries are dropped. */
export function parseResourceList(value: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (value === null || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [name, text] of Object.entries(value as Record<string, unknown>)) {
    const q = parseResourceQuantity(text);
    if (q) out.set(name, q);
  }
  return out;
}

/** Adds `b` into `a` in place (upstream's `addResourceList`). */
export function addResourceListInto(a: ResourceList, b: ResourceList): void {
  for (const [name, q] of b) {
    const have = a.get(name);
    a.set(name, have ? addQuantities(have, q) : q);
  }
}

/** Raises each entry of `a` to `b`'s where `b`'s is larger or `a` lacks it (upstream's `maxResourceList`). */
export function maxResourceListInto(a: ResourceList, b: ResourceList): void {
  for (const [name, q] of b) {
    const have = a.get(name);
    if (!have || compareQuantities(q, have) > 0) a.set(name, q);
  }
}

/** `name=value,…` sorted by name, as upstream's quota messages print a list. */
export function prettyResourceList(list: ResourceList): string {
  return [...list.keys()].sort().map((name) => `${name}=${formatQuantity(list.get(name)!)}`).join(",");
}
