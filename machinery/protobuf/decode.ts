/**
 * Decodes Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) into the JSON
 * object the client would have sent as JSON, using the generated field table.
 *
 * Go clients write every non-pointer scalar, zero or not; Go's JSON leaves the zero ones
 * out (`omitempty`). So by default a zero scalar ("" / 0 / false) is dropped unless the
 * schema requires the field or it is a pointer whose zero means something (`replicas: 0`);
 * map values and list items always stay. `keepZeroValues` keeps every field present.
 */

import { fieldsByNumber, INLINE, KEEP_ZERO, MAGIC, messageForKind, REPEATED } from "./table.ts";
import { formatGoDuration, formatTime, toBase64 } from "./json_forms.ts";
import { FIXED32, FIXED64, LENGTH_DELIMITED, ProtobufError, VARINT, WireReader } from "./wire.ts";

export { ProtobufError } from "./wire.ts";

/** The media type of Kubernetes protobuf bodies. */
export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

/** Options for decoding. */
export interface DecodeOptions {
  /** Keep zero scalars of optional fields instead of dropping them as `omitempty` JSON would. */
  keepZeroValues?: boolean;
}

const MAX_DEPTH = 100;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether a Content-Type names the Kubernetes protobuf encoding (parameters ignored). */
export function isKubernetesProtobuf(contentType: string | null | undefined): boolean {
  return (contentType ?? "").split(";")[0].trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

/**
 * Decodes a whole body: the `k8s\0` magic, the `runtime.Unknown` envelope, then the object's
 * message named by the envelope's apiVersion and kind. Throws `ProtobufError` on malformed input.
 */
export function decodeKubernetesProtobuf(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Record<string, unknown> {
  return decodeEnvelope(bytes, options, 0);
}

function decodeEnvelope(bytes: Uint8Array, options: DecodeOptions, depth: number): Record<string, unknown> {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ProtobufError("The body does not start with the Kubernetes protobuf magic bytes");
  }
  const envelope = readUnknown(new WireReader(bytes, MAGIC.length));
  if (envelope.contentEncoding) {
    throw new ProtobufError(`Unsupported content encoding ${JSON.stringify(envelope.contentEncoding)}`);
  }
  const { apiVersion, kind } = envelope;
  if (!kind) throw new ProtobufError("Object 'Kind' is missing in the protobuf envelope");
  if (envelope.contentType && envelope.contentType.split(";")[0].trim() === "application/json") {
    const obj = parseJson(envelope.raw);
    if (!isObject(obj)) throw new ProtobufError("The embedded JSON object is not an object");
    return { apiVersion, kind, ...obj };
  }
  if (envelope.contentType && !isKubernetesProtobuf(envelope.contentType)) {
    throw new ProtobufError(`Unsupported embedded content type ${JSON.stringify(envelope.contentType)}`);
  }
  const message = messageForKind(apiVersion, kind);
  if (!message) throw new ProtobufError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const obj = new Decoder(options).message(envelope.raw, message, depth + 1);
  return { apiVersion, kind, ...obj };
}

interface Unknown {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

function readUnknown(r: WireReader): Unknown {
  const out: Unknown = {
    apiVersion: "",
    kind: "",
    raw: new Uint8Array(),
    contentEncoding: "",
    contentType: "",
  };
  while (!r.done()) {
    const [field, wireType] = r.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) {
      const typeMeta = new WireReader(r.bytes());
      while (!typeMeta.done()) {
        const [f, wt] = typeMeta.tag();
        if (f === 1 && wt === LENGTH_DELIMITED) out.apiVersion = text(typeMeta.bytes());
        else if (f === 2 && wt === LENGTH_DELIMITED) out.kind = text(typeMeta.bytes());
        else typeMeta.skip(wt);
      }
    } else if (field === 2 && wireType === LENGTH_DELIMITED) out.raw = r.bytes();
    else if (field === 3 && wireType === LENGTH_DELIMITED) out.contentEncoding = text(r.bytes());
    else if (field === 4 && wireType === LENGTH_DELIMITED) out.contentType = text(r.bytes());
    else r.skip(wireType);
  }
  return out;
}

function text(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtobufError("A string field is not valid UTF-8");
  }
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return JSON.parse(text(bytes));
  } catch {
    throw new ProtobufError("Embedded raw JSON is not valid JSON");
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Sets an own property, so that keys such as `__proto__` stay data, as `JSON.parse` makes them. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isZero(value: unknown): boolean {
  return value === "" || value === 0 || value === false;
}

const VARINT_TYPES = new Set(["bool", "int32", "int64", "uint32", "uint64"]);
const SCALARS = new Set([...VARINT_TYPES, "string", "bytes", "double", "float"]);

class Decoder {
  #options: DecodeOptions;

  constructor(options: DecodeOptions) {
    this.#options = options;
  }

  /** Decodes one message's bytes into its JSON object. */
  message(bytes: Uint8Array, message: string, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw new ProtobufError("Messages are nested too deeply");
    const fields = fieldsByNumber(message);
    if (!fields) throw new ProtobufError(`Unknown message ${message}`);
    const out: Record<string, unknown> = {};
    const r = new WireReader(bytes);
    while (!r.done()) {
      const [number, wireType] = r.tag();
      const row = fields.get(number);
      if (!row) {
        r.skip(wireType);
        continue;
      }
      const [, name, type, flags] = row;
      const where = `${message}.${name}`;
      if (flags & INLINE) {
        expectWireType(where, wireType, LENGTH_DELIMITED);
        Object.assign(out, this.message(r.bytes(), type, depth + 1));
      } else if (type.startsWith("map:")) {
        expectWireType(where, wireType, LENGTH_DELIMITED);
        const [key, value] = this.#mapEntry(r.bytes(), type.slice(4), depth + 1, where);
        if (!isObject(out[name])) out[name] = {};
        setOwn(out[name] as Record<string, unknown>, key, value);
      } else if (flags & REPEATED) {
        if (!Array.isArray(out[name])) out[name] = [];
        const list = out[name] as unknown[];
        if (wireType === LENGTH_DELIMITED && isPackable(type)) {
          const packed = new WireReader(r.bytes());
          const itemWireType = type === "double" ? FIXED64 : type === "float" ? FIXED32 : VARINT;
          while (!packed.done()) list.push(this.#value(packed, type, itemWireType, depth, where));
        } else list.push(this.#value(r, type, wireType, depth, where));
      } else {
        const value = this.#value(r, type, wireType, depth, where);
        if (isZero(value) && SCALARS.has(type) && !(flags & KEEP_ZERO) && !this.#options.keepZeroValues) {
          delete out[name];
        } else out[name] = value;
      }
    }
    return out;
  }

  #mapEntry(bytes: Uint8Array, valueType: string, depth: number, where: string): [string, unknown] {
    const r = new WireReader(bytes);
    let key = "";
    let value: unknown = undefined;
    while (!r.done()) {
      const [number, wireType] = r.tag();
      if (number === 1) {
        expectWireType(`${where} key`, wireType, LENGTH_DELIMITED);
        key = text(r.bytes());
      } else if (number === 2) value = this.#value(r, valueType, wireType, depth, `${where}[${key}]`);
      else r.skip(wireType);
    }
    // An entry without a value holds the value type's zero.
    if (value === undefined) {
      value = this.#value(
        new WireReader(emptyField(valueType)),
        valueType,
        wireTypeOf(valueType),
        depth,
        where,
      );
    }
    return [key, value];
  }

  /** Reads one value of a field type (scalar, special form or message). */
  #value(r: WireReader, type: string, wireType: number, depth: number, where: string): unknown {
    expectWireType(where, wireType, wireTypeOf(type));
    switch (type) {
      case "string":
        return text(r.bytes());
      case "bytes":
        return toBase64(r.bytes());
      case "bool":
        return r.bool();
      case "int32":
        return r.int32();
      case "uint32":
        return r.uint32();
      case "int64":
        return r.int64();
      case "uint64":
        return r.uint64();
      case "double":
        return r.double();
      case "float":
        return r.float();
    }
    const bytes = r.bytes();
    switch (type) {
      case "time":
      case "microtime":
        return readTime(bytes, type === "microtime");
      case "duration":
        return formatGoDuration(
          (readFields(bytes, { 1: [VARINT, (fr) => fr.int64Big()] })[1] as bigint | undefined) ?? 0n,
        );
      case "quantity":
        return (readFields(bytes, { 1: [LENGTH_DELIMITED, (fr) => text(fr.bytes())] })[1] as
          | string
          | undefined) ?? "0";
      case "intstr":
        return readIntOrString(bytes);
      case "raw":
      case "fieldsv1":
        return this.#raw(bytes, depth);
      case "strings": {
        const items: string[] = [];
        readFields(bytes, { 1: [LENGTH_DELIMITED, (fr) => items.push(text(fr.bytes()))] });
        return items;
      }
    }
    return this.message(bytes, type, depth + 1);
  }

  /** `runtime.RawExtension` / `FieldsV1`: JSON bytes (or a nested protobuf object). */
  #raw(bytes: Uint8Array, depth: number): unknown {
    const raw = readFields(bytes, { 1: [LENGTH_DELIMITED, (fr) => fr.bytes()] })[1] as Uint8Array | undefined;
    if (!raw || raw.length === 0) return null;
    if (raw.length >= MAGIC.length && MAGIC.every((b, i) => raw[i] === b)) {
      if (depth > MAX_DEPTH) throw new ProtobufError("Messages are nested too deeply");
      return decodeEnvelope(raw, this.#options, depth + 1);
    }
    return parseJson(raw);
  }
}

