/**
 * The generated protobuf field table (`openapi/generated/protobuf.json`, written by
 * `openapi/gen_protobuf.ts`) and lookups over it.
 */

import TABLE from "../../openapi/generated/protobuf.json" with { type: "json" };

/** `[number, jsonName, type, flags]`; see `openapi/gen_protobuf.ts` for the type names. */
export type FieldRow = [number, string, string, number];

/** The field is repeated. */
export const REPEATED = 1;
/** The field is a Go embedded struct: its fields sit in the parent's JSON object. */
export const INLINE = 2;
/** A zero value ("" / 0 / false) of this field stays in JSON (required, or a meaningful pointer). */
export const KEEP_ZERO = 4;

/** The magic prefix of every Kubernetes protobuf body: `k8s\0`. */
export const MAGIC: readonly number[] = [0x6b, 0x38, 0x73, 0x00];

const MESSAGES = (TABLE as unknown as { m: Record<string, FieldRow[]> }).m;
const KINDS = (TABLE as unknown as { k: Record<string, string> }).k;

/** A message's field rows in field-number order, or undefined for an unknown message. */
export function messageFields(message: string): FieldRow[] | undefined {
  return Object.hasOwn(MESSAGES, message) ? MESSAGES[message] : undefined;
}

const byNumberCache = new Map<string, Map<number, FieldRow>>();

/** A message's fields keyed by field number, or undefined for an unknown message. */
export function fieldsByNumber(message: string): Map<number, FieldRow> | undefined {
  let fields = byNumberCache.get(message);
  if (!fields) {
    const rows = messageFields(message);
    if (!rows) return undefined;
    fields = new Map(rows.map((row) => [row[0], row]));
    byNumberCache.set(message, fields);
  }
  return fields;
}

/** The message of a top-level object, e.g. (`apps/v1`, `Deployment`) → `api.apps.v1.Deployment`. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  const key = `${apiVersion}/${kind}`;
  return Object.hasOwn(KINDS, key) ? KINDS[key] : undefined;
}
