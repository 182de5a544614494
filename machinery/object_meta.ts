/**
 * Helpers for `metadata` that server and clients share: timestamps, uids, generated names.
 */

/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** RFC 3339 with whole seconds, as `metav1.Time` marshals: `2024-01-02T03:04:05Z`. */
export function rfc3339(date: Date | number = Date.now()): string {
  return new Date(date).toISOString().replace(/\.\d+Z$/, "Z");
}

/** RFC 3339 with microseconds, as `metav1.MicroTime` marshals. */
export function rfc3339Micro(date: Date | number = Date.now()): string {
  return new Date(date).toISOString().replace(/\.(\d+)Z$/, (_, ms: string) => `.${ms.padEnd(6, "0")}Z`);
}

/** A random version-4 UUID. */
export function newUid(): string {
  return crypto.randomUUID();
}

/** The alphabet upstream uses for generated name suffixes (no vowels, no confusable digits). */
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** `generateName` plus five random characters, cut so the whole name stays within 63 characters. */
export function generateNameFrom(base: string): string {
  const maxBase = 63 - 5;
  const prefix = base.length > maxBase ? base.slice(0, maxBase) : base;
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  let suffix = "";
  for (const b of bytes) suffix += NAME_ALPHABET[b % NAME_ALPHABET.length];
  return prefix + suffix;
}

/** The object's metadata, created empty if absent. */
export function metaOf(obj: KubeObject): ObjectMeta {
  if (!obj.metadata || typeof obj.metadata !== "object") obj.metadata = {};
  return obj.metadata;
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // Without allocating: every defined field of a equals b's, and b has as many defined fields.
  let defined = 0;
  for (const k of Object.keys(ao)) {
    const v = ao[k];
    if (v === undefined) continue;
    defined++;
    if (!Object.hasOwn(bo, k) || !jsonEqual(v, bo[k])) return false;
  }
  for (const k of Object.keys(bo)) if (bo[k] !== undefined) defined--;
  return defined === 0;
}

/**
 * A deep copy of a JSON value: plain objects and arrays copied by hand (about 8× faster than
 * structuredClone, which goes through V8's serializer); anything else that is an object (bytes,
 * dates) through structuredClone. A `__proto__` key stays an own key, as JSON.parse makes it.
 */
export function clone<T>(value: T): T {
  return cloneValue(value) as T;
}

function cloneValue(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneValue(v[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = cloneValue((v as Record<string, unknown>)[k]);
    if (k === "__proto__") {
      Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    } else out[k] = x;
  }
  return out;
}