function wireTypeOf(type: string): number {
  if (VARINT_TYPES.has(type)) return VARINT;
  if (type === "double") return FIXED64;
  if (type === "float") return FIXED32;
  return LENGTH_DELIMITED;
}

function isPackable(type: string): boolean {
  return wireTypeOf(type) !== LENGTH_DELIMITED;
}

/** The wire bytes of a type's zero value without its key: an empty message or a zero scalar. */
function emptyField(type: string): Uint8Array {
  const wireType = wireTypeOf(type);
  if (wireType === LENGTH_DELIMITED) return Uint8Array.of(0);
  return new Uint8Array(wireType === VARINT ? 1 : wireType === FIXED64 ? 8 : 4);
}

function expectWireType(where: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new ProtobufError(`Field ${where} has wire type ${actual}, expected ${expected}`);
  }
}

/** Reads the listed fields of a small fixed message, checking wire types; skips the rest. */
function readFields(
  bytes: Uint8Array,
  readers: Record<number, [number, (r: WireReader) => unknown]>,
): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  const r = new WireReader(bytes);
  while (!r.done()) {
    const [number, wireType] = r.tag();
    const reader = readers[number];
    if (!reader) {
      r.skip(wireType);
      continue;
    }
    expectWireType(`field ${number}`, wireType, reader[0]);
    out[number] = reader[1](r);
  }
  return out;
}

