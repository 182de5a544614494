/**
 * Decodes Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) into the JSON
 * object the client would have sent as JSON, using the generated field table.
 */

import { fieldsByNumber, INLINE, MAGIC, messageForKind, REPEATED, SPECIAL } from "./table.ts";

const MAX_DEPTH = 100;
const ZERO_TIME = "1970-01-01T00:00:00Z";
const OBJECT_META = "apimachinery.pkg.apis.meta.v1.ObjectMeta";
const utf8 = new TextDecoder("utf-8");

/** A malformed body; the API server answers 400 with its message. */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

/** Whether a Content-Type names the Kubernetes protobuf encoding. */
export function isKubernetesProtobuf(contentType: string | null | undefined): boolean {
  return (contentType ?? "").split(";")[0].trim().toLowerCase() === "application/vnd.kubernetes.protobuf";
}

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a JS number (exact to 2^53; 10-byte negatives come back negative). */
  varint(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = this.buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if ((b & 0x80) === 0) {
        lo >>>= 0;
        if (hi & 0x80000000) return -((~hi >>> 0) * 0x100000000 + ((~lo >>> 0) + 1));
        return (hi >>> 0) * 0x100000000 + lo;
      }
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) throw new ProtobufError("length-delimited field runs past the end");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
    }
    throw new ProtobufError(`unsupported wire type ${wireType}`);
  }

  advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufError("fixed-width field runs past the end");
    this.pos += n;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtobufError("truncated double");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

