/**
 * The generated protobuf field table and the special messages whose JSON form is not an
 * object of their fields (times, quantities, int-or-string, raw JSON).
 */

import TABLE from "../../openapi/generated/protobuf.json" with { type: "json" };

/** `[number, jsonName, type, flags]`: flags bit 1 = repeated, bit 2 = inline. */
export type FieldRow = [number, string, string, number];

export const MESSAGES = TABLE.messages as unknown as Record<string, FieldRow[]>;
export const KINDS = TABLE.kinds as Record<string, string>;

export const REPEATED = 1;
export const INLINE = 2;

const META = "apimachinery.pkg.apis.meta.v1.";
export const SPECIAL = {
  time: `${META}Time`,
  microTime: `${META}MicroTime`,
  duration: `${META}Duration`,
  fieldsV1: `${META}FieldsV1`,
  quantity: "apimachinery.pkg.api.resource.Quantity",
  intOrString: "apimachinery.pkg.util.intstr.IntOrString",
  rawExtension: "apimachinery.pkg.runtime.RawExtension",
};

/** The message of a top-level kind, e.g. `apps/v1` + `Deployment`. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return KINDS[`${group}/${version}/${kind}`];
}

const byNumberCache = new Map<string, Map<number, FieldRow>>();

/** A message's fields by number. */
export function fieldsByNumber(message: string): Map<number, FieldRow> | undefined {
  let m = byNumberCache.get(message);
  if (!m) {
    const rows = MESSAGES[message];
    if (!rows) return undefined;
    m = new Map(rows.map((r) => [r[0], r]));
    byNumberCache.set(message, m);
  }
  return m;
}

/** The magic prefix of every Kubernetes protobuf body. */
export const MAGIC = [0x6b, 0x38, 0x73, 0x00];