function readTime(bytes: Uint8Array, micro: boolean): string | null {
  // Go writes a zero time as an empty message; its JSON is null.
  if (bytes.length === 0) return null;
  const r = new WireReader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (!r.done()) {
    const [number, wireType] = r.tag();
    if (number === 1) {
      expectWireType("Time.seconds", wireType, VARINT);
      seconds = r.int64();
    } else if (number === 2) {
      expectWireType("Time.nanos", wireType, VARINT);
      nanos = r.int32();
    } else r.skip(wireType);
  }
  return formatTime({ seconds, nanos }, { micro });
}

function readIntOrString(bytes: Uint8Array): number | string {
  const r = new WireReader(bytes);
  let type = 0;
  let intVal = 0;
  let strVal = "";
  while (!r.done()) {
    const [number, wireType] = r.tag();
    if (number === 1) {
      expectWireType("IntOrString.type", wireType, VARINT);
      type = r.int64();
    } else if (number === 2) {
      expectWireType("IntOrString.intVal", wireType, VARINT);
      intVal = r.int32();
    } else if (number === 3) {
      expectWireType("IntOrString.strVal", wireType, LENGTH_DELIMITED);
      strVal = text(r.bytes());
    } else r.skip(wireType);
  }
  if (type === 1) return strVal;
  if (type === 0) return intVal;
  throw new ProtobufError(`Invalid IntOrString type ${type}`);
}
