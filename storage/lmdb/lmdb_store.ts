/**
 * The embedded `Store` backend: one LMDB environment where the log is the truth.
 *
 * Sub-databases:
 * - `objects`: key → {createRevision, modRevision} of the newest state, whose value is the object
 *   of the log record at modRevision (one copy per write); the value is copied in only when
 *   compaction is about to drop that record,
 * - `log`: revision → {type, key, object, prevObject, time} (every change not yet compacted); the
 *   previous object is kept by reference (the revision of its own log record) while that record is
 *   in the log, and copied in when compaction is about to drop it,
 * - `refs`: revision → the revision of the record that refers to it as its previous object,
 * - `meta`: the current revision, the compaction floor and the log's encoding.
 *
 * Every write is one LMDB transaction that bumps the revision, changes `objects` and appends to
 * `log`. Writes made in the same event turn share one commit and one disk flush; a write resolves
 * only once flushed. After the flush, events are pushed in revision order to in-process watchers.
 * A list at a past revision undoes the log events after it.
 *
 * @module
 */

import { open, type RootDatabase } from "lmdb";
import {
  type DeleteOptions,
  type GuaranteedUpdateOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  StorageError,
  type Store,
  type UpdateFunction,
  type Watcher,
  type WatchEvent,
  type WatchEventType,
  type WatchHandlers,
} from "../store.ts";

/** Options of {@linkcode openLmdbStore}. */
export interface LmdbStoreOptions {
  /** Directory of the LMDB environment (created if missing). */
  path: string;
  /** Automatic compaction keeps events younger than this (default 5 minutes). */
  compactionWindowMs?: number;
  /** Automatic compaction keeps at least this many revisions (default 10,000). */
  minRetainedRevisions?: number;
  /** How often automatic compaction runs (default 60 s; 0 turns it off). */
  compactionIntervalMs?: number;
  /**
   * The address space reserved for the map (default 64 GiB; the file grows only as data does).
   * Reserving it up front spares the remaps of a growing map, each of which would map the
   * file once more and count its pages again in the process's RSS.
   */
  mapSize?: number;
}

/** An object: value, createRevision, modRevision. */
interface Entry {
  v: unknown;
  c: number;
  m: number;
}

/** A row of `objects`: without `v`, the value is `o.v` of the log record at `m`. */
interface Stored {
  v?: unknown;
  c: number;
  m: number;
}

/**
 * A log record: type, key, the entry after the change, the entry before it (`p`, or `pm`: the
 * revision of the log record that holds it as its `o`), and the time of the write.
 */
interface LogRecord {
  t: WatchEventType;
  k: string;
  o: Entry;
  p?: Entry;
  pm?: number;
  at: number;
}

/** A committed write waiting for its flush before watchers hear of it. */
interface Pending {
  revision: number;
  key: string;
  durable: boolean;
}

interface WatcherState {
  prefix: string;
  handlers: WatchHandlers;
  /** Live events at or below this revision were already replayed. */
  after: number;
  stopped: boolean;
}

/** What a write decided inside its transaction. */
type Decision =
  | { kind: "put"; value: unknown }
  | { kind: "delete" }
  | { kind: "none"; result: KeyValue };

type TxnOutcome =
  | { ok: true; kv: KeyValue; pending?: Pending }
  | { ok: false; error: unknown };

const META_REVISION = "revision";
const META_COMPACTED = "compacted";
const META_LOG_ENCODING = "logEncoding";
const STRUCTURES = Symbol.for("structures");
const KEY_END = "\uffff";
const LOG_END = Number.MAX_SAFE_INTEGER;
const MAX_UPDATE_ATTEMPTS = 10_000;
const COMPACTION_CHUNK = 2_000;

function toKeyValue<T>(key: string, entry: Entry): KeyValue<T> {
  return { key, value: entry.v as T, createRevision: entry.c, modRevision: entry.m };
}

/** Thrown inside a guaranteedUpdate transaction when the key moved on; carries what it is now. */
class Changed extends Error {
  constructor(readonly latest: Entry | undefined) {
    super("The key was modified");
  }
}

function closedError(): StorageError {
  return new StorageError("Closed", "The store is closed");
}

