/**
 * Path elements: one step from a value to a part of it. A field of a map or struct (`f:`), an
 * item of a keyed list picked by its key fields (`k:`), an item of a set picked by its value
 * (`v:`), or an item of a list picked by position (`i:`). Their serialized form is what
 * FieldsV1 uses as object keys; their order is the one FieldsV1 objects are written in.
 */

import { compareStrings, goJson, goQ, goQuote } from "./gojson.ts";

/** One step into a value. Exactly one member is present. */
export type PathElement =
  | { readonly field: string }
  | { readonly key: ReadonlyArray<readonly [string, unknown]> }
  | { readonly value: unknown }
  | { readonly index: number };

export type Path = readonly PathElement[];

/** A field step. */
export function fieldPE(name: string): PathElement {
  return { field: name };
}

/** A JSON value classified as Go's decoder sees it. */
function rank(v: unknown): number {
  // Ordering used by value comparison: float/int (numeric), string, bool, list, map, null.
  if (typeof v === "number") return 0;
  if (typeof v === "string") return 2;
  if (typeof v === "boolean") return 3;
  if (Array.isArray(v)) return 4;
  if (v !== null && typeof v === "object") return 5;
  return 6;
}

/** Orders two JSON values as the merge library orders values. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: {
      const x = a as number;
      const y = b as number;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 2:
      return compareStrings(a as string, b as string);
    case 3:
      return a === b ? 0 : a ? 1 : -1;
    case 4: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < x.length && i < y.length; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 5: {
      const x = sortedEntries(a as Record<string, unknown>);
      const y = sortedEntries(b as Record<string, unknown>);
      return compareFieldLists(x, y);
    }
    default:
      return 0;
  }
}

function sortedEntries(m: Record<string, unknown>): [string, unknown][] {
  return Object.keys(m).sort(compareStrings).map((k) => [k, m[k]]);
}

function compareFieldLists(
  x: ReadonlyArray<readonly [string, unknown]>,
  y: ReadonlyArray<readonly [string, unknown]>,
): number {
  for (let i = 0;; i++) {
    if (i >= x.length && i >= y.length) return 0;
    if (i >= x.length) return -1;
    if (i >= y.length) return 1;
    const c = compareStrings(x[i][0], y[i][0]);
    if (c !== 0) return c;
    const d = compareValues(x[i][1], y[i][1]);
    if (d !== 0) return d;
  }
}

/** Deep equality of JSON values, with ints and floats equal when numerically equal. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x).filter((k) => x[k] !== undefined);
  const ky = Object.keys(y).filter((k) => y[k] !== undefined);
  if (kx.length !== ky.length) return false;
  for (const k of kx) {
    if (!(k in y) || !valuesEqual(x[k], y[k])) return false;
  }
  return true;
}

function kindRank(pe: PathElement): number {
  if ("field" in pe) return 0;
  if ("key" in pe) return 1;
  if ("value" in pe) return 2;
  return 3;
}

/** The order of path elements: fields, then keys, then values, then indices. */
export function comparePE(a: PathElement, b: PathElement): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if ("field" in a) return compareStrings(a.field, (b as { field: string }).field);
  if ("key" in a) return compareFieldLists(a.key, (b as { key: [string, unknown][] }).key);
  if ("value" in a) return compareValues(a.value, (b as { value: unknown }).value);
  const x = a.index;
  const y = (b as { index: number }).index;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A JSON value as the path serializer writes it (compact; object keys in order). */
function valueJson(v: unknown): string {
  return goJson(v);
}

/** `f:name`, `k:{"name":"web"}`, `v:"x"` or `i:0`: the FieldsV1 key of a path element. */
export function serializePE(pe: PathElement): string {
  if ("field" in pe) return "f:" + pe.field;
  if ("key" in pe) {
    return "k:{" + pe.key.map(([n, v]) => goQuote(n) + ":" + valueJson(v)).join(",") + "}";
  }
  if ("value" in pe) return "v:" + valueJson(pe.value);
  return "i:" + pe.index;
}

/** Thrown for a FieldsV1 key that is not a path element. */
export class PathElementError extends Error {}

/** The path element a FieldsV1 key names; `undefined` for an unknown kind (which is skipped). */
export function parsePE(s: string): PathElement | undefined {
  if (s.length < 2) throw new PathElementError("key must be 2 characters long:");
  if (s[1] !== ":") throw new PathElementError(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case "f":
      return { field: rest };
    case "v":
      return { value: parseJson(rest) };
    case "k": {
      const obj = parseJson(rest);
      if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
        throw new PathElementError(`invalid key: ${rest}`);
      }
      const key = Object.entries(obj as Record<string, unknown>).sort((a, b) => compareStrings(a[0], b[0]));
      return { key };
    }
    case "i": {
      if (!/^[+-]?\d+$/.test(rest)) throw new PathElementError(`invalid index: ${rest}`);
      return { index: Number(rest) };
    }
    default:
      return undefined;
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new PathElementError((e as Error).message);
  }
}

/** A JSON value as the merge library prints it in messages (`"web"`, `80`). */
export function valueString(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goQ(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return "[" + v.map(valueString).join(",") + "]";
  const obj = v as Record<string, unknown>;
  return Object.keys(obj).map((k) => `${k}=${valueString(obj[k])}`).join("");
}

/** `.name`, `[name="web"]`, `[="x"]` or `[0]`. */
export function peString(pe: PathElement): string {
  if ("field" in pe) return "." + pe.field;
  if ("key" in pe) return "[" + pe.key.map(([n, v]) => `${n}=${valueString(v)}`).join(",") + "]";
  if ("value" in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

/** `.spec.template.spec.containers[name="web"].image`. */
export function pathString(path: Path): string {
  return path.map(peString).join("");
}

/** A path of field names. */
export function fieldPath(...names: string[]): Path {
  return names.map(fieldPE);
}
