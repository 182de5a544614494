/**
 * The embedded `Store` backend: one LMDB environment, log as truth.
 *
 * Every write is one LMDB transaction that bumps the revision, writes (or deletes) the object
 * and appends the event to the log. Concurrent writes share commits and disk flushes; a write
 * resolves only once flushed. Watches replay the log after their revision and then receive
 * live events pushed in-process after each flush. Older states (lists at a past revision) are
 * rebuilt by undoing the log events after that revision.
 */

import { open, type RootDatabase } from "lmdb";
import {
  type DeleteOptions,
  type GuaranteedUpdateOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  StorageError,
  type UpdateFunction,
  type WatchEvent,
  type Watcher,
  type WatchHandlers,
} from "../store.ts";

export interface LmdbStoreOptions {
  path: string;
  /** Keep events at least this long (default 5 minutes). */
  compactionWindowMs?: number;
  /** Keep at least this many revisions (default 10,000). */
  minRetainedRevisions?: number;
  /** How often automatic compaction runs (default 30 s; 0 disables it). */
  compactionIntervalMs?: number;
}

/** An object as stored: value with its revisions. */
interface Entry {
  v: unknown;
  c: number;
  m: number;
}

/** A log record: type, key, the entry after and before the change, and when it happened. */
interface LogRecord {
  t: "ADDED" | "MODIFIED" | "DELETED";
  k: string;
  o: Entry;
  p?: Entry;
  at: number;
}

interface PendingEvent {
  event: WatchEvent;
  durable: boolean;
}

interface WatcherState {
  prefix: string;
  handlers: WatchHandlers;
  stopped: boolean;
}

const META_REVISION = "revision";
const META_COMPACTED = "compacted";
const MAX_RETRIES = 1000;
const KEY_END = "\uffff";

/** Values read from LMDB are freshly decoded, so they are handed out as they are. */
function toKeyValue<T>(key: string, e: Entry): KeyValue<T> {
  return { key, value: e.v as T, createRevision: e.c, modRevision: e.m };
}

function toEvent<T>(rev: number, rec: LogRecord): WatchEvent<T> {
  const ev: WatchEvent<T> = { type: rec.t, revision: rev, key: rec.k, object: toKeyValue<T>(rec.k, rec.o) };
  if (rec.p) ev.prevObject = toKeyValue<T>(rec.k, rec.p);
  return ev;
}

/** Opens (or creates) an LMDB store at `options.path`. */
export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  await Deno.mkdir(options.path, { recursive: true });
  return new LmdbStore(options);
}

export class LmdbStore implements Store {
  readonly #env: RootDatabase;
  readonly #objects;
  readonly #log;
  readonly #meta;
  /** The newest revision assigned (possibly not yet durable). */
  #assigned: number;
  /** The newest revision whose event has been delivered: what readers see as current. */
  #dispatched: number;
  #compacted: number;
  readonly #pending: PendingEvent[] = [];
  readonly #watchers = new Set<WatcherState>();
  #closed = false;
  #timer?: ReturnType<typeof setInterval>;
  readonly #windowMs: number;
  readonly #minRetained: number;

  constructor(options: LmdbStoreOptions) {
    this.#env = open({ path: options.path, compression: false });
    this.#objects = this.#env.openDB<Entry, string>({ name: "objects", sharedStructuresKey: Symbol.for("structures") });
    this.#log = this.#env.openDB<LogRecord, number>({ name: "log", sharedStructuresKey: Symbol.for("structures") });
    this.#meta = this.#env.openDB<number, string>({ name: "meta" });
    this.#assigned = this.#meta.get(META_REVISION) ?? 0;
    this.#dispatched = this.#assigned;
    this.#compacted = this.#meta.get(META_COMPACTED) ?? 0;
    this.#windowMs = options.compactionWindowMs ?? 5 * 60_000;
    this.#minRetained = options.minRetainedRevisions ?? 10_000;
    const interval = options.compactionIntervalMs ?? 30_000;
    if (interval > 0) {
      const timer = setInterval(() => {
        this.#autoCompact().catch((err) => console.error("Compaction failed:", err));
      }, interval);
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    }
  }

  currentRevision(): number {
    return this.#dispatched;
  }

  compactedRevision(): number {
    return this.#compacted;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StorageError("Closed", "The store is closed");
  }

