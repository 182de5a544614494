/**
 * Hashes and names of what the workload controllers record: a ControllerRevision's name is
 * `<owner>-<hash>`, the hash an FNV-32 of the revision's data (plus the owner's collision count
 * when names collided), encoded with upstream's vowel-free alphabet so no word is ever spelt.
 * JSON is hashed with its keys sorted at every level, as upstream's data (a patch built from
 * maps) is marshalled.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1, 32 bits (hash/fnv's `New32`). */
export function fnv32(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (const b of bytes) h = (Math.imul(h, FNV_PRIME) ^ b) >>> 0;
  return h;
}

/** FNV-1a, 32 bits (hash/fnv's `New32a`). */
export function fnv32a(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h;
}

/** The alphabet of upstream's `rand.SafeEncodeString`: no vowels, no confusable digits. */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** Each character mapped into the safe alphabet by its code, as `rand.SafeEncodeString` does. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/** JSON with object keys sorted at every level; undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    if (obj[k] === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  }
  return `{${parts.join(",")}}`;
}

const encoder = new TextEncoder();

/** `<prefix>-<hash>`, the prefix cut to 223 characters so the name stays within 253. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/**
 * The hash of a revision's data (FNV-1 over its JSON, then the decimal `probe` when given),
 * safe-encoded, as upstream's `HashControllerRevision`.
 */
export function hashControllerRevision(data: unknown, probe?: number): string {
  let h = fnv32(encoder.encode(canonicalJson(data)));
  if (probe !== undefined) h = fnv32(encoder.encode(String(probe)), h);
  return safeEncodeString(String(h));
}

/**
 * The hash of a pod template (FNV-1a over its JSON, then the collision count as four
 * little-endian bytes when given), safe-encoded, as upstream's `controller.ComputeHash`:
 * the DaemonSet's `controller-revision-hash`.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(encoder.encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}
