/**
 * The informer's cache: the objects of one resource by key (`namespace/name`, or `name` for
 * cluster-scoped kinds), with indexes kept as objects come and go. Objects in the cache are
 * shared: readers must copy before changing one.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";

/** Values an object is filed under in one index (e.g. its namespace, its owners' uids). */
export type IndexFunc<T> = (obj: T) => string[];

/** `namespace/name`, or `name` when there is no namespace. */
export function keyOf(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : m.name ?? "";
}

/** Splits a key into namespace ("" for cluster-scoped) and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The indexes every controller uses. */
export const byNamespace: IndexFunc<KubeObject> = (o) => [o.metadata?.namespace ?? ""];
/** The uids of an object's owners. */
export const byOwner: IndexFunc<KubeObject> = (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid);
/** The uid of its controlling owner. */
export const byController: IndexFunc<KubeObject> = (o) => {
  const ref = (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
  return ref ? [ref.uid] : [];
};
/** A pod's node (`spec.nodeName`), "" when unbound. */
export const byNode: IndexFunc<KubeObject> = (
  o,
) => [String((o.spec as { nodeName?: string })?.nodeName ?? "")];

export class Cache<T extends KubeObject = KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers({ namespace: byNamespace as IndexFunc<T>, ...indexers });
  }

  /** Adds indexes (building them over what is already cached). */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) continue;
      this.#indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.#indexes.set(name, index);
      for (const [key, obj] of this.#items) this.#file(index, fn(obj), key);
    }
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  getByName(namespace: string, name: string): T | undefined {
    return this.#items.get(namespace ? `${namespace}/${name}` : name);
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  /** The objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const keys = this.#indexes.get(name)?.get(value);
    if (!keys) {
      if (!this.#indexes.has(name)) throw new Error(`no index named ${name}`);
      return [];
    }
    const out: T[] = [];
    for (const k of keys) out.push(this.#items.get(k)!);
    return out;
  }

  /** The objects of one namespace. */
  inNamespace(namespace: string): T[] {
    return this.byIndex("namespace", namespace);
  }

  /** Stores `obj`; answers the object it replaced. */
  put(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unfile(key, old);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#file(this.#indexes.get(name)!, fn(obj), key);
    return old;
  }

  /** Removes the object at `key`; answers it. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unfile(key, old);
    this.#items.delete(key);
    return old;
  }

  #file(index: Map<string, Set<string>>, values: string[], key: string): void {
    for (const v of values) {
      let keys = index.get(v);
      if (!keys) index.set(v, keys = new Set());
      keys.add(key);
    }
  }

  #unfile(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        const keys = index.get(v);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(v);
      }
    }
  }
}
