/**
 * Service node ports out of one range (30000–32767 by default), kept as kube-apiserver keeps them:
 * one `RangeAllocation` record at `/registry/ranges/servicenodeports` whose `data` is a bitmap
 * (bit i set ⇔ port base+i taken), changed only by compare-and-swap. Every change is one
 * `guaranteedUpdate`, so allocations from any number of processes never hand out a port twice;
 * within one process changes are queued so they do not fight over the key.
 *
 * Dynamic allocation starts at a random port above a small lower band and falls back to the
 * band, which is left for ports that clients ask for by value (KEP-3668).
 */

import type { Store } from "../../../storage/store.ts";
import { rfc3339 } from "../../../machinery/object_meta.ts";
import { AllocationError, dynamicOffset } from "./errors.ts";

export const DEFAULT_NODE_PORT_RANGE = "30000-32767";
export const NODE_PORTS_KEY = "/registry/ranges/servicenodeports";

export interface PortAllocatorOptions {
  /** `first-last`, inclusive (default `30000-32767`). */
  range?: string;
  /** Storage key of the bitmap (default `/registry/ranges/servicenodeports`). */
  key?: string;
  /** Random number in [0, 1) (tests pin it). */
  random?: () => number;
  now?: () => number;
}

/** The record kept in storage, shaped like upstream's `RangeAllocation`. */
interface RangeAllocation {
  apiVersion: "v1";
  kind: "RangeAllocation";
  metadata: { creationTimestamp?: string };
  /** `first-last`. */
  range: string;
  /** The bitmap as the big-endian bytes of one big integer, base64. */
  data: string;
}

function parseRange(range: string): { base: number; size: number } {
  const m = /^(\d+)-(\d+)$/.exec(range.trim());
  const base = m ? Number(m[1]) : NaN;
  const last = m ? Number(m[2]) : NaN;
  if (!(base >= 0 && last >= base && last <= 65535)) throw new Error(`invalid port range ${range}`);
  return { base, size: last - base + 1 };
}

/** A bitmap of `size` bits, bit i in byte i>>3. */
class Bits {
  readonly bytes: Uint8Array;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(Math.ceil(size / 8));
  }
  has(i: number): boolean {
    return (this.bytes[i >> 3] & (1 << (i & 7))) !== 0;
  }
  set(i: number): void {
    this.bytes[i >> 3] |= 1 << (i & 7);
  }
  clear(i: number): void {
    this.bytes[i >> 3] &= ~(1 << (i & 7));
  }
  *ones(): Generator<number> {
    for (let b = 0; b < this.bytes.length; b++) {
      if (!this.bytes[b]) continue;
      for (let j = 0; j < 8; j++) if (this.bytes[b] & (1 << j)) yield b * 8 + j;
    }
  }
}

function encodeBits(bits: Bits): string {
  let top = bits.bytes.length - 1;
  while (top >= 0 && bits.bytes[top] === 0) top--;
  let s = "";
  for (let i = top; i >= 0; i--) s += String.fromCharCode(bits.bytes[i]);
  return btoa(s);
}

function decodeOnes(data: string): number[] {
  const raw = atob(data ?? "");
  const out: number[] = [];
  for (let k = 0; k < raw.length; k++) {
    const byte = raw.charCodeAt(raw.length - 1 - k);
    for (let j = 0; j < 8; j++) if (byte & (1 << j)) out.push(k * 8 + j);
  }
  return out;
}

