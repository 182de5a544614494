/**
 * A resource quantity as upstream's Go value holds it after parsing its canonical text: an
 * int64 mantissa and a decimal scale, the format, and the text itself when that text is already
 * canonical in the parser's eyes. Only the parser's fast path is followed; values it leaves to
 * arbitrary precision (beyond int64, or Pi/Ei-sized binary ones) are reported as such.
 */

import { canonicalQuantity } from "../../machinery/resource_quantity.ts";

export interface GoQuantity {
  /** The int64 mantissa (exact as a bigint). */
  value: bigint;
  /** Power of ten. */
  scale: number;
  /** The cached text ("" when not cached). */
  s: string;
  format: "" | "DecimalSI" | "BinarySI" | "DecimalExponent";
  /** Upstream would hold this one as an arbitrary-precision decimal, which is not modelled. */
  bigDecimal?: boolean;
}

const DECIMAL_SUFFIXES: Record<string, number> = {
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
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const MAX_INT64 = (1n << 63n) - 1n;
/** Decimal digits an int64 always holds. */
const MAX_INT64_FACTORS = 18;

/** Splits a quantity's text as upstream's scanner does: sign, numerator, denominator, suffix. */
function split(str: string): { positive: boolean; num: string; denom: string; suffix: string } | undefined {
  const m = /^([+-]?)0*([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP][eEinumkKMGTP]*[+-]?[0-9]*)?$/.exec(str);
  if (!m) return undefined;
  return { positive: m[1] !== "-", num: m[2] || "0", denom: m[3] ?? "", suffix: m[4] ?? "" };
}

function interpret(
  suffix: string,
): { base: number; exponent: number; format: GoQuantity["format"] } | undefined {
  if (suffix in DECIMAL_SUFFIXES) {
    return { base: 10, exponent: DECIMAL_SUFFIXES[suffix], format: "DecimalSI" };
  }
  if (suffix in BINARY_SUFFIXES) return { base: 2, exponent: BINARY_SUFFIXES[suffix], format: "BinarySI" };
  const e = /^[eE]([+-]?[0-9]+)$/.exec(suffix);
  if (e) return { base: 10, exponent: Number(e[1]), format: "DecimalExponent" };
  return undefined;
}

/** The Go value of a quantity written as `text` (canonicalized first, as a protobuf round trip does). */
export function goQuantity(text: unknown): GoQuantity | undefined {
  const str = canonicalQuantity(text);
  if (str === undefined) return undefined;
  if (str === "0") return { value: 0n, scale: 0, s: "0", format: "DecimalSI" };
  const parts = split(str);
  if (!parts) return undefined;
  const suffix = interpret(parts.suffix);
  if (!suffix) return undefined;
  const { num, denom, positive } = parts;
  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (suffix.format === "BinarySI") {
    if (suffix.exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(suffix.exponent);
      precision = 15 - num.length - Math.trunc(Math.fround(Math.fround(suffix.exponent) * 3) / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = suffix.exponent;
    precision = MAX_INT64_FACTORS - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const shifted = num + denom;
      const value = BigInt(shifted);
      if (value > MAX_INT64) return undefined;
      const result = value * mantissa;
      if (result <= MAX_INT64) {
        const signed = positive ? result : -result;
        let cached = false;
        if (suffix.format === "BinarySI") {
          cached = suffix.exponent % 10 === 0 && (value & 7n) !== 0n;
        } else {
          cached = scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        }
        return { value: signed, scale, s: cached ? str : "", format: suffix.format };
      }
    }
  }
  return { value: 0n, scale: 0, s: "", format: suffix.format, bigDecimal: true };
}
