/** Small helpers shared by the per-kind validators. */

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `v` as an object, or an empty one. */
export function obj(v: unknown): Obj {
  return isObject(v) ? v : {};
}

/** `v` as a list of objects (non-objects become empty objects), or an empty list. */
export function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

export function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** An IANA service name, as ports are named: at most 15 lower-case letters, digits and dashes. */
export function ianaServiceNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 15) problems.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(name)) {
    problems.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (name.includes("--")) problems.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(name)) problems.push("must contain at least one letter (a-z)");
  if (name.startsWith("-") || name.endsWith("-")) problems.push("must not begin or end with a hyphen");
  return problems;
}

/** A copy of `v` with every object's keys sorted, for comparing values. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
