/**
 * The pod-template-hash, computed as upstream's `controller.ComputeHash`: FNV-32a over go-spew's
 * `%#v` dump of the `v1.PodTemplateSpec` (k8s.io/api v0.33.0, see go_dump.ts), then, when the
 * deployment has a collision count, that count as eight bytes (a little-endian uint32 and four
 * zeros); the decimal of the sum is mapped onto upstream's safe alphabet. For the same template
 * this names the ReplicaSet exactly as kube-controller-manager 1.33 does.
 *
 * A template the dump cannot model (a set timestamp, an arbitrary-precision quantity) is hashed
 * over its JSON with sorted keys instead: still stable, but not upstream's name.
 */

import { dumpPodTemplateSpec, UnsupportedValueError } from "./go_dump.ts";

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, continuing from `h`. */
export function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** Upstream's `rand.SafeEncodeString` alphabet: no vowels, no digits that look like letters. */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** Each character mapped into the safe alphabet by its code. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/** What is hashed: the Go dump, or sorted JSON where the dump cannot follow. */
export function hashInput(template: unknown): string {
  try {
    return dumpPodTemplateSpec(template);
  } catch (err) {
    if (!(err instanceof UnsupportedValueError)) throw err;
    return sortedJson(template);
  }
}

/** The FNV-32a sum (before encoding) of a template and collision count. */
export function templateSum(template: unknown, collisionCount?: number | null): number {
  let h = fnv32a(encoder.encode(hashInput(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return h;
}

/** The pod-template-hash label value (and the ReplicaSet name's suffix). */
export function computeHash(template: unknown, collisionCount?: number | null): string {
  return safeEncodeString(String(templateSum(template, collisionCount)));
}

function sortedJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  return `{${
    Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) =>
      `${JSON.stringify(k)}:${sortedJson(obj[k])}`
    ).join(",")
  }}`;
}
