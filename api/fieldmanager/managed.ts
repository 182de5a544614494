/**
 * `metadata.managedFields` in and out: entries decoded into field sets keyed by a manager
 * identifier (manager, operation, API version for updates, subresource), and encoded back in
 * the order and shape kube-apiserver writes them.
 */

import { FieldSet, FieldsV1Error } from "./fieldset.ts";
import { compareStrings, goQuote } from "./gojson.ts";

/** One `metadata.managedFields` entry as JSON. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: "Apply" | "Update" | string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** The fields one manager owns, at one API version, and whether they were applied. */
export interface VersionedSet {
  set: FieldSet;
  apiVersion: string;
  applied: boolean;
}

/** Decoded managed fields: sets and times by manager identifier. */
export class Managed {
  readonly fields = new Map<string, VersionedSet>();
  readonly times = new Map<string, string>();

  copy(): Managed {
    const m = new Managed();
    for (const [k, v] of this.fields) m.fields.set(k, { ...v });
    for (const [k, v] of this.times) m.times.set(k, v);
    return m;
  }
}

/** The parts of an entry that identify its manager. */
export interface ManagerInfo {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
}

/**
 * The identifier of a manager: the entry without fields and time (and without API version for
 * appliers), as compact JSON in the entry's field order.
 */
export function managerIdentifier(info: ManagerInfo): string {
  const parts: string[] = [];
  if (info.manager) parts.push(`"manager":${goQuote(info.manager)}`);
  if (info.operation) parts.push(`"operation":${goQuote(info.operation)}`);
  if (info.apiVersion && info.operation !== "Apply") parts.push(`"apiVersion":${goQuote(info.apiVersion)}`);
  if (info.subresource) parts.push(`"subresource":${goQuote(info.subresource)}`);
  return "{" + parts.join(",") + "}";
}

/** The manager information an identifier carries. */
export function parseIdentifier(id: string): ManagerInfo | undefined {
  try {
    const v = JSON.parse(id);
    return v && typeof v === "object" && !Array.isArray(v) ? v as ManagerInfo : undefined;
  } catch {
    return undefined;
  }
}

/** A managed fields list that cannot be decoded. */
export class ManagedFieldsError extends Error {}

function optionalString(e: Record<string, unknown>, key: string, i: number): string | undefined {
  const v = e[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    throw new ManagedFieldsError(`managed fields entry ${i}: ${key} must be a string`);
  }
  return v;
}

/** `2024-01-02T03:04:05Z`, the way a metav1.Time is written, or an error for a bad time. */
export function normalizeTime(t: string | number | Date): string {
  if (typeof t === "string") {
    // Entries' times repeat (one per second at most), and each write decodes them all.
    const known = normalizedTimes.get(t);
    if (known !== undefined) return known;
  }
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new ManagedFieldsError(`invalid time ${JSON.stringify(t)}`);
  const second = Math.floor(ms / 1000);
  if (second === lastSecond.second) return lastSecond.text;
  const normal = new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
  if (typeof t === "string") {
    if (normalizedTimes.size >= 1024) normalizedTimes.clear();
    normalizedTimes.set(t, normal);
  }
  lastSecond.second = second;
  lastSecond.text = normal;
  return normal;
}

/** The second most recently written, as every write of that second stamps it. */
const lastSecond = { second: NaN, text: "" };
const normalizedTimes = new Map<string, string>();

/** Decodes a managedFields list; throws ManagedFieldsError for a malformed one. */
export function decodeManagedFields(list: unknown): Managed {
  const managed = new Managed();
  if (list === undefined || list === null) return managed;
  if (!Array.isArray(list)) throw new ManagedFieldsError("managedFields must be a list");
  list.forEach((raw, i) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new ManagedFieldsError(`managed fields entry ${i} must be an object`);
    }
    const e = raw as Record<string, unknown>;
    const operation = optionalString(e, "operation", i);
    if (operation !== "Apply" && operation !== "Update") {
      throw new ManagedFieldsError("operation must be `Apply` or `Update`");
    }
    const apiVersion = optionalString(e, "apiVersion", i);
    if (!apiVersion) throw new ManagedFieldsError("apiVersion must not be empty");
    const fieldsType = optionalString(e, "fieldsType", i);
    if (fieldsType === undefined || fieldsType === "") {
      throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
    }
    if (fieldsType !== "FieldsV1") {
      throw new ManagedFieldsError(
        `invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`,
      );
    }
    const manager = optionalString(e, "manager", i);
    const subresource = optionalString(e, "subresource", i);
    const time = optionalString(e, "time", i);
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    } catch (err) {
      if (err instanceof FieldsV1Error) throw new ManagedFieldsError(`error decoding set: ${err.message}`);
      throw err;
    }
    const id = managerIdentifier({ manager, operation, apiVersion, subresource });
    managed.fields.set(id, { set, apiVersion, applied: operation === "Apply" });
    if (time !== undefined) managed.times.set(id, normalizeTime(time));
    else managed.times.delete(id);
  });
  return managed;
}

/** Whether a managedFields list is valid (what a mutating admission step may leave behind). */
export function managedFieldsProblem(list: unknown): string | undefined {
  try {
    decodeManagedFields(list);
    return undefined;
  } catch (e) {
    if (e instanceof ManagedFieldsError) return e.message;
    throw e;
  }
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  return Math.floor(Date.parse(t) / 1000);
}

function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  if (p.operation !== q.operation) return compareStrings(p.operation ?? "", q.operation ?? "");
  const ps = seconds(p.time);
  const qs = seconds(q.time);
  if (ps !== qs) return ps < qs ? -1 : 1;
  if (p.manager !== q.manager) return compareStrings(p.manager ?? "", q.manager ?? "");
  if (p.apiVersion !== q.apiVersion) return compareStrings(p.apiVersion ?? "", q.apiVersion ?? "");
  return compareStrings(p.subresource ?? "", q.subresource ?? "");
}

/** The managedFields list for `managed`, sorted (appliers first, then oldest first); undefined if empty. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.fields.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of managed.fields) {
    const info = parseIdentifier(id) ?? {};
    const entry: ManagedFieldsEntry = {};
    if (info.manager) entry.manager = info.manager;
    const operation = vs.applied ? "Apply" : info.operation;
    if (operation) entry.operation = operation;
    if (vs.apiVersion) entry.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time) entry.time = time;
    entry.fieldsType = "FieldsV1";
    entry.fieldsV1 = vs.set.toFieldsV1();
    if (info.subresource) entry.subresource = info.subresource;
    out.push(entry);
  }
  return out.sort(compareEntries);
}

/**
 * Whether a request's managedFields ask for all tracking to be reset: an empty list, or a list
 * holding one empty entry.
 */
export function isResetManagedFields(list: unknown): boolean {
  if (!Array.isArray(list)) return false;
  if (list.length === 0) return true;
  if (list.length !== 1) return false;
  const e = list[0];
  if (e === null || typeof e !== "object" || Array.isArray(e)) return false;
  for (const [k, v] of Object.entries(e as Record<string, unknown>)) {
    if (v === undefined || v === null || v === "") continue;
    if (
      k === "fieldsV1" ||
      !["manager", "operation", "apiVersion", "time", "fieldsType", "subresource"].includes(k)
    ) {
      // Unknown keys are dropped by decoding; a present fieldsV1 is not empty.
      if (k === "fieldsV1") return false;
      continue;
    }
    return false;
  }
  return true;
}
