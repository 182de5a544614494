/**
 * Encodes a JSON object as a Kubernetes protobuf body: the inverse of `decode.ts`, for tests
 * and for clients of our own that speak protobuf.
 */

import { fieldsByNumber, type FieldRow, INLINE, MAGIC, MESSAGES, messageForKind, REPEATED, SPECIAL } from "./table.ts";

const utf8 = new TextEncoder();

class Writer {
  readonly parts: number[] = [];

  varint(n: number): void {
    if (n < 0) {
      // Ten-byte two's complement, as protobuf writes negative int32/int64.
      let big = BigInt.asUintN(64, BigInt(n));
      for (let i = 0; i < 10; i++) {
        const b = Number(big & 0x7fn);
        big >>= 7n;
        this.parts.push(big ? b | 0x80 : b);
        if (!big) return;
      }
      return;
    }
    while (n >= 0x80) {
      this.parts.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.parts.push(n);
  }

  tag(num: number, wireType: number): void {
    this.varint(num * 8 + wireType);
  }

  bytes(num: number, b: Uint8Array): void {
    this.tag(num, 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
  }

  result(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function parseGoDuration(s: string): number {
  let ns = 0;
  for (const m of s.matchAll(/([\d.]+)(h|m|s|ms|µs|us|ns)/g)) {
    const n = Number(m[1]);
    ns += n * ({ h: 3.6e12, m: 6e10, s: 1e9, ms: 1e6, "µs": 1e3, us: 1e3, ns: 1 } as Record<string, number>)[m[2]];
  }
  return s.startsWith("-") ? -ns : ns;
}

function encodeSpecial(message: string, value: unknown): Uint8Array | undefined {
  const w = new Writer();
  switch (message) {
    case SPECIAL.time:
    case SPECIAL.microTime: {
      const ms = Date.parse(String(value));
      const seconds = Math.floor(ms / 1000);
      const micro = /\.(\d+)Z$/.exec(String(value));
      const nanos = micro ? Number(micro[1].padEnd(9, "0").slice(0, 9)) : 0;
      if (seconds) w.tag(1, 0), w.varint(seconds);
      if (nanos) w.tag(2, 0), w.varint(nanos);
      return w.result();
    }
    case SPECIAL.duration:
      w.tag(1, 0);
      w.varint(parseGoDuration(String(value)));
      return w.result();
    case SPECIAL.quantity:
      w.bytes(1, utf8.encode(String(value)));
      return w.result();
    case SPECIAL.intOrString:
      if (typeof value === "string") {
        w.tag(1, 0), w.varint(1);
        w.bytes(3, utf8.encode(value));
      } else {
        w.tag(1, 0), w.varint(0);
        w.tag(2, 0), w.varint(Number(value));
      }
      return w.result();
    case SPECIAL.rawExtension:
    case SPECIAL.fieldsV1:
      w.bytes(1, utf8.encode(JSON.stringify(value)));
      return w.result();
  }
  return undefined;
}

function encodeValue(w: Writer, num: number, type: string, value: unknown): void {
  if (MESSAGES[type]) {
    const special = encodeSpecial(type, value);
    w.bytes(num, special ?? encodeMessage(value as Record<string, unknown>, type));
    return;
  }
  switch (type) {
    case "string":
      w.bytes(num, utf8.encode(String(value)));
      return;
    case "bytes":
      w.bytes(num, fromBase64(String(value)));
      return;
    case "bool":
      w.tag(num, 0);
      w.varint(value ? 1 : 0);
      return;
    case "double": {
      w.tag(num, 1);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, Number(value), true);
      for (const x of b) w.parts.push(x);
      return;
    }
    default:
      w.tag(num, 0);
      w.varint(Number(value));
  }
}

/** Encodes one message from its JSON object. */
export function encodeMessage(obj: Record<string, unknown>, message: string): Uint8Array {
  const rows: FieldRow[] = MESSAGES[message];
  if (!rows) throw new Error(`Unknown message ${message}`);
  const w = new Writer();
  for (const [num, name, type, flags] of rows) {
    if (flags & INLINE) {
      const innerNames = new Set((MESSAGES[type] ?? []).map((r) => r[1]));
      const inner = Object.fromEntries(Object.entries(obj).filter(([k]) => innerNames.has(k)));
      if (Object.keys(inner).length) w.bytes(num, encodeMessage(inner, type));
      continue;
    }
    const value = obj[name];
    if (value === undefined || value === null) continue;
    if (type.startsWith("map:")) {
      const [, k, v] = type.split(":");
      for (const [key, val] of Object.entries(value as Record<string, unknown>)) {
        const e = new Writer();
        encodeValue(e, 1, k, key);
        encodeValue(e, 2, v, val);
        w.bytes(num, e.result());
      }
    } else if (flags & REPEATED) {
      for (const item of value as unknown[]) encodeValue(w, num, type, item);
    } else {
      encodeValue(w, num, type, value);
    }
  }
  return w.result();
}

/** Encodes a whole body: magic, envelope with apiVersion and kind, and the object's message. */
export function encodeKubernetesProtobuf(obj: Record<string, unknown>): Uint8Array {
  const apiVersion = String(obj.apiVersion ?? "");
  const kind = String(obj.kind ?? "");
  const message = messageForKind(apiVersion, kind);
  if (!message || !fieldsByNumber(message)) throw new Error(`No protobuf message for ${apiVersion}, Kind=${kind}`);
  const typeMeta = new Writer();
  typeMeta.bytes(1, utf8.encode(apiVersion));
  typeMeta.bytes(2, utf8.encode(kind));
  const envelope = new Writer();
  envelope.bytes(1, typeMeta.result());
  envelope.bytes(2, encodeMessage(obj, message));
  envelope.bytes(3, new Uint8Array());
  envelope.bytes(4, new Uint8Array());
  return Uint8Array.from([...MAGIC, ...envelope.result()]);
}
