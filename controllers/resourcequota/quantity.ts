/**
 * Exact Kubernetes quantities for quota arithmetic: a value counted in nano-units (BigInt, so
 * `1Ei` of memory and `1m` of CPU add up without rounding) plus the format it was written in,
 * and the canonical text upstream prints (`1500m`, `1536Mi`, `2e3`). Parsing rounds up to the
 * nano, as upstream does. `machinery/quantity.ts` answers floats for comparisons; this module
 * is for sums that are written back to status.
 */

import { parseQuantity } from "../../machinery/quantity.ts";

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface Quantity {
  /** The value times 10^9. */
  nano: bigint;
  format: QuantityFormat;
}

const NANO = 1_000_000_000n;

const DECIMAL_EXPONENTS: Record<string, number> = {
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
const BINARY_POWERS: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const DECIMAL_SUFFIXES: Record<number, string> = {
  [-9]: "n",
  [-6]: "u",
  [-3]: "m",
  0: "",
  3: "k",
  6: "M",
  9: "G",
  12: "T",
  15: "P",
  18: "E",
};

const SYNTAX = /^([+-]?)([0-9]*)(?:\.([0-9]*))?((?:[eE][+-]?[0-9]+)|[KMGTPE]i|[numkMGTPE]?)$/;

/** Zero, in the format upstream gives an empty usage. */
export function zero(format: QuantityFormat = "DecimalSI"): Quantity {
  return { nano: 0n, format };
}

/** A whole number of units (object counts). */
export function fromInt(n: number): Quantity {
  return { nano: BigInt(n) * NANO, format: "DecimalSI" };
}

/** The quantity `text` denotes, or undefined when it is not one. */
export function parse(text: unknown): Quantity | undefined {
  if (typeof text === "number") text = Number.isFinite(text) ? String(text) : "";
  if (typeof text !== "string") return undefined;
  const m = SYNTAX.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  // Cross-check against the shared parser, which knows the same grammar.
  if (parseQuantity(text) === undefined) return undefined;
  const [, sign, whole, fraction = "", suffix] = m;
  let mantissa = BigInt((whole || "0") + fraction);
  let exp10 = -fraction.length;
  let format: QuantityFormat = "DecimalSI";
  let binary = 0;
  if (suffix in BINARY_POWERS) {
    binary = BINARY_POWERS[suffix];
    format = "BinarySI";
  } else if (/^[eE]/.test(suffix)) {
    exp10 += Number(suffix.slice(1));
    format = "DecimalExponent";
  } else {
    exp10 += DECIMAL_EXPONENTS[suffix];
  }
  mantissa *= 1024n ** BigInt(binary);
  exp10 += 9;
  let nano: bigint;
  if (exp10 >= 0) nano = mantissa * 10n ** BigInt(exp10);
  else {
    const div = 10n ** BigInt(-exp10);
    nano = mantissa / div + (mantissa % div === 0n ? 0n : 1n);
  }
  return { nano: sign === "-" ? -nano : nano, format };
}

/** `a + b`; a zero left side takes the right side's format, as upstream's Add does. */
export function add(a: Quantity, b: Quantity): Quantity {
  return { nano: a.nano + b.nano, format: a.nano === 0n ? b.format : a.format };
}

export function cmp(a: Quantity, b: Quantity): number {
  return a.nano < b.nano ? -1 : a.nano > b.nano ? 1 : 0;
}

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

/** The canonical text upstream serializes: `0`, `1500m`, `2`, `1536Mi`, `1e3`. */
export function format(q: Quantity): string {
  if (q.nano === 0n) return "0";
  const negative = q.nano < 0n;
  const abs = negative ? -q.nano : q.nano;
  const sign = negative ? "-" : "";
  let fmt = q.format;
  if (fmt === "BinarySI" && (abs < 1024n * NANO || abs % NANO !== 0n)) fmt = "DecimalSI";
  if (fmt === "BinarySI") {
    let value = abs / NANO;
    let power = 0;
    while (power < 6 && value % 1024n === 0n) {
      value /= 1024n;
      power++;
    }
    return `${sign}${value}${BINARY_SUFFIXES[power]}`;
  }
  let mantissa = abs;
  let exponent = -9;
  while (exponent < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exponent += 3;
  }
  const suffix = fmt === "DecimalExponent"
    ? (exponent === 0 ? "" : `e${exponent}`)
    : DECIMAL_SUFFIXES[exponent];
  return `${sign}${mantissa}${suffix}`;
}

/** The canonical text of a quantity written as `text`, or the text itself when it does not parse. */
export function canonical(text: unknown): string {
  const q = parse(text);
  return q ? format(q) : String(text);
}