  /**
   * Runs `mutate` inside one write transaction. `mutate` sees the current entry of `key` and
   * returns what to do; the revision is assigned inside the transaction. Resolves when durable.
   */
  async #write(
    key: string,
    mutate: (current: Entry | undefined) => { put: unknown } | { del: true } | { none: Entry },
  ): Promise<{ rev: number; entry: Entry; type: "ADDED" | "MODIFIED" | "DELETED" | "NONE" }> {
    this.#checkOpen();
    let outcome: { rev: number; entry: Entry; type: "ADDED" | "MODIFIED" | "DELETED" | "NONE" } | undefined;
    let pending: PendingEvent | undefined;
    let failure: unknown;
    await this.#env.transaction(() => {
      try {
        const current = this.#objects.get(key);
        const action = mutate(current);
        if ("none" in action) {
          outcome = { rev: 0, entry: action.none, type: "NONE" };
          return;
        }
        const rev = ++this.#assigned;
        let rec: LogRecord;
        if ("del" in action) {
          const entry: Entry = { v: current!.v, c: current!.c, m: rev };
          this.#objects.remove(key);
          rec = { t: "DELETED", k: key, o: entry, p: current, at: Date.now() };
          outcome = { rev, entry, type: "DELETED" };
        } else {
          const entry: Entry = { v: action.put, c: current ? current.c : rev, m: rev };
          this.#objects.put(key, entry);
          rec = current
            ? { t: "MODIFIED", k: key, o: entry, p: current, at: Date.now() }
            : { t: "ADDED", k: key, o: entry, at: Date.now() };
          outcome = { rev, entry, type: rec.t };
        }
        this.#log.put(rev, rec);
        this.#meta.put(META_REVISION, rev);
        // The event is shared by every watcher; its own copy keeps it apart from the caller's value.
        pending = { event: structuredClone(toEvent(rev, rec)), durable: false };
        this.#pending.push(pending);
      } catch (err) {
        failure = err;
      }
    });
    if (failure) throw failure;
    if (pending) {
      await this.#env.flushed;
      pending.durable = true;
      this.#drain();
    }
    return outcome!;
  }

  /** Delivers durable events in revision order. */
  #drain(): void {
    while (this.#pending.length && this.#pending[0].durable) {
      const { event } = this.#pending.shift()!;
      this.#dispatched = event.revision;
      for (const w of this.#watchers) {
        if (w.stopped || !event.key.startsWith(w.prefix)) continue;
        try {
          w.handlers.onEvent(event);
        } catch (err) {
          console.error("A watch handler failed:", err);
        }
      }
    }
  }

  async create<T>(key: string, value: T): Promise<KeyValue<T>> {
    const { entry } = await this.#write(key, (current) => {
      if (current) throw new StorageError("KeyExists", `Key ${key} already exists`, { key, current: toKeyValue(key, current) });
      return { put: value };
    });
    return toKeyValue<T>(key, entry);
  }

  get<T>(key: string): Promise<KeyValue<T> | undefined> {
    this.#checkOpen();
    const e = this.#objects.get(key);
    return Promise.resolve(e ? toKeyValue<T>(key, e) : undefined);
  }

  async update<T>(key: string, value: T, expectedModRevision: number): Promise<KeyValue<T>> {
    const { entry } = await this.#write(key, (current) => {
      if (!current) throw new StorageError("KeyNotFound", `Key ${key} not found`, { key });
      if (current.m !== expectedModRevision) {
        throw new StorageError("Conflict", `Key ${key} changed (revision ${current.m}, expected ${expectedModRevision})`, {
          key,
          current: toKeyValue(key, current),
        });
      }
      return { put: value };
    });
    return toKeyValue<T>(key, entry);
  }

  async guaranteedUpdate<T>(
    key: string,
    tryUpdate: UpdateFunction<T>,
    options: GuaranteedUpdateOptions = {},
  ): Promise<KeyValue<T>> {
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      this.#checkOpen();
      const current = this.#objects.get(key);
      if (!current && !options.allowCreate) throw new StorageError("KeyNotFound", `Key ${key} not found`, { key });
      const next = await tryUpdate(current ? toKeyValue<T>(key, current) : undefined);
      const nextJson = JSON.stringify(next);
      try {
        const { entry } = await this.#write(key, (now) => {
          if ((now?.m ?? 0) !== (current?.m ?? 0)) throw new StorageError("Conflict", `Key ${key} changed`, { key });
          if (now && JSON.stringify(now.v) === nextJson) return { none: now };
          return { put: next };
        });
        return toKeyValue<T>(key, entry);
      } catch (err) {
        if (err instanceof StorageError && err.code === "Conflict") continue;
        throw err;
      }
    }
    throw new StorageError("Conflict", `Key ${key} kept changing; gave up after ${MAX_RETRIES} attempts`, { key });
  }

  async delete<T>(key: string, options: DeleteOptions<T> = {}): Promise<KeyValue<T>> {
    const { entry } = await this.#write(key, (current) => {
      if (!current) throw new StorageError("KeyNotFound", `Key ${key} not found`, { key });
      if (options.expectedModRevision !== undefined && current.m !== options.expectedModRevision) {
        throw new StorageError("Conflict", `Key ${key} changed`, { key, current: toKeyValue(key, current) });
      }
      options.precondition?.(toKeyValue<T>(key, current));
      return { del: true };
    });
    return toKeyValue<T>(key, entry);
  }

  #compactedError(requested: number): StorageError {
    return new StorageError("Compacted", `Revision ${requested} has been compacted`, {
      oldestRevision: this.#compacted + 1,
      requestedRevision: requested,
    });
  }

  /**
   * The changes after `revision` under `prefix`, as the state each key had at `revision`:
   * undefined = the key did not exist then.
   */
  #undoAfter(prefix: string, revision: number): Map<string, Entry | undefined> {
    const undo = new Map<string, Entry | undefined>();
    for (const { value: rec } of this.#log.getRange({ start: revision + 1 })) {
      if (!rec.k.startsWith(prefix) || undo.has(rec.k)) continue;
      undo.set(rec.k, rec.t === "ADDED" ? undefined : rec.p);
    }
    return undo;
  }

  list<T>(prefix: string, options: ListOptions = {}): Promise<ListResult<T>> {
    this.#checkOpen();
    const revision = options.revision && options.revision > 0 ? options.revision : this.#dispatched;
    if (revision < this.#compacted) return Promise.reject(this.#compactedError(revision));
    if (revision > this.#dispatched) {
      return Promise.reject(new StorageError("TooSlow", `Revision ${revision} is newer than the current ${this.#dispatched}`));
    }
    const start = options.startKey && options.startKey > prefix ? options.startKey : prefix;
    const end = prefix + KEY_END;
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const undo = this.#undoAfter(prefix, revision);
    // Keys that existed at `revision` but are gone now come back from the undo map.
    const restored = [...undo].filter(([k, e]) => e && k >= start && !this.#objects.doesExist(k)).map(([k]) => k).sort();
    const items: KeyValue<T>[] = [];
    let nextKey: string | undefined;
    let ri = 0;
    const take = (key: string, entry: Entry | undefined): boolean => {
      if (!entry) return true;
      if (limit && items.length >= limit) {
        nextKey = key;
        return false;
      }
      items.push(toKeyValue<T>(key, entry));
      return true;
    };
    let stopped = false;
    for (const { key, value } of this.#objects.getRange({ start, end })) {
      const k = key as string;
      while (ri < restored.length && restored[ri] < k) {
        if (!take(restored[ri], undo.get(restored[ri]))) {
          stopped = true;
          break;
        }
        ri++;
      }
      if (stopped) break;
      const entry = undo.has(k) ? undo.get(k) : value;
      if (!take(k, entry)) {
        stopped = true;
        break;
      }
    }
    while (!stopped && ri < restored.length) {
      if (!take(restored[ri], undo.get(restored[ri]))) break;
      ri++;
    }
    const result: ListResult<T> = { items, revision };
    if (nextKey !== undefined) {
      result.nextKey = nextKey;
      if (undo.size === 0) result.remaining = this.#objects.getCount({ start: nextKey, end });
    }
    return Promise.resolve(result);
  }

  count(prefix: string): Promise<number> {
    this.#checkOpen();
    return Promise.resolve(this.#objects.getCount({ start: prefix, end: prefix + KEY_END }));
  }

  watch<T>(prefix: string, afterRevision: number, handlers: WatchHandlers<T>): Watcher {
    this.#checkOpen();
    if (afterRevision < this.#compacted) throw this.#compactedError(afterRevision);
    const state: WatcherState = { prefix, handlers: handlers as WatchHandlers, stopped: false };
    // Replay what is already delivered to others, then join the live stream: no gap, no repeat.
    if (afterRevision < this.#dispatched) {
      for (const { key, value } of this.#log.getRange({ start: afterRevision + 1, end: this.#dispatched + 1 })) {
        if (state.stopped) break;
        if (!value.k.startsWith(prefix)) continue;
        try {
          handlers.onEvent(toEvent<T>(key as number, value));
        } catch (err) {
          console.error("A watch handler failed:", err);
        }
      }
    }
    this.#watchers.add(state);
    return {
      stop: () => {
        state.stopped = true;
        this.#watchers.delete(state);
      },
    };
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    const floor = Math.min(revision, this.#dispatched);
    if (floor <= this.#compacted) return;
    await this.#env.transaction(() => {
      for (const key of this.#log.getKeys({ start: this.#compacted + 1, end: floor + 1 })) {
        this.#log.remove(key);
      }
      this.#meta.put(META_COMPACTED, floor);
    });
    await this.#env.flushed;
    this.#compacted = floor;
    // Watchers that have not caught up past the floor still get their events: they are live.
  }

  async #autoCompact(): Promise<void> {
    if (this.#closed) return;
    const byCount = this.#dispatched - this.#minRetained;
    if (byCount <= this.#compacted) return;
    const cutoff = Date.now() - this.#windowMs;
    let floor = this.#compacted;
    for (const { key, value } of this.#log.getRange({ start: this.#compacted + 1, end: byCount + 1 })) {
      if (value.at > cutoff) break;
      floor = key as number;
    }
    if (floor > this.#compacted) await this.compact(floor);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const w of this.#watchers) w.stopped = true;
    this.#watchers.clear();
    await this.#env.flushed;
    await this.#env.close();
  }
}
