/**
 * The few pieces of Go's standard library whose exact wording or arithmetic shows through in
 * CronJob schedule errors: `strings.Fields` whitespace, `strconv.Atoi` and `strconv.Quote`,
 * and `time.ParseDuration` with the `time` package's own quoting.
 */

/** Go's `unicode.IsSpace` set, which `strings.Fields` and `strings.TrimSpace` split and trim on. */
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const SPACE_RUN = new RegExp(`[${GO_SPACE}]+`, "u");
const EDGE_SPACE = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "gu");

/** `strings.Fields`: the non-empty runs between whitespace. */
export function goFields(s: string): string[] {
  return s.split(SPACE_RUN).filter((f) => f !== "");
}

/** `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  return s.replace(EDGE_SPACE, "");
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

/** `strconv.Quote`: printable characters kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (PRINTABLE.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return out + '"';
}

/** The `time` package's quoting: ASCII kept (with `"` and `\` escaped), other bytes as `\xNN`. */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp >= 0x80) {
      for (const byte of new TextEncoder().encode(ch)) out += `\\x${byte.toString(16).padStart(2, "0")}`;
    } else {
      if (ch === '"' || ch === "\\") out += "\\";
      out += ch;
    }
  }
  return out + '"';
}

const TWO_63 = 1n << 63n;
const INT64_MAX = TWO_63 - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * `strconv.Atoi` on a 64-bit platform: the value, or the error text Go prints. Like Go, a long
 * string reports overflow as soon as its digits overflow, before any later bad character.
 */
export function goAtoi(s: string): { value: bigint } | { error: string } {
  const syntax = { error: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const range = { error: `strconv.Atoi: parsing ${goQuote(s)}: value out of range` };
  const negative = s[0] === "-";
  const digits = s[0] === "-" || s[0] === "+" ? s.slice(1) : s;
  if (digits === "") return syntax;
  let n = 0n;
  for (const ch of digits) {
    if (ch < "0" || ch > "9") return syntax;
    n = n * 10n + BigInt(ch.charCodeAt(0) - 48);
    if (s.length >= 19 && n > UINT64_MAX) return range;
  }
  if (negative ? n > TWO_63 : n >= TWO_63) return range;
  return { value: negative ? -n : n };
}

const NANOS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * `time.ParseDuration`: a signed sequence of decimal numbers, each with an optional fraction and a
 * unit (`300ms`, `1.5h`, `2h45m`). Returns nanoseconds, or the error text Go prints.
 */
export function goParseDuration(orig: string): { nanos: bigint } | { error: string } {
  const invalid = { error: `time: invalid duration ${timeQuote(orig)}` };
  let s = orig;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { nanos: 0n };
  if (s === "") return invalid;
  let total = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) return invalid;
    let i = 0;
    let whole = 0n;
    while (isDigit(s[i])) {
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > TWO_63) return invalid;
      i++;
    }
    const hadWhole = i > 0;
    let fraction = 0n;
    let scale = 1;
    let hadFraction = false;
    if (s[i] === ".") {
      i++;
      const start = i;
      let overflowed = false;
      for (; isDigit(s[i]); i++) {
        if (overflowed) continue;
        const next = fraction * 10n + BigInt(s.charCodeAt(i) - 48);
        if (fraction > INT64_MAX / 10n || next > TWO_63) overflowed = true;
        else {
          fraction = next;
          scale *= 10;
        }
      }
      hadFraction = i > start;
    }
    if (!hadWhole && !hadFraction) return invalid;
    s = s.slice(i);
    let unitEnd = 0;
    while (unitEnd < s.length && !(s[unitEnd] === "." || isDigit(s[unitEnd]))) unitEnd++;
    if (unitEnd === 0) return { error: `time: missing unit in duration ${timeQuote(orig)}` };
    const unitName = s.slice(0, unitEnd);
    s = s.slice(unitEnd);
    const unit = NANOS_PER_UNIT[unitName];
    if (unit === undefined) {
      return { error: `time: unknown unit ${timeQuote(unitName)} in duration ${timeQuote(orig)}` };
    }
    if (whole > TWO_63 / unit) return invalid;
    let v = whole * unit;
    if (fraction > 0n) {
      v += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (v > TWO_63) return invalid;
    }
    total += v;
    if (total > TWO_63) return invalid;
  }
  if (negative) return { nanos: -total };
  if (total > INT64_MAX) return invalid;
  return { nanos: total };
}