export class PortAllocator {
  /** `first-last`, as error messages name it. */
  readonly range: string;
  readonly key: string;
  readonly base: number;
  readonly size: number;
  readonly #store: Store;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #dynamicOffset: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: Store, options: PortAllocatorOptions = {}) {
    const { base, size } = parseRange(options.range ?? DEFAULT_NODE_PORT_RANGE);
    this.base = base;
    this.size = size;
    this.range = `${base}-${base + size - 1}`;
    this.key = options.key ?? NODE_PORTS_KEY;
    this.#store = store;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#dynamicOffset = dynamicOffset(size, 16, 128, 32);
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.base && port < this.base + this.size;
  }

  /** Reserves `port`; `NotInRange` outside the range, `Allocated` when taken. */
  allocate(port: number): Promise<void> {
    if (!this.contains(port)) {
      return Promise.reject(
        new AllocationError(
          "NotInRange",
          `provided port is not in the valid range. The range of valid ports is ${this.range}`,
        ),
      );
    }
    return this.#change((bits) => {
      const i = port - this.base;
      if (bits.has(i)) throw new AllocationError("Allocated", "provided port is already allocated");
      bits.set(i);
    });
  }

  /** Reserves a free port; `Full` when none is left. */
  allocateNext(): Promise<number> {
    return this.#change((bits) => {
      const bands: Array<[number, number]> = [[this.#dynamicOffset, this.size - 1]];
      if (this.#dynamicOffset > 0) bands.push([0, this.#dynamicOffset - 1]);
      for (const [lo, hi] of bands) {
        const n = hi - lo + 1;
        const start = Math.floor(this.#random() * n) % n;
        for (let k = 0; k < n; k++) {
          const i = lo + ((start + k) % n);
          if (!bits.has(i)) {
            bits.set(i);
            return this.base + i;
          }
        }
      }
      throw new AllocationError("Full", "range is full");
    });
  }

  /** Frees `port`; freeing a free port or one outside the range does nothing. */
  async release(port: number): Promise<void> {
    if (!this.contains(port)) return;
    await this.#change((bits) => bits.clear(port - this.base));
  }

  /** Frees several ports in one write. */
  async releaseAll(ports: Iterable<number>): Promise<void> {
    const inRange = [...ports].filter((p) => this.contains(p));
    if (inRange.length === 0) return;
    await this.#change((bits) => {
      for (const p of inRange) bits.clear(p - this.base);
    });
  }

  /** Whether `port` is allocated now (read from storage). */
  async has(port: number): Promise<boolean> {
    if (!this.contains(port)) return false;
    return (await this.#read()).has(port - this.base);
  }

  /** Every allocated port, ascending. */
  async allocated(): Promise<number[]> {
    return [...(await this.#read()).ones()].map((i) => this.base + i);
  }

  /**
   * Makes the bitmap hold exactly `ports` (those in the range): what stored Services hold is
   * marked, what nobody holds (a create that crashed between allocating and storing) is freed.
   * Run it while no allocation is in flight (at start, before serving).
   */
  repair(ports: Iterable<number>): Promise<{ marked: number[]; freed: number[] }> {
    const want = new Set([...ports].filter((p) => this.contains(p)).map((p) => p - this.base));
    return this.#change((bits) => {
      const marked: number[] = [];
      const freed: number[] = [];
      for (const i of [...bits.ones()]) {
        if (!want.has(i)) {
          bits.clear(i);
          freed.push(this.base + i);
        }
      }
      for (const i of want) {
        if (!bits.has(i)) {
          bits.set(i);
          marked.push(this.base + i);
        }
      }
      return { marked, freed };
    });
  }

  /** The bitmap as stored, re-based onto this range if it was written for another one. */
  #decode(record: RangeAllocation | undefined): Bits {
    const bits = new Bits(this.size);
    if (!record) return bits;
    let offset = 0;
    if (record.range !== this.range) {
      try {
        offset = parseRange(record.range).base - this.base;
      } catch {
        return bits;
      }
    }
    for (const i of decodeOnes(record.data)) {
      const j = i + offset;
      if (j >= 0 && j < this.size) bits.set(j);
    }
    return bits;
  }

  async #read(): Promise<Bits> {
    const kv = await this.#store.get<RangeAllocation>(this.key);
    return this.#decode(kv?.value);
  }

  /** Applies `fn` to the bitmap in one compare-and-swap write, after earlier changes of this process. */
  #change<T>(fn: (bits: Bits) => T): Promise<T> {
    const run = async () => {
      let result!: T;
      await this.#store.guaranteedUpdate<RangeAllocation>(this.key, (current) => {
        const bits = this.#decode(current?.value);
        result = fn(bits);
        return {
          apiVersion: "v1",
          kind: "RangeAllocation",
          metadata: { creationTimestamp: current?.value.metadata?.creationTimestamp ?? rfc3339(this.#now()) },
          range: this.range,
          data: encodeBits(bits),
        };
      }, { allowCreate: true });
      return result;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }
}
