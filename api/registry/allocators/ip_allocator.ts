/**
 * Service cluster IPs out of one IPv4 CIDR, as kube-apiserver v1.33 keeps them: every allocated
 * address is a `networking.k8s.io/v1` IPAddress object named by the address, whose `parentRef`
 * names the Service holding it. The object's storage key is the lock: creating it fails when the
 * address is taken, on any backend and across API servers, so two Services never share an IP.
 *
 * The network and (IPv4) broadcast addresses are never handed out. Dynamic allocation starts at a
 * random address in the upper part of the range and falls back to the lower part, which is left
 * for addresses that clients ask for by value (KEP-3070).
 */

import { isStorageError, type KeyValue, type Store } from "../../../storage/store.ts";
import { type KubeObject, newUid, rfc3339 } from "../../../machinery/object_meta.ts";
import { AllocationError, dynamicOffset } from "./errors.ts";

/** The Service an address belongs to. */
export interface IpOwner {
  namespace: string;
  name: string;
}

export interface IpAllocatorOptions {
  /** The range, e.g. `10.96.0.0/12`. */
  cidr: string;
  /** Storage prefix of IPAddress objects, e.g. `/registry/networking.k8s.io/ipaddresses/`. */
  keyPrefix: string;
  /** Random number in [0, 1) (tests pin it). */
  random?: () => number;
  now?: () => number;
}

export const IP_FAMILY_LABEL = "ipaddress.kubernetes.io/ip-family";
export const MANAGED_BY_LABEL = "ipaddress.kubernetes.io/managed-by";
export const IP_ALLOCATOR_MANAGER = "ipallocator.k8s.io";

