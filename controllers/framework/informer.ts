/**
 * An informer keeps a cache of one resource in step with the API server and tells handlers
 * what changed. It is an explicit state machine:
 *
 *   listing ──listed──▶ watching ──stream ended──▶ watching (resumed from the last revision)
 *      ▲                   │
 *      └──410 Expired──────┘        any other failure: backoff, then the same state again
 *
 * A relist replaces the cache and reports the difference (additions, updates, deletions of what
 * vanished meanwhile). Bookmarks only move the revision. Handlers map events to keys; they
 * must not block.
 */

import type { ListOptions, ResourceClient } from "../../machinery/client.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { Cache, type IndexFunc, keyOf } from "./cache.ts";

export interface EventHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  /** `obj` is the last state the cache knew. */
  delete?(obj: T): void;
}

export type InformerState = "idle" | "listing" | "watching" | "backoff" | "stopped";

export interface InformerOptions<T> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  /** Page size of the initial and every later list. */
  pageSize?: number;
  /** Server-side watch timeout; the stream then ends and is resumed. */
  watchTimeoutSeconds?: number;
  /** How long to wait after a failure, doubling up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Re-deliver every cached object as an update this often (0: never). */
  resyncMs?: number;
  /** Called with every failure (logging). */
  onError?: (err: unknown) => void;
  /**
   * Keep `metadata.managedFields` in the cache. Off by default: as kube-controller-manager's
   * informers do, the cache drops them, since no controller reads them and they are a third of
   * a pod's size.
   */
  keepManagedFields?: boolean;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly cache: Cache<T>;
  readonly #client: ResourceClient<T>;
  readonly #options: InformerOptions<T>;
  readonly #handlers: EventHandler<T>[] = [];
  #state: InformerState = "idle";
  #resourceVersion = "";
  #synced = false;
  #syncedWaiters: Array<() => void> = [];
  #abort = new AbortController();
  #running?: Promise<void>;
  #resync?: ReturnType<typeof setInterval>;

  constructor(client: ResourceClient<T>, options: InformerOptions<T> = {}) {
    this.#client = client;
    this.#options = options;
    this.cache = new Cache<T>(options.indexers);
  }

  get state(): InformerState {
    return this.#state;
  }

  /** The revision the cache reflects. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  /** Adds a handler; objects already cached are delivered to it as additions. */
  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    if (handler.add) { for (const obj of this.cache.list()) handler.add(obj); }
  }

  /** Starts listing and watching (once); resolves when the first list is in the cache. */
  start(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#run().catch((err) => this.#options.onError?.(err));
      if (this.#options.resyncMs) {
        this.#resync = setInterval(() => {
          for (const obj of this.cache.list()) this.#emitUpdate(obj, obj);
        }, this.#options.resyncMs);
      }
    }
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  stop(): void {
    this.#state = "stopped";
    this.#abort.abort();
    if (this.#resync !== undefined) clearInterval(this.#resync);
  }

  async #run(): Promise<void> {
    const initialBackoff = this.#options.initialBackoffMs ?? 200;
    const maxBackoff = this.#options.maxBackoffMs ?? 30_000;
    let backoff = initialBackoff;
    let next: "listing" | "watching" = "listing";
    while (!this.#abort.signal.aborted) {
      try {
        this.#state = next;
        if (next === "listing") {
          await this.#list();
          next = "watching";
        } else {
          next = await this.#watch();
        }
        backoff = initialBackoff;
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        if (
          isStatusError(err, "Expired") || isStatusError(err, "Gone") ||
          (isStatusError(err) && err.code === 410)
        ) {
          next = "listing";
          continue;
        }
        this.#options.onError?.(err);
        this.#state = "backoff";
        await sleep(backoff, this.#abort.signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
    this.#state = "stopped";
  }

  #listOptions(): ListOptions {
    return { labelSelector: this.#options.labelSelector, fieldSelector: this.#options.fieldSelector };
  }

  /** Lists everything and makes the cache equal to it, reporting the difference. */
  async #list(): Promise<void> {
    const list = await this.#client.listAll(
      this.#options.namespace ?? "",
      this.#listOptions(),
      this.#options.pageSize,
    );
    if (this.#abort.signal.aborted) return;
    const seen = new Set<string>();
    for (const obj of list.items) {
      this.#prepare(obj);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.put(obj);
      if (!old) this.#emitAdd(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#emitUpdate(old, obj);
    }
    for (const key of [...this.cache.keys()]) {
      if (seen.has(key)) continue;
      const gone = this.cache.delete(key)!;
      this.#emitDelete(gone);
    }
    this.#resourceVersion = list.metadata.resourceVersion ?? "";
    this.#state = "watching";
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncedWaiters.splice(0)) w();
    }
  }

  /** Watches from the cached revision until the stream ends; answers the next state. */
  async #watch(): Promise<"listing" | "watching"> {
    const events = this.#client.watch(this.#options.namespace ?? "", {
      ...this.#listOptions(),
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.#options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
      signal: this.#abort.signal,
    });
    for await (const event of events) {
      const obj = event.object;
      switch (event.type) {
        case "ERROR": {
          const code = (obj as { code?: number }).code;
          if (code === 410) return "listing";
          throw new Error(`watch error: ${(obj as { message?: string }).message ?? JSON.stringify(obj)}`);
        }
        case "BOOKMARK":
          break;
        case "ADDED":
        case "MODIFIED": {
          this.#prepare(obj);
          const old = this.cache.put(obj);
          if (old) this.#emitUpdate(old, obj);
          else this.#emitAdd(obj);
          break;
        }
        case "DELETED": {
          this.#prepare(obj);
          const old = this.cache.delete(keyOf(obj));
          this.#emitDelete(old ?? obj);
          break;
        }
      }
      const rv = obj.metadata?.resourceVersion;
      if (rv) this.#resourceVersion = rv;
    }
    return "watching";
  }

  /** Readies an object for the cache: the kind a list item lacks; no managedFields unless kept. */
  #prepare(obj: T): void {
    fillTypeMeta(obj, this.#client);
    if (!this.#options.keepManagedFields && obj.metadata?.managedFields) delete obj.metadata.managedFields;
  }

  #emitAdd(obj: T): void {
    for (const h of this.#handlers) h.add?.(obj);
  }

  #emitUpdate(old: T, obj: T): void {
    for (const h of this.#handlers) h.update?.(old, obj);
  }

  #emitDelete(obj: T): void {
    for (const h of this.#handlers) h.delete?.(obj);
  }
}

/** List items carry no kind; give them the resource's, as watch events have. */
function fillTypeMeta<T extends KubeObject>(obj: T, client: ResourceClient<T>): void {
  if (!obj.kind) {
    const { group, version, kind } = client.ref;
    obj.apiVersion = group ? `${group}/${version}` : version;
    obj.kind = kind;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
