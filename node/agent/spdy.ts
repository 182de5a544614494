/**
 * The part of SPDY/3.1 that `kubectl port-forward` speaks (inside a WebSocket, subprotocol
 * `SPDY/3.1+portforward.k8s.io`): control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING,
 * GOAWAY and WINDOW_UPDATE, and data frames with their FIN flag. Header blocks are one zlib stream
 * per direction, primed with the dictionary of the SPDY/3 draft; what this side sends uses stored
 * (uncompressed) deflate blocks, which any inflater reads.
 */

import zlib from "node:zlib";

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const WINDOW_UPDATE = 9;
export const FLAG_FIN = 0x01;

/** The header names and values the SPDY/3 dictionary lists, each with a 4-byte length. */
// deno-fmt-ignore
const DICTIONARY_WORDS = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
  "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
  "content-base", "content-encoding", "content-language", "content-length", "content-location",
  "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
  "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
  "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
  "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
  "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
  "public", "set-cookie", "keep-alive", "origin",
];

/** And the text that follows them. */
const DICTIONARY_TEXT =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
  "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

/** The SPDY/3 header compression dictionary (1,423 bytes). */
export const DICTIONARY: Uint8Array = (() => {
  const parts: number[] = [];
  for (const w of DICTIONARY_WORDS) {
    parts.push(0, 0, 0, w.length, ...new TextEncoder().encode(w));
  }
  parts.push(...new TextEncoder().encode(DICTIONARY_TEXT));
  return Uint8Array.from(parts);
})();

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export type Headers = Record<string, string>;

/** Reads the peer's header blocks: one inflate stream over everything it has sent. */
export class HeaderReader {
  #compressed: Uint8Array[] = [];
  #taken = 0;

  read(block: Uint8Array): Headers {
    this.#compressed.push(block);
    const all = Buffer.concat(this.#compressed);
    const out = zlib.inflateSync(all, { dictionary: DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const fresh = new Uint8Array(out.subarray(this.#taken));
    this.#taken = out.length;
    const view = new DataView(fresh.buffer, fresh.byteOffset, fresh.byteLength);
    const headers: Headers = {};
    let at = 4;
    const count = view.getUint32(0);
    const decoder = new TextDecoder();
    for (let i = 0; i < count; i++) {
      const nameLength = view.getUint32(at);
      const name = decoder.decode(fresh.subarray(at + 4, at + 4 + nameLength));
      at += 4 + nameLength;
      const valueLength = view.getUint32(at);
      headers[name.toLowerCase()] = decoder.decode(fresh.subarray(at + 4, at + 4 + valueLength));
      at += 4 + valueLength;
    }
    return headers;
  }
}

/** Writes header blocks as one zlib stream of stored blocks (the first with the zlib header). */
export class HeaderWriter {
  #started = false;

  write(headers: Headers): Uint8Array {
    const encoder = new TextEncoder();
    const raw: number[] = [];
    const u32 = (n: number) => raw.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    const entries = Object.entries(headers);
    u32(entries.length);
    for (const [k, v] of entries) {
      const kb = encoder.encode(k);
      const vb = encoder.encode(v);
      u32(kb.length);
      raw.push(...kb);
      u32(vb.length);
      raw.push(...vb);
    }
    const out: number[] = [];
    if (!this.#started) {
      this.#started = true;
      // CMF 0x78 (deflate, 32K window); FLG with FDICT, its check bits making the pair a multiple of 31.
      const cmf = 0x78;
      let flg = 0x20;
      flg += 31 - ((cmf * 256 + flg) % 31);
      const id = adler32(DICTIONARY);
      out.push(cmf, flg, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255);
    }
    // A stored, non-final block: BFINAL 0, BTYPE 00, LEN, NLEN (little endian); then an empty one, as
    // a sync flush ends a block: Go's inflater hands out what it has only on reaching one, and
    // otherwise reads on past the frame and keeps the error.
    out.push(0, raw.length & 255, raw.length >>> 8, ~raw.length & 255, (~raw.length >>> 8) & 255, ...raw);
    out.push(0, 0, 0, 0xff, 0xff);
    return Uint8Array.from(out);
  }
}

export interface ControlFrame {
  control: true;
  type: number;
  flags: number;
  data: Uint8Array;
}

export interface DataFrame {
  control: false;
  streamId: number;
  flags: number;
  data: Uint8Array;
}

/** Cuts a byte stream (arriving in arbitrary pieces) into frames. */
export class FrameReader {
  #buffer = new Uint8Array(0);

  push(bytes: Uint8Array): Array<ControlFrame | DataFrame> {
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    const frames: Array<ControlFrame | DataFrame> = [];
    let at = 0;
    while (joined.length - at >= 8) {
      const length = (joined[at + 5] << 16) | (joined[at + 6] << 8) | joined[at + 7];
      if (joined.length - at < 8 + length) break;
      const flags = joined[at + 4];
      const data = joined.slice(at + 8, at + 8 + length);
      if (joined[at] & 0x80) {
        frames.push({ control: true, type: (joined[at + 2] << 8) | joined[at + 3], flags, data });
      } else {
        const streamId = ((joined[at] & 0x7f) << 24) | (joined[at + 1] << 16) | (joined[at + 2] << 8) |
          joined[at + 3];
        frames.push({ control: false, streamId, flags, data });
      }
      at += 8 + length;
    }
    this.#buffer = joined.slice(at);
    return frames;
  }
}

function header(first4: number[], flags: number, length: number): number[] {
  return [...first4, flags, (length >>> 16) & 255, (length >>> 8) & 255, length & 255];
}

export function controlFrame(type: number, flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out.set(header([0x80, 3, (type >>> 8) & 255, type & 255], flags, data.length));
  out.set(data, 8);
  return out;
}

export function dataFrame(streamId: number, flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out.set(
    header(
      [(streamId >>> 24) & 0x7f, (streamId >>> 16) & 255, (streamId >>> 8) & 255, streamId & 255],
      flags,
      data.length,
    ),
  );
  out.set(data, 8);
  return out;
}

export function u32(n: number): Uint8Array {
  return Uint8Array.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

export function readU31(data: Uint8Array, at = 0): number {
  return ((data[at] & 0x7f) << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3];
}