/**
 * Opens (creating if needed) the LMDB store at `options.path`. Only one process may open a
 * given path at a time: compare-and-swap checks rely on being the only writer.
 */
export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  await Deno.mkdir(options.path, { recursive: true });
  return new LmdbStore(options);
}

/** The LMDB implementation of {@linkcode Store}. */
export class LmdbStore implements Store {
  readonly #env: RootDatabase;
  readonly #objects;
  readonly #log;
  readonly #refs;
  readonly #meta;
  readonly #windowMs: number;
  readonly #minRetained: number;
  /** The newest revision handed out inside a transaction (committed or about to be). */
  #assigned: number;
  /** The newest revision flushed and announced: what readers see as current. */
  #dispatched: number;
  #compacted: number;
  readonly #pending: Pending[] = [];
  /** Watchers grouped by prefix, so one event costs one check per distinct prefix. */
  readonly #watchers = new Map<string, Set<WatcherState>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #timer?: ReturnType<typeof setInterval>;
  #compacting = false;
  #closed = false;
  /** Set when a commit failed: the in-memory revision can no longer be trusted. */
  #broken?: unknown;

  /** Prefer {@linkcode openLmdbStore}, which also creates the directory. */
  constructor(options: LmdbStoreOptions) {
    this.#env = open({ path: options.path, compression: false, mapSize: options.mapSize ?? 64 * 2 ** 30 });
    this.#objects = this.#env.openDB<Stored, string>({ name: "objects", sharedStructuresKey: STRUCTURES });
    this.#meta = this.#env.openDB<number | string, string>({ name: "meta" });
    // The log holds every object written, in JSON: V8's JSON.stringify and JSON.parse cost less
    // than msgpackr on these objects, whose many shapes overflow its shared record structures
    // (a 1,000-pod Deployment came up in 2.3 s instead of 2.8 s). Stores whose log was written in
    // msgpack before keep it. LZ4 shrinks the log by more than half at no measurable cost;
    // records written uncompressed still read.
    const legacyLog = this.#meta.get(META_LOG_ENCODING) === undefined &&
      this.#meta.get(META_REVISION) !== undefined;
    if (!legacyLog) this.#meta.putSync(META_LOG_ENCODING, "json");
    this.#log = this.#env.openDB<LogRecord, number>({
      name: "log",
      ...(legacyLog ? { sharedStructuresKey: STRUCTURES } : { encoding: "json" }),
      compression: true,
    });
    this.#refs = this.#env.openDB<number, number>({ name: "refs" });
    this.#compacted = (this.#meta.get(META_COMPACTED) as number | undefined) ?? 0;
    let revision = (this.#meta.get(META_REVISION) as number | undefined) ?? 0;
    for (const key of this.#log.getKeys({ start: LOG_END, end: 0, reverse: true, limit: 1 })) {
      revision = Math.max(revision, key as number);
    }
    this.#assigned = this.#dispatched = Math.max(revision, this.#compacted);
    this.#windowMs = options.compactionWindowMs ?? 5 * 60_000;
    this.#minRetained = options.minRetainedRevisions ?? 10_000;
    const interval = options.compactionIntervalMs ?? 60_000;
    if (interval > 0) {
      const timer = setInterval(() => this.#autoCompact(), interval);
      Deno.unrefTimer(timer);
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
    if (this.#closed) throw closedError();
    if (this.#broken !== undefined) throw this.#broken;
  }

  /** Tracks `promise` so `close()` can wait for it. */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const forget = () => this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /**
   * Runs `decide` on the current entry of `key` inside one write transaction, applies the decision
   * (bumping the revision and appending to the log), and resolves once the change is durable.
   */
  #write<T>(key: string, decide: (current: Entry | undefined) => Decision): Promise<KeyValue<T>> {
    try {
      this.#checkOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#track(this.#commit<T>(key, decide));
  }

  async #commit<T>(key: string, decide: (current: Entry | undefined) => Decision): Promise<KeyValue<T>> {
    let outcome: TxnOutcome | undefined;
    try {
      await this.#env.transaction(() => {
        outcome = this.#apply(key, decide);
      });
      // A no-op may report a state that an earlier write of the same commit produced.
      if (outcome?.ok && (outcome.pending || outcome.kv.modRevision > this.#dispatched)) {
        await this.#env.flushed;
      }
    } catch (err) {
      // A failed commit leaves revisions handed out that never reached the disk.
      this.#broken ??= new StorageError(
        "Closed",
        `The store failed to commit: ${(err as Error)?.message ?? err}`,
      );
      const at = outcome?.ok && outcome.pending ? this.#pending.indexOf(outcome.pending) : -1;
      if (at >= 0) this.#pending.splice(at, 1);
      throw err;
    }
    if (!outcome) throw new Error("The write transaction did not run");
    if (!outcome.ok) throw outcome.error;
    if (outcome.pending) {
      outcome.pending.durable = true;
      this.#drain();
    }
    return outcome.kv as KeyValue<T>;
  }

  /** The body of a write transaction; never throws (LMDB would abort the whole batch). */
  #apply(key: string, decide: (current: Entry | undefined) => Decision): TxnOutcome {
    try {
      if (this.#broken !== undefined) throw this.#broken;
      const current = this.#lazyEntry(key);
      const decision = decide(current);
      if (decision.kind === "none") return { ok: true, kv: decision.result };
      const revision = this.#assigned + 1;
      const at = Date.now();
      let rec: LogRecord;
      let entry: Entry;
      if (decision.kind === "delete") {
        entry = { v: current!.v, c: current!.c, m: revision };
        rec = { t: "DELETED", k: key, o: entry, ...this.#previous(current!, revision), at };
        this.#objects.remove(key);
      } else {
        entry = { v: decision.value, c: current ? current.c : revision, m: revision };
        rec = current
          ? { t: "MODIFIED", k: key, o: entry, ...this.#previous(current, revision), at }
          : { t: "ADDED", k: key, o: entry, at };
        this.#objects.put(key, { c: entry.c, m: revision });
      }
      this.#log.put(revision, rec);
      this.#meta.put(META_REVISION, revision);
      this.#assigned = revision;
      const pending: Pending = { revision, key, durable: false };
      this.#pending.push(pending);
      return { ok: true, kv: toKeyValue(key, entry), pending };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /**
   * The entry of `key` inside a write transaction, its value read from the log only if asked
   * for: most writes check the revision alone, and reading the value costs a decompression and a
   * parse.
   */
  #lazyEntry(key: string): Entry | undefined {
    const stored = this.#objects.get(key);
    if (!stored || stored.v !== undefined) return stored as Entry | undefined;
    let value: unknown;
    let read = false;
    const resolve = () => {
      if (!read) {
        value = this.#resolve(key, stored).v;
        read = true;
      }
      return value;
    };
    return {
      c: stored.c,
      m: stored.m,
      get v() {
        return resolve();
      },
    };
  }

  /** The entry of `key` with its value (read from the log unless `objects` holds a copy). */
  #entry(key: string): Entry | undefined {
    const stored = this.#objects.get(key);
    return stored && this.#resolve(key, stored);
  }

  #resolve(key: string, stored: Stored): Entry {
    if (stored.v !== undefined) return stored as Entry;
    const rec = this.#log.get(stored.m);
    if (!rec || rec.k !== key) throw new Error(`Log entry ${stored.m} (the value of ${key}) is missing`);
    return rec.o;
  }

  /** Announces flushed writes in revision order: one pass over the distinct watched prefixes. */
  #drain(): void {
    while (this.#pending.length > 0 && this.#pending[0].durable) {
      const { revision, key } = this.#pending.shift()!;
      this.#dispatched = revision;
      let event: WatchEvent | undefined;
      for (const [prefix, group] of this.#watchers) {
        if (!key.startsWith(prefix)) continue;
        event ??= this.#readEvent(revision);
        if (!event) break;
        for (const w of group) {
          if (!w.stopped && revision > w.after) this.#deliver(w, event);
        }
      }
    }
  }

  /** The event of `revision`, decoded afresh from the log (shared by every watcher). */
  #readEvent(revision: number): WatchEvent | undefined {
    let rec = this.#log.get(revision);
    if (!rec) {
      this.#env.resetReadTxn();
      rec = this.#log.get(revision);
    }
    if (!rec) {
      console.error(`Log entry ${revision} is missing`);
      return undefined;
    }
    return this.#toEvent(revision, rec);
  }

  /**
   * How a record written at `revision` keeps the entry before it: by reference while that
   * entry's own log record is above the compaction floor (noted in `refs`, so compaction can
   * copy it in before dropping it), else as a copy.
   */
  #previous(current: Entry, revision: number): { p: Entry } | { pm: number } {
    if (current.m <= this.#compacted) return { p: current };
    this.#refs.put(current.m, revision);
    return { pm: current.m };
  }

  /** The entry before the change a record describes (undefined for ADDED). */
  #prevOf(rec: LogRecord): Entry | undefined {
    if (rec.p) return rec.p;
    if (rec.pm === undefined) return undefined;
    const held = this.#log.get(rec.pm);
    if (!held) throw new Error(`Log entry ${rec.pm} (the previous state of ${rec.k}) is missing`);
    return held.o;
  }

  #toEvent<T>(revision: number, rec: LogRecord): WatchEvent<T> {
    const event: WatchEvent<T> = { type: rec.t, revision, key: rec.k, object: toKeyValue<T>(rec.k, rec.o) };
    const prev = this.#prevOf(rec);
    if (prev) event.prevObject = toKeyValue<T>(rec.k, prev);
    return event;
  }

  #deliver(w: WatcherState, event: WatchEvent): void {
    try {
      w.handlers.onEvent(event);
    } catch (err) {
      console.error("A watch handler failed:", err);
    }
  }

  create<T>(key: string, value: T): Promise<KeyValue<T>> {
    return this.#write<T>(key, (current) => {
      if (current) {
        throw new StorageError("KeyExists", `Key ${key} already exists`, {
          key,
          current: toKeyValue(key, current),
        });
      }
      return { kind: "put", value };
    });
  }

  get<T>(key: string): Promise<KeyValue<T> | undefined> {
    try {
      this.#checkOpen();
      const entry = this.#entry(key);
      return Promise.resolve(entry ? toKeyValue<T>(key, entry) : undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  update<T>(key: string, value: T, expectedModRevision: number): Promise<KeyValue<T>> {
    return this.#write<T>(key, (current) => {
      if (!current) throw new StorageError("KeyNotFound", `Key ${key} not found`, { key });
      if (current.m !== expectedModRevision) {
        throw new StorageError(
          "Conflict",
          `Key ${key} was modified (revision ${current.m}, expected ${expectedModRevision})`,
          { key, current: toKeyValue(key, current) },
        );
      }
      return { kind: "put", value };
    });
  }

  async guaranteedUpdate<T>(
    key: string,
    tryUpdate: UpdateFunction<T>,
    options: GuaranteedUpdateOptions = {},
  ): Promise<KeyValue<T>> {
    this.#checkOpen();
    let current = this.#entry(key);
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      if (!current && !options.allowCreate) {
        throw new StorageError("KeyNotFound", `Key ${key} not found`, { key });
      }
      // Encode before tryUpdate runs: it may change the value it is given in place.
      const before = current ? JSON.stringify(current.v) : undefined;
      const next = await tryUpdate(current ? toKeyValue<T>(key, current) : undefined);
      const unchanged = before !== undefined && JSON.stringify(next) === before;
      const seen = current?.m ?? 0;
      try {
        return await this.#write<T>(key, (now) => {
          if ((now?.m ?? 0) !== seen) throw new Changed(now);
          if (unchanged) return { kind: "none", result: { ...toKeyValue(key, now!), value: next } };
          return { kind: "put", value: next };
        });
      } catch (err) {
        if (!(err instanceof Changed)) throw err;
        // The entry read inside the transaction is newer than any snapshot: retry on it.
        current = err.latest;
      }
    }
    throw new StorageError(
      "Conflict",
      `Key ${key} kept changing; gave up after ${MAX_UPDATE_ATTEMPTS} attempts`,
      {
        key,
      },
    );
  }

  delete<T>(key: string, options: DeleteOptions<T> = {}): Promise<KeyValue<T>> {
    return this.#write<T>(key, (current) => {
      if (!current) throw new StorageError("KeyNotFound", `Key ${key} not found`, { key });
      if (options.expectedModRevision !== undefined && current.m !== options.expectedModRevision) {
        throw new StorageError(
          "Conflict",
          `Key ${key} was modified (revision ${current.m}, expected ${options.expectedModRevision})`,
          { key, current: toKeyValue(key, current) },
        );
      }
      options.precondition?.(toKeyValue<T>(key, current));
      return { kind: "delete" };
    });
  }

  #compactedError(requested: number): StorageError {
    return new StorageError("Compacted", `Revision ${requested} has been compacted`, {
      oldestRevision: this.#compacted + 1,
      requestedRevision: requested,
    });
  }

  /**
   * For keys under `prefix` changed after `revision`: their entry at `revision`, or undefined when
   * they did not exist then. Runs inside the caller's read snapshot.
   */
  #stateAt(prefix: string, revision: number): Map<string, Entry | undefined> {
    const undo = new Map<string, Entry | undefined>();
    for (const { value: rec } of this.#log.getRange({ start: revision + 1, end: LOG_END })) {
      if (!rec || undo.has(rec.k) || !rec.k.startsWith(prefix)) continue;
      undo.set(rec.k, rec.t === "ADDED" ? undefined : this.#prevOf(rec));
    }
    return undo;
  }

  list<T>(prefix: string, options: ListOptions = {}): Promise<ListResult<T>> {
    try {
      return Promise.resolve(this.#list<T>(prefix, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Synchronous, so that `objects` and `log` are read in one snapshot. */
  #list<T>(prefix: string, options: ListOptions): ListResult<T> {
    this.#checkOpen();
    const revision = options.revision && options.revision > 0 ? options.revision : this.#dispatched;
    if (revision < this.#compacted) throw this.#compactedError(revision);
    if (revision > this.#dispatched) {
      throw new StorageError(
        "TooSlow",
        `Revision ${revision} is newer than the current revision ${this.#dispatched}`,
        {
          requestedRevision: revision,
        },
      );
    }
    const start = options.startKey && options.startKey > prefix ? options.startKey : prefix;
    const end = prefix + KEY_END;
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    // Writes after `revision` (including committed ones not yet announced) are undone.
    const undo = this.#stateAt(prefix, revision);
    // Keys that existed at `revision` but are gone now.
    const restored = [...undo.keys()]
      .filter((k) => k >= start && undo.get(k) !== undefined && !this.#objects.doesExist(k))
      .sort();
    const items: KeyValue<T>[] = [];
    let nextKey: string | undefined;
    let r = 0;
    /** Adds `key` if it existed at `revision`; false once the page is full. */
    const take = (key: string, entry: Stored | undefined): boolean => {
      if (!entry) return true;
      if (items.length >= limit) {
        nextKey = key;
        return false;
      }
      items.push(toKeyValue<T>(key, this.#resolve(key, entry)));
      return true;
    };
    let full = false;
    for (const { key, value } of this.#objects.getRange({ start, end })) {
      const k = key as string;
      for (; r < restored.length && restored[r] < k && !full; r++) {
        full = !take(restored[r], undo.get(restored[r]));
      }
      if (full || !take(k, undo.has(k) ? undo.get(k) : value)) {
        full = true;
        break;
      }
    }
    for (; r < restored.length && !full; r++) full = !take(restored[r], undo.get(restored[r]));
    const result: ListResult<T> = { items, revision };
    if (nextKey !== undefined) {
      result.nextKey = nextKey;
      result.remaining = this.#countFrom(nextKey, end, undo);
    }
    return result;
  }

  /** Keys in [start, end) as of the snapshot that `undo` describes. */
  #countFrom(start: string, end: string, undo: Map<string, Entry | undefined>): number {
    let n = this.#objects.getCount({ start, end });
    for (const [k, then] of undo) {
      if (k < start || k >= end) continue;
      n += (then ? 1 : 0) - (this.#objects.doesExist(k) ? 1 : 0);
    }
    return n;
  }

  count(prefix: string): Promise<number> {
    try {
      this.#checkOpen();
      return Promise.resolve(this.#objects.getCount({ start: prefix, end: prefix + KEY_END }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  watch<T>(prefix: string, afterRevision: number, handlers: WatchHandlers<T>): Watcher {
    this.#checkOpen();
    if (afterRevision < this.#compacted) throw this.#compactedError(afterRevision);
    const state: WatcherState = {
      prefix,
      handlers: handlers as WatchHandlers,
      after: afterRevision,
      stopped: false,
    };
    // Replay what was already announced; everything newer arrives live. JavaScript runs this
    // without interruption, so nothing can slip in between.
    const upTo = this.#dispatched;
    if (afterRevision < upTo) {
      for (const { key, value } of this.#log.getRange({ start: afterRevision + 1, end: upTo + 1 })) {
        if (state.stopped) break;
        if (value && value.k.startsWith(prefix)) this.#deliver(state, this.#toEvent(key as number, value));
      }
    }
    state.after = Math.max(afterRevision, upTo);
    let group = this.#watchers.get(prefix);
    if (!group) this.#watchers.set(prefix, group = new Set());
    group.add(state);
    return { stop: () => this.#unwatch(state) };
  }

  #unwatch(state: WatcherState): void {
    if (state.stopped) return;
    state.stopped = true;
    const group = this.#watchers.get(state.prefix);
    if (!group) return;
    group.delete(state);
    if (group.size === 0) this.#watchers.delete(state.prefix);
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    const floor = Math.min(revision, this.#dispatched);
    if (floor <= this.#compacted) return;
    const from = this.#compacted + 1;
    // Raise the floor first (in memory and on disk): a floor above missing entries is never wrong.
    this.#compacted = floor;
    await this.#track(this.#meta.put(META_COMPACTED, floor));
    await this.#env.flushed;
    // Then drop the entries in chunks, so that no single step blocks for long.
    for (let start = from; start <= floor && !this.#closed; start += COMPACTION_CHUNK) {
      const stop = Math.min(start + COMPACTION_CHUNK - 1, floor);
      // In a write transaction, so that what it reads of `objects` is what writes left there.
      await this.#track(this.#env.transaction(() => {
        for (let rev = start; rev <= stop; rev++) {
          const held = this.#log.get(rev);
          // A record above the floor that refers to this one gets a copy of the entry first.
          const referrer = this.#refs.get(rev);
          if (referrer !== undefined) {
            if (referrer > floor) {
              const rec = this.#log.get(referrer);
              if (rec && held && rec.pm === rev) {
                const { pm: _, ...rest } = rec;
                this.#log.put(referrer, { ...rest, p: held.o });
              }
            }
            this.#refs.remove(rev);
          }
          // So does the object whose current value this record holds.
          if (held && held.t !== "DELETED") {
            const stored = this.#objects.get(held.k);
            if (stored && stored.m === rev && stored.v === undefined) this.#objects.put(held.k, held.o);
          }
          this.#log.remove(rev);
        }
      }));
    }
  }

  /** Compacts to the newest revision that is both outside the window and outside the minimum count. */
  async #autoCompact(): Promise<void> {
    if (this.#closed || this.#broken !== undefined || this.#compacting) return;
    this.#compacting = true;
    try {
      const floor = this.#autoFloor();
      if (floor > this.#compacted) await this.compact(floor);
    } catch (err) {
      if (!this.#closed) console.error("Compaction failed:", err);
    } finally {
      this.#compacting = false;
    }
  }

  /** Binary search over the log (contiguous above the floor, times non-decreasing). */
  #autoFloor(): number {
    const byCount = this.#dispatched - this.#minRetained;
    if (byCount <= this.#compacted) return this.#compacted;
    const cutoff = Date.now() - this.#windowMs;
    let lo = this.#compacted; // known old enough (or the floor itself)
    let hi = byCount + 1; // exclusive
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const at = this.#log.get(mid)?.at ?? 0;
      if (at <= cutoff) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const watchers = [...this.#watchers.values()].flatMap((group) => [...group]);
    this.#watchers.clear();
    for (const w of watchers) {
      w.stopped = true;
      try {
        w.handlers.onError?.(closedError());
      } catch (err) {
        console.error("A watch error handler failed:", err);
      }
    }
    await Promise.allSettled([...this.#inFlight]);
    await this.#env.flushed;
    await this.#env.close();
  }
}
