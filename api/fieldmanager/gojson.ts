/**
 * JSON text and orderings as the Go side of Kubernetes produces them, where clients can see the
 * difference: strings compared byte-wise in UTF-8, strings escaped with `<`, `>` and `&` turned
 * into `\u003c`…, map keys sorted, and Go's `%v` / `%#v` renderings of JSON values for error
 * messages.
 */

/** Compares two strings by their UTF-8 bytes (equivalently, by code points), as Go does. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Below the surrogate range UTF-16 order is code point order; surrogates encode code
    // points above U+FFFF, so they sort after every other BMP unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const HEX = "0123456789abcdef";

/** A JSON string literal escaped as Go's encoder (with HTML escaping) writes it. */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += "\\u" + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += "\\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) out += "\\ufffd";
    else out += s[i];
  }
  return out + '"';
}

/** A number as Go's JSON encoder writes a float64 or int64. */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) return "null";
  return JSON.stringify(n);
}

/** Compact JSON with sorted object keys and Go's escaping, as `json.Marshal` of a map writes it. */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number") return goNumber(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return "[" + v.map(goJson).join(",") + "]";
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(compareStrings);
  return "{" + keys.map((k) => goQuote(k) + ":" + goJson(obj[k])).join(",") + "}";
}

/** Go's `%v` of a decoded JSON value (`map[a:b]`, `[x y]`, `<nil>`). */
export function goV(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return "[" + v.map(goV).join(" ") + "]";
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareStrings);
  return "map[" + keys.map((k) => `${k}:${goV(obj[k])}`).join(" ") + "]";
}

/** Go's `%#v` of a decoded JSON value. */
export function goSharpV(v: unknown): string {
  if (v === null || v === undefined) return "interface {}(nil)";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return "[]interface {}{" + v.map(goSharpV).join(", ") + "}";
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareStrings);
  return "map[string]interface {}{" + keys.map((k) => `${JSON.stringify(k)}:${goSharpV(obj[k])}`).join(", ") +
    "}";
}

/** Go's `%T` of a decoded JSON value. */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

/** Go's `%q` of a string. */
export function goQ(s: string): string {
  return JSON.stringify(s);
}
