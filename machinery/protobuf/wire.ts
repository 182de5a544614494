/**
 * The protobuf wire format: a bounds-checked reader and a writer for varints, fixed-width
 * values and length-delimited fields.
 */

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

/** A malformed protobuf body; the API server answers 400 with its message. */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

const TWO_32 = 0x1_0000_0000;

/** Reads one message's bytes; never reads past its end. */
export class WireReader {
  #buf: Uint8Array;
  #pos: number;
  #end: number;
  #lo = 0;
  #hi = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  /** Whether every byte has been read. */
  done(): boolean {
    return this.#pos >= this.#end;
  }

  /** Reads a varint into the low and high 32-bit halves. */
  #varint(): void {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new ProtobufError("Truncated varint");
      const b = this.#buf[this.#pos++];
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if ((b & 0x80) === 0) {
        this.#lo = lo >>> 0;
        this.#hi = hi >>> 0;
        return;
      }
    }
    throw new ProtobufError("Varint longer than 10 bytes");
  }

  /** A field key: [field number, wire type]. */
  tag(): [number, number] {
    this.#varint();
    if (this.#hi !== 0 || this.#lo >>> 3 === 0) throw new ProtobufError(`Invalid field key ${this.#lo}`);
    return [this.#lo >>> 3, this.#lo & 7];
  }

  /** A varint as int32 (the low 32 bits, signed, as protobuf sign-extends negatives). */
  int32(): number {
    this.#varint();
    return this.#lo | 0;
  }

  /** A varint as uint32. */
  uint32(): number {
    this.#varint();
    return this.#lo;
  }

  /** A varint as int64, as a number (exact within ±2^53). */
  int64(): number {
    this.#varint();
    return (this.#hi | 0) * TWO_32 + this.#lo;
  }

  /** A varint as uint64, as a number (exact below 2^53). */
  uint64(): number {
    this.#varint();
    return this.#hi * TWO_32 + this.#lo;
  }

  /** A varint as an exact int64 bigint. */
  int64Big(): bigint {
    this.#varint();
    return BigInt.asIntN(64, (BigInt(this.#hi) << 32n) | BigInt(this.#lo));
  }

  /** A varint as bool. */
  bool(): boolean {
    this.#varint();
    return this.#lo !== 0 || this.#hi !== 0;
  }

  /** A little-endian double. */
  double(): number {
    const at = this.#advance(8);
    return new DataView(this.#buf.buffer, this.#buf.byteOffset + at, 8).getFloat64(0, true);
  }

  /** A little-endian float. */
  float(): number {
    const at = this.#advance(4);
    return new DataView(this.#buf.buffer, this.#buf.byteOffset + at, 4).getFloat32(0, true);
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    this.#varint();
    if (this.#hi !== 0 || this.#lo > this.#end - this.#pos) {
      throw new ProtobufError("Length-delimited field runs past the end of its message");
    }
    const start = this.#pos;
    this.#pos += this.#lo;
    return this.#buf.subarray(start, this.#pos);
  }

  /** Skips a field of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.#varint();
        return;
      case FIXED64:
        this.#advance(8);
        return;
      case LENGTH_DELIMITED:
        this.bytes();
        return;
      case FIXED32:
        this.#advance(4);
        return;
    }
    throw new ProtobufError(`Unsupported wire type ${wireType}`);
  }

  #advance(n: number): number {
    if (n > this.#end - this.#pos) {
      throw new ProtobufError("Fixed-width field runs past the end of its message");
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
}

const utf8 = new TextEncoder();

/** Writes one message's bytes. */
export class WireWriter {
  #chunks: number[] = [];

  /** A field key. */
  tag(field: number, wireType: number): this {
    return this.uvarint(field * 8 + wireType);
  }

  /** An unsigned varint from a non-negative safe integer. */
  uvarint(n: number): this {
    while (n >= 0x80) {
      this.#chunks.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.#chunks.push(n);
    return this;
  }

  /** A signed integer as protobuf writes int32/int64: negatives as ten-byte two's complement. */
  int(n: number | bigint): this {
    if (typeof n === "number" && n >= 0) return this.uvarint(n);
    let v = BigInt.asUintN(64, BigInt(n));
    do {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      this.#chunks.push(v ? b | 0x80 : b);
    } while (v);
    return this;
  }

  /** A varint field. */
  varintField(field: number, n: number | bigint | boolean): this {
    return this.tag(field, VARINT).int(typeof n === "boolean" ? (n ? 1 : 0) : n);
  }

  /** A length-delimited field. */
  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED).uvarint(bytes.length);
    for (const b of bytes) this.#chunks.push(b);
    return this;
  }

  /** A string field. */
  stringField(field: number, s: string): this {
    return this.bytesField(field, utf8.encode(s));
  }

  /** A fixed-width little-endian field (wire type 1 for 8 bytes, 5 for 4). */
  fixedField(field: number, value: number, width: 4 | 8): this {
    const b = new Uint8Array(width);
    const view = new DataView(b.buffer);
    if (width === 8) view.setFloat64(0, value, true);
    else view.setFloat32(0, value, true);
    this.tag(field, width === 8 ? FIXED64 : FIXED32);
    for (const x of b) this.#chunks.push(x);
    return this;
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#chunks);
  }
}
