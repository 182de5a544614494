/**
 * Small helpers the defaulters share. Objects arrive as decoded JSON, possibly malformed: a
 * helper that meets a value of the wrong type leaves it alone and reports "nothing here", so no
 * defaulter ever throws and validation (elsewhere) gets to word the error.
 *
 * Kubernetes decodes a missing key and a JSON `null` alike (the Go zero value), so both count as
 * "unset" here. Which zero value a default replaces depends on the field's Go type, hence three
 * setters: pointers (`setDefault`), strings (`setDefaultString`) and plain integers
 * (`setDefaultNumber`).
 */

/** A decoded JSON object. */
export type Obj = Record<string, unknown>;

/** A plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A missing key or JSON null: what Go decodes to a nil pointer or a zero value. */
export function isUnset(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

/** A deep copy of a JSON value, so a default never shares structure with another object. */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (isObject(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
    return out as T;
  }
  return v;
}

/** The object at `obj[key]`, or undefined when it is unset or not an object (an optional pointer). */
export function child(obj: Obj, key: string): Obj | undefined {
  const v = obj[key];
  return isObject(v) ? v : undefined;
}

/**
 * The object at `obj[key]`, made `{}` first when unset: for fields that are embedded structs in
 * Kubernetes' types (always present after decoding). Undefined when the value has another type.
 */
export function structChild(obj: Obj, key: string): Obj | undefined {
  if (isUnset(obj[key])) obj[key] = {};
  return child(obj, key);
}

/** The array at `obj[key]`, or undefined when unset or not an array. */
export function arrayAt(obj: Obj, key: string): unknown[] | undefined {
  const v = obj[key];
  return Array.isArray(v) ? v : undefined;
}

/** Calls `fn` on each element of the array at `obj[key]` that is an object. */
export function eachObject(obj: Obj, key: string, fn: (item: Obj) => void): void {
  const items = arrayAt(obj, key);
  if (!items) return;
  for (const item of items) if (isObject(item)) fn(item);
}

/** A pointer field's default: set when unset. */
export function setDefault(obj: Obj, key: string, value: unknown): void {
  if (isUnset(obj[key])) obj[key] = cloneJson(value);
}

/** A string field's default: set when unset or empty. */
export function setDefaultString(obj: Obj, key: string, value: string): void {
  const v = obj[key];
  if (isUnset(v) || v === "") obj[key] = value;
}

/** A plain integer field's default: set when unset or zero. */
export function setDefaultNumber(obj: Obj, key: string, value: number): void {
  const v = obj[key];
  if (isUnset(v) || v === 0) obj[key] = value;
}

/** A slice field's default: set when unset or empty. */
export function setDefaultArray(obj: Obj, key: string, value: unknown[]): void {
  const v = obj[key];
  if (isUnset(v) || (Array.isArray(v) && v.length === 0)) obj[key] = cloneJson(value);
}

/** Whether the value at `obj[key]` is a map with at least one entry. */
export function isNonEmptyMap(v: unknown): v is Obj {
  return isObject(v) && Object.keys(v).length > 0;
}

/** Whether `v` is an empty map or unset (Go's `len(m) == 0`). Other types count as not empty. */
export function isEmptyMap(v: unknown): boolean {
  return isUnset(v) || (isObject(v) && Object.keys(v).length === 0);
}

/** Whether `v` is a non-empty array. */
export function isNonEmptyArray(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.length > 0;
}
