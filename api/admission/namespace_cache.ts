/**
 * The objects of one namespaced kind per namespace (quotas, limit ranges), read from storage on
 * first use and forgotten when a write of that kind touches the namespace — so a namespace with
 * none costs one map lookup per admission. Entries also expire after `ttlMs`, which bounds how
 * long a write made through another API server (shared etcd) can go unseen.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";

interface Entry {
  items: KubeObject[];
  loadedAt: number;
}

export interface NamespaceCacheOptions {
  /** How long an entry is trusted without a local write; default 10 s. */
  ttlMs?: number;
  now?: () => number;
}

export class NamespaceCache {
  readonly #load: (namespace: string) => Promise<KubeObject[]>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** Bumped by every invalidation, so a load that raced a write is not kept. */
  readonly #generation = new Map<string, number>();
  readonly #loading = new Map<string, Promise<KubeObject[]>>();

  constructor(load: (namespace: string) => Promise<KubeObject[]>, options: NamespaceCacheOptions = {}) {
    this.#load = load;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The cached objects of `namespace`, or undefined when they must be read. */
  peek(namespace: string): KubeObject[] | undefined {
    const entry = this.#entries.get(namespace);
    if (!entry) return undefined;
    if (this.#now() - entry.loadedAt > this.#ttlMs) {
      this.#entries.delete(namespace);
      return undefined;
    }
    return entry.items;
  }

  /** The objects of `namespace` (shared, read-only), read from storage when not cached. */
  get(namespace: string): KubeObject[] | Promise<KubeObject[]> {
    const cached = this.peek(namespace);
    if (cached) return cached;
    let loading = this.#loading.get(namespace);
    if (!loading) {
      const generation = this.#generation.get(namespace) ?? 0;
      loading = this.#load(namespace).then((items) => {
        if ((this.#generation.get(namespace) ?? 0) === generation) {
          this.#entries.set(namespace, { items, loadedAt: this.#now() });
        }
        return items;
      }).finally(() => {
        if (this.#loading.get(namespace) === loading) this.#loading.delete(namespace);
      });
      this.#loading.set(namespace, loading);
    }
    return loading;
  }

  /** Forgets what is known of `namespace` (a write of the kind happened there). */
  invalidate(namespace: string): void {
    this.#entries.delete(namespace);
    this.#loading.delete(namespace);
    this.#generation.set(namespace, (this.#generation.get(namespace) ?? 0) + 1);
  }
}