function rfc3339(seconds: number, nanos: number, micro: boolean): string {
  const iso = new Date(seconds * 1000).toISOString();
  if (!micro) return iso.replace(/\.\d+Z$/, "Z");
  return iso.replace(/\.\d+Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`);
}

/** Nanoseconds as Go's `time.Duration.String()` prints them ("1h0m0s", "30s", "1.5s"). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    out = n < 1e3 ? `${n}ns` : n < 1e6 ? `${n / 1e3}µs` : `${n / 1e6}ms`;
  } else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    const s = n / 1e9;
    out = h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

function parseJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new ProtobufError("embedded raw JSON is not valid JSON");
  }
}

function scalar(r: Reader, type: string, wireType: number): unknown {
  switch (type) {
    case "string":
      return utf8.decode(r.bytes());
    case "bytes":
      return toBase64(r.bytes());
    case "bool":
      return r.varint() !== 0;
    case "int32":
    case "int64":
    case "uint32":
    case "uint64":
      return r.varint();
    case "double":
      return r.double();
  }
  r.skip(wireType);
  return undefined;
}

function special(message: string, bytes: Uint8Array, depth: number): { value: unknown } | undefined {
  switch (message) {
    case SPECIAL.time:
    case SPECIAL.microTime: {
      const r = new Reader(bytes, 0, bytes.length);
      let seconds = 0;
      let nanos = 0;
      while (!r.done()) {
        const tag = r.varint();
        if (tag === 8) seconds = r.varint();
        else if (tag === 16) nanos = r.varint();
        else r.skip(tag & 7);
      }
      return { value: rfc3339(seconds, nanos, message === SPECIAL.microTime) };
    }
    case SPECIAL.duration: {
      const o = decodeMessage(bytes, "apimachinery.pkg.apis.meta.v1.Duration", depth) as { duration?: number };
      return { value: goDuration(o.duration ?? 0) };
    }
    case SPECIAL.quantity: {
      const o = decodeMessage(bytes, SPECIAL.quantity, depth) as { string?: string };
      return { value: o.string ?? "0" };
    }
    case SPECIAL.intOrString: {
      const o = decodeMessage(bytes, SPECIAL.intOrString, depth) as { type?: number; intVal?: number; strVal?: string };
      return { value: o.type === 1 ? (o.strVal ?? "") : (o.intVal ?? 0) };
    }
    case SPECIAL.rawExtension:
    case SPECIAL.fieldsV1: {
      const r = new Reader(bytes, 0, bytes.length);
      let raw: Uint8Array = new Uint8Array();
      while (!r.done()) {
        const tag = r.varint();
        if (tag === 10) raw = r.bytes();
        else r.skip(tag & 7);
      }
      return { value: parseJsonBytes(raw) };
    }
  }
  return undefined;
}

function decodeValue(r: Reader, type: string, wireType: number, depth: number): unknown {
  if (fieldsByNumber(type)) {
    if (wireType !== 2) throw new ProtobufError(`message field of ${type} has wire type ${wireType}`);
    const bytes = r.bytes();
    return special(type, bytes, depth)?.value ?? decodeMessage(bytes, type, depth + 1);
  }
  return scalar(r, type, wireType);
}

function decodeMapEntry(bytes: Uint8Array, keyType: string, valueType: string, depth: number): [string, unknown] {
  const r = new Reader(bytes, 0, bytes.length);
  let key: unknown = "";
  let value: unknown = fieldsByNumber(valueType) ? {} : valueType === "string" || valueType === "bytes" ? "" : 0;
  while (!r.done()) {
    const tag = r.varint();
    const num = Math.floor(tag / 8);
    const wt = tag & 7;
    if (num === 1) key = decodeValue(r, keyType, wt, depth);
    else if (num === 2) value = decodeValue(r, valueType, wt, depth);
    else r.skip(wt);
  }
  return [String(key), value];
}

/** Decodes one message into its JSON object. */
export function decodeMessage(bytes: Uint8Array, message: string, depth = 0): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ProtobufError("messages nested too deeply");
  const fields = fieldsByNumber(message);
  if (!fields) throw new ProtobufError(`unknown message ${message}`);
  const out: Record<string, unknown> = {};
  const r = new Reader(bytes, 0, bytes.length);
  while (!r.done()) {
    const tag = r.varint();
    const num = Math.floor(tag / 8);
    const wt = tag & 7;
    if (num === 0) throw new ProtobufError("field number 0");
    const row = fields.get(num);
    if (!row) {
      r.skip(wt);
      continue;
    }
    const [, name, type, flags] = row;
    if (type.startsWith("map:")) {
      const [, k, v] = type.split(":");
      if (wt !== 2) throw new ProtobufError(`map field ${name} has wire type ${wt}`);
      const [key, value] = decodeMapEntry(r.bytes(), k, v, depth + 1);
      const map = (out[name] ??= {}) as Record<string, unknown>;
      map[key] = value;
      continue;
    }
    if (flags & INLINE) {
      Object.assign(out, decodeMessage(r.bytes(), type, depth + 1));
      continue;
    }
    if (flags & REPEATED) {
      const list = (out[name] ??= []) as unknown[];
      if (wt === 2 && !fieldsByNumber(type) && type !== "string" && type !== "bytes") {
        // Packed scalars.
        const packed = r.bytes();
        const pr = new Reader(packed, 0, packed.length);
        while (!pr.done()) list.push(scalar(pr, type, type === "double" ? 1 : 0));
      } else {
        list.push(decodeValue(r, type, wt, depth));
      }
      continue;
    }
    const value = decodeValue(r, type, wt, depth);
    // Go clients send every non-pointer field, zero or not; JSON would have left out the empty
    // ones (omitempty), so leave them out here too: empty strings, zero times, generation 0.
    if (value === "" || value === ZERO_TIME || (value === 0 && name === "generation" && message === OBJECT_META)) {
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** Decodes a whole body: magic, `runtime.Unknown` envelope, then the object's message. */
export function decodeKubernetesProtobuf(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ProtobufError("the body does not start with the Kubernetes protobuf magic bytes");
  }
  const r = new Reader(bytes, 4, bytes.length);
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array | undefined;
  let encoding = "";
  while (!r.done()) {
    const tag = r.varint();
    const num = Math.floor(tag / 8);
    const wt = tag & 7;
    if (num === 1 && wt === 2) {
      const tm = r.bytes();
      const tr = new Reader(tm, 0, tm.length);
      while (!tr.done()) {
        const t = tr.varint();
        if (t === 10) apiVersion = utf8.decode(tr.bytes());
        else if (t === 18) kind = utf8.decode(tr.bytes());
        else tr.skip(t & 7);
      }
    } else if (num === 2 && wt === 2) raw = r.bytes();
    else if (num === 3 && wt === 2) encoding = utf8.decode(r.bytes());
    else r.skip(wt);
  }
  if (encoding) throw new ProtobufError(`unsupported content encoding "${encoding}"`);
  if (!kind) throw new ProtobufError("the envelope names no kind");
  const message = messageForKind(apiVersion, kind);
  if (!message) throw new ProtobufError(`no protobuf message is known for ${apiVersion}, Kind=${kind}`);
  const obj = decodeMessage(raw ?? new Uint8Array(), message);
  return { apiVersion, kind, ...obj };
}