/** The numeric value of a dotted IPv4 address, or undefined if `s` is not one. */
export function parseIPv4(s: string): number | undefined {
  if (typeof s !== "string") return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Whether `s` is an IPv6 address. */
export function isIPv6(s: string): boolean {
  if (typeof s !== "string" || !s.includes(":") || /[^0-9a-fA-F:.]/.test(s)) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/** The canonical text of an IPv4 address (`010.1.1.1` → `10.1.1.1`); other strings unchanged. */
export function canonicalIp(s: string): string {
  const n = parseIPv4(s);
  return n === undefined ? s : formatIPv4(n);
}

interface IpAddressObject extends KubeObject {
  spec?: { parentRef?: { group?: string; resource?: string; namespace?: string; name?: string } };
}

export class IpAllocator {
  readonly cidr: string;
  readonly family = "IPv4";
  readonly keyPrefix: string;
  readonly #store: Store;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #network: number;
  /** First and last address handed out (network and broadcast excluded). */
  readonly #first: number;
  readonly #last: number;
  /** First address of the upper part, where dynamic allocation looks first. */
  readonly #dynamicStart: number;
  /**
   * Addresses believed taken: seeded from storage on first use, kept current by this
   * allocator's own writes. Only a hint — the storage key decides — so addresses freed by
   * another API server are found again by reloading when the range looks full.
   */
  #known?: Set<number>;
  #loading?: Promise<Set<number>>;

  constructor(store: Store, options: IpAllocatorOptions) {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(options.cidr);
    const base = m ? parseIPv4(m[1]) : undefined;
    const bits = m ? Number(m[2]) : NaN;
    if (base === undefined || !(bits >= 0 && bits <= 32)) {
      throw new Error(`invalid IPv4 CIDR ${options.cidr}`);
    }
    const size = 2 ** (32 - bits);
    this.#network = bits === 0 ? 0 : Math.floor(base / size) * size;
    this.cidr = `${formatIPv4(this.#network)}/${bits}`;
    this.#first = this.#network + 1;
    this.#last = this.#network + size - 2;
    this.#dynamicStart = this.#first + dynamicOffset(size, 16, 256, 16);
    if (this.#dynamicStart > this.#last) this.#dynamicStart = this.#first;
    this.keyPrefix = options.keyPrefix;
    this.#store = store;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** The first address of the range (`10.96.0.1` for `10.96.0.0/12`). */
  get firstAddress(): string {
    return formatIPv4(this.#first);
  }

  /** How many addresses the range hands out. */
  get size(): number {
    return Math.max(0, this.#last - this.#first + 1);
  }

  /** Whether `ip` may be handed out by this range. */
  contains(ip: string): boolean {
    const n = parseIPv4(ip);
    return n !== undefined && n >= this.#first && n <= this.#last;
  }

  key(ip: string): string {
    return this.keyPrefix + canonicalIp(ip);
  }

  /** Reserves `ip` for `owner`; `Mismatched` outside the range, `Allocated` when taken. */
  async allocate(ip: string, owner: IpOwner): Promise<void> {
    const n = parseIPv4(ip);
    if (n === undefined || n < this.#first || n > this.#last) {
      throw new AllocationError("Mismatched", "the provided network does not match the current range");
    }
    try {
      await this.#store.create(this.key(ip), this.#object(formatIPv4(n), owner));
    } catch (err) {
      if (isStorageError(err, "KeyExists")) {
        this.#known?.add(n);
        throw new AllocationError("Allocated", "provided IP is already allocated");
      }
      throw err;
    }
    this.#known?.add(n);
  }

  /** Reserves a free address for `owner`; `Full` when none is left. */
  async allocateNext(owner: IpOwner): Promise<string> {
    for (let pass = 0; pass < 2; pass++) {
      const known = pass === 0 ? await this.#knownSet() : await this.#reload();
      const bands: Array<[number, number]> = [[this.#dynamicStart, this.#last]];
      if (this.#dynamicStart > this.#first) bands.push([this.#first, this.#dynamicStart - 1]);
      for (const [lo, hi] of bands) {
        const size = hi - lo + 1;
        const start = Math.floor(this.#random() * size) % size;
        for (let i = 0; i < size; i++) {
          const n = lo + ((start + i) % size);
          if (known.has(n)) continue;
          // Claim locally first so concurrent calls in this process try other addresses.
          known.add(n);
          const ip = formatIPv4(n);
          try {
            await this.#store.create(this.keyPrefix + ip, this.#object(ip, owner));
            return ip;
          } catch (err) {
            if (isStorageError(err, "KeyExists")) continue;
            known.delete(n);
            throw err;
          }
        }
      }
    }
    throw new AllocationError("Full", "range is full");
  }

  /**
   * What a dry run of `allocate` checks: the range only (whether the address is free is not
   * looked at). Throws `NotInRange`.
   */
  checkDryRun(ip: string): void {
    if (!this.contains(ip)) {
      throw new AllocationError(
        "NotInRange",
        `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
      );
    }
  }

  /** The placeholder a dry run of `allocateNext` reports: the network address, as upstream does. */
  dryRunNext(): string {
    return formatIPv4(this.#network);
  }

  /**
   * Frees `ip`. With `owner`, only if the address is still recorded for that Service. Freeing an
   * address that is not allocated, or lies outside the range, does nothing.
   */
  async release(ip: string, owner?: IpOwner): Promise<void> {
    const n = parseIPv4(ip);
    if (n === undefined) return;
    try {
      await this.#store.delete<IpAddressObject>(this.key(ip), {
        precondition: owner
          ? (current) => {
            const ref = current.value.spec?.parentRef;
            if (ref && (ref.namespace !== owner.namespace || ref.name !== owner.name)) throw new NotOwner();
          }
          : undefined,
      });
    } catch (err) {
      if (err instanceof NotOwner) return;
      if (!isStorageError(err, "KeyNotFound")) throw err;
    }
    this.#known?.delete(n);
  }

  /** Whether `ip` is allocated now (read from storage). */
  async has(ip: string): Promise<boolean> {
    return !!(await this.#store.get(this.key(ip)));
  }

  /** Every allocated address of this range with the Service recorded for it. */
  async allocated(): Promise<Map<string, IpOwner | undefined>> {
    const out = new Map<string, IpOwner | undefined>();
    for (const kv of await this.#listOwn()) {
      const ref = kv.value.spec?.parentRef;
      out.set(
        kv.key.slice(this.keyPrefix.length),
        ref?.resource === "services" && ref.name
          ? { namespace: ref.namespace ?? "", name: ref.name }
          : undefined,
      );
    }
    return out;
  }

  /**
   * Makes storage agree with `claims` (address → the Service that holds it, from the stored
   * Services): a claimed address without an IPAddress gets one, one recorded for another Service
   * is re-pointed, and an address of this range nobody claims is freed once its IPAddress is
   * older than `minAgeMs` (a younger one may belong to a create still in flight elsewhere).
   */
  async repair(
    claims: Map<string, IpOwner>,
    options: { minAgeMs?: number } = {},
  ): Promise<{ created: string[]; updated: string[]; released: string[] }> {
    const minAgeMs = options.minAgeMs ?? 0;
    const now = this.#now();
    const result = { created: [] as string[], updated: [] as string[], released: [] as string[] };
    const stored = new Map<string, KeyValue<IpAddressObject>>();
    for (const kv of await this.#listOwn()) stored.set(kv.key.slice(this.keyPrefix.length), kv);
    for (const [rawIp, owner] of claims) {
      const ip = canonicalIp(rawIp);
      if (!this.contains(ip)) continue;
      const kv = stored.get(ip);
      if (!kv) {
        try {
          await this.#store.create(this.key(ip), this.#object(ip, owner));
          result.created.push(ip);
        } catch (err) {
          if (!isStorageError(err, "KeyExists")) throw err;
        }
        continue;
      }
      const ref = kv.value.spec?.parentRef;
      if (ref?.resource !== "services" || ref.namespace !== owner.namespace || ref.name !== owner.name) {
        await this.#store.guaranteedUpdate<IpAddressObject>(this.key(ip), (current) => {
          const value = current!.value;
          value.spec = { ...value.spec, parentRef: parentRef(owner) };
          return value;
        }).catch((err) => {
          if (!isStorageError(err, "KeyNotFound")) throw err;
        });
        result.updated.push(ip);
      }
    }
    const claimed = new Set([...claims.keys()].map(canonicalIp));
    for (const [ip, kv] of stored) {
      if (claimed.has(ip)) continue;
      const created = Date.parse(String(kv.value.metadata?.creationTimestamp ?? ""));
      if (minAgeMs > 0 && !(now - created >= minAgeMs)) continue;
      try {
        await this.#store.delete(kv.key, { expectedModRevision: kv.modRevision });
        result.released.push(ip);
      } catch (err) {
        if (!isStorageError(err, "KeyNotFound") && !isStorageError(err, "Conflict")) throw err;
      }
    }
    await this.#reload();
    return result;
  }

  /** The IPAddress objects of addresses in this range. */
  async #listOwn(): Promise<KeyValue<IpAddressObject>[]> {
    const { items } = await this.#store.list<IpAddressObject>(this.keyPrefix);
    return items.filter((kv) => this.contains(kv.key.slice(this.keyPrefix.length)));
  }

  #knownSet(): Promise<Set<number>> {
    if (this.#known) return Promise.resolve(this.#known);
    return this.#reload();
  }

  #reload(): Promise<Set<number>> {
    this.#loading ??= (async () => {
      try {
        const known = new Set<number>();
        for (const kv of await this.#listOwn()) known.add(parseIPv4(kv.key.slice(this.keyPrefix.length))!);
        this.#known = known;
        return known;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  #object(ip: string, owner: IpOwner): IpAddressObject {
    return {
      apiVersion: "networking.k8s.io/v1",
      kind: "IPAddress",
      metadata: {
        name: ip,
        uid: newUid(),
        creationTimestamp: rfc3339(this.#now()),
        labels: { [IP_FAMILY_LABEL]: this.family, [MANAGED_BY_LABEL]: IP_ALLOCATOR_MANAGER },
      },
      spec: { parentRef: parentRef(owner) },
    };
  }
}

function parentRef(owner: IpOwner) {
  return { resource: "services", namespace: owner.namespace, name: owner.name };
}

class NotOwner extends Error {}
