/**
 * Encodes a JSON object as a Kubernetes protobuf body, the inverse of `decode.ts`: for tests
 * and for answering clients in protobuf.
 */

import { INLINE, MAGIC, messageFields, messageForKind, REPEATED } from "./table.ts";
import { fromBase64, parseGoDuration, parseTime } from "./json_forms.ts";
import { WireWriter } from "./wire.ts";

const utf8 = new TextEncoder();

/**
 * Encodes a whole body: the `k8s\0` magic and a `runtime.Unknown` envelope carrying the
 * object's apiVersion, kind and message bytes. Throws for a kind without a message.
 */
export function encodeKubernetesProtobuf(obj: Record<string, unknown>): Uint8Array {
  const apiVersion = String(obj.apiVersion ?? "");
  const kind = String(obj.kind ?? "");
  const message = messageForKind(apiVersion, kind);
  if (!message) throw new Error(`No protobuf message is known for ${apiVersion}, Kind=${kind}`);
  const typeMeta = new WireWriter().stringField(1, apiVersion).stringField(2, kind).finish();
  const envelope = new WireWriter()
    .bytesField(1, typeMeta)
    .bytesField(2, encodeMessage(obj, message))
    .stringField(3, "")
    .stringField(4, "")
    .finish();
  const out = new Uint8Array(MAGIC.length + envelope.length);
  out.set(MAGIC);
  out.set(envelope, MAGIC.length);
  return out;
}

/** Encodes one message from its JSON object (fields not in the message are ignored). */
export function encodeMessage(obj: Record<string, unknown>, message: string): Uint8Array {
  const rows = messageFields(message);
  if (!rows) throw new Error(`Unknown protobuf message ${message}`);
  const w = new WireWriter();
  for (const [number, name, type, flags] of rows) {
    if (flags & INLINE) {
      // An embedded struct reads its fields from the same JSON object; Go always writes it.
      w.bytesField(number, encodeMessage(obj, type));
      continue;
    }
    if (!Object.hasOwn(obj, name)) continue;
    const value = obj[name];
    if (value === undefined) continue;
    if (type.startsWith("map:")) {
      if (value === null) continue;
      for (const [key, item] of Object.entries(expectObject(value, name))) {
        const entry = new WireWriter().stringField(1, key);
        writeValue(entry, 2, type.slice(4), item);
        w.bytesField(number, entry.finish());
      }
    } else if (flags & REPEATED) {
      if (value === null) continue;
      if (!Array.isArray(value)) throw new Error(`Field ${name} must be a list`);
      for (const item of value) writeValue(w, number, type, item);
    } else if (value !== null || NULLABLE.has(type)) {
      writeValue(w, number, type, value);
    }
  }
  return w.finish();
}

/** Special forms whose JSON null has a protobuf form (an empty message). */
const NULLABLE = new Set(["time", "microtime", "raw", "fieldsv1"]);

function expectObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`Field ${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

function writeValue(w: WireWriter, number: number, type: string, value: unknown): void {
  switch (type) {
    case "string":
      w.stringField(number, String(value));
      return;
    case "bytes":
      w.bytesField(number, fromBase64(String(value)));
      return;
    case "bool":
      w.varintField(number, Boolean(value));
      return;
    case "int32":
    case "int64":
    case "uint32":
    case "uint64":
      w.varintField(number, Math.trunc(Number(value)));
      return;
    case "double":
      w.fixedField(number, Number(value), 8);
      return;
    case "float":
      w.fixedField(number, Number(value), 4);
      return;
    case "time":
    case "microtime": {
      const inner = new WireWriter();
      if (value !== null) {
        const { seconds, nanos } = parseTime(String(value));
        inner.varintField(1, seconds).varintField(2, nanos);
      }
      w.bytesField(number, inner.finish());
      return;
    }
    case "duration":
      w.bytesField(number, new WireWriter().varintField(1, parseGoDuration(String(value))).finish());
      return;
    case "quantity":
      w.bytesField(number, new WireWriter().stringField(1, String(value)).finish());
      return;
    case "intstr": {
      const isString = typeof value === "string";
      const inner = new WireWriter()
        .varintField(1, isString ? 1 : 0)
        .varintField(2, isString ? 0 : Math.trunc(Number(value)))
        .stringField(3, isString ? value : "");
      w.bytesField(number, inner.finish());
      return;
    }
    case "raw":
    case "fieldsv1": {
      const inner = new WireWriter();
      if (value !== null) inner.bytesField(1, utf8.encode(JSON.stringify(value)));
      w.bytesField(number, inner.finish());
      return;
    }
    case "strings": {
      if (!Array.isArray(value)) throw new Error("A string list must be a list");
      const inner = new WireWriter();
      for (const item of value) inner.stringField(1, String(item));
      w.bytesField(number, inner.finish());
      return;
    }
  }
  w.bytesField(number, encodeMessage(expectObject(value, type), type));
}
