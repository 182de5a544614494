/**
 * The storage contract: etcd semantics over keys such as
 * `/registry/<group>/<resource>/<namespace>/<name>`.
 *
 * - One global revision (a positive integer) grows by one per write.
 * - Every key carries the revision that created it and the one that last changed it.
 * - Values are JSON-compatible objects; a backend may encode them as it likes but must
 *   hand back a fresh copy on every read (callers may mutate what they get).
 * - A write resolves only once it is durable.
 *
 * The API server stamps `metadata.resourceVersion` from `modRevision`; the store never reads
 * or writes metadata itself.
 */

/** One key with its value and revisions. */
export interface KeyValue<T = unknown> {
  key: string;
  value: T;
  /** Revision of the write that created the key. */
  createRevision: number;
  /** Revision of the write that last changed (or deleted) the key. */
  modRevision: number;
}

/** The kinds of change a watch reports, named as the watch API names them. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** One change, as kept in the log and sent to watchers. */
export interface WatchEvent<T = unknown> {
  type: WatchEventType;
  /** The revision of the write; strictly increasing along a watch. */
  revision: number;
  key: string;
  /**
   * The key after the change. For DELETED: the last value before deletion, with
   * `modRevision` set to the revision of the delete.
   */
  object: KeyValue<T>;
  /** The key before the change (MODIFIED and DELETED). */
  prevObject?: KeyValue<T>;
}

export interface ListOptions {
  /**
   * Read the state as of this revision (0 or absent: the newest). Below the compaction floor
   * the list fails with `StorageError` code `Compacted`.
   */
  revision?: number;
  /** At most this many items (0 or absent: all). */
  limit?: number;
  /** Start at this key (inclusive); it must lie under the prefix. */
  startKey?: string;
}

export interface ListResult<T = unknown> {
  items: KeyValue<T>[];
  /** The revision the list was read at. */
  revision: number;
  /** Set when more items remain: the key the next page starts at (inclusive). */
  nextKey?: string;
  /** How many items remain after this page, when `nextKey` is set. */
  remaining?: number;
}

/** A check run against the current value inside the write; throw to refuse. */
export type Precondition<T = unknown> = (current: KeyValue<T>) => void;

export interface DeleteOptions<T = unknown> {
  /** Fail with `Conflict` unless the key's modRevision is this. */
  expectedModRevision?: number;
  /** Run against the current value inside the write; an exception aborts the delete. */
  precondition?: Precondition<T>;
}

/**
 * `tryUpdate` receives the current value (undefined when the key is absent) and returns the
 * new value, or throws to abort. It may be called again if the key changed meanwhile.
 * Returning a value that encodes to the same bytes as the current one writes nothing.
 */
export type UpdateFunction<T = unknown> = (
  current: KeyValue<T> | undefined,
) => T | Promise<T>;

export interface GuaranteedUpdateOptions {
  /** When the key is absent, call `tryUpdate(undefined)` and create it instead of failing. */
  allowCreate?: boolean;
}

/** A running watch; `stop()` ends it and releases its resources. */
export interface Watcher {
  stop(): void;
}

/**
 * Called once per event in revision order. Events are shared by all watchers: handlers must
 * treat them as read-only. `onError` ends the watch (e.g. the watcher fell too far behind);
 * after it, no more events come.
 */
export interface WatchHandlers<T = unknown> {
  onEvent(event: WatchEvent<T>): void;
  onError?(err: StorageError): void;
}

export interface Store {
  /** The newest revision written (0 for an empty store). */
  currentRevision(): number;
  /** The compaction floor: events at or below it are gone; lists and watches need more. */
  compactedRevision(): number;

  /** Create `key`; fails with `KeyExists` if present. */
  create<T>(key: string, value: T): Promise<KeyValue<T>>;
  get<T>(key: string): Promise<KeyValue<T> | undefined>;
  /** Keys under `prefix` in key order, consistent at one revision. */
  list<T>(prefix: string, options?: ListOptions): Promise<ListResult<T>>;
  /** How many keys lie under `prefix` now. */
  count(prefix: string): Promise<number>;
  /**
   * Compare-and-swap: replace the value if the key's modRevision equals `expectedModRevision`;
   * `Conflict` if it changed, `KeyNotFound` if absent.
   */
  update<T>(key: string, value: T, expectedModRevision: number): Promise<KeyValue<T>>;
  /** Read, apply `tryUpdate`, compare-and-swap; retries on conflict. Unchanged bytes are not written. */
  guaranteedUpdate<T>(
    key: string,
    tryUpdate: UpdateFunction<T>,
    options?: GuaranteedUpdateOptions,
  ): Promise<KeyValue<T>>;
  /** Delete; resolves to the last value with `modRevision` = the delete's revision. */
  delete<T>(key: string, options?: DeleteOptions<T>): Promise<KeyValue<T>>;
  /**
   * Report every change under `prefix` with revision > `afterRevision`: first replayed from the
   * log, then live, in order, with no polling. Throws `Compacted` when `afterRevision` is below
   * the compaction floor.
   */
  watch<T>(
    prefix: string,
    afterRevision: number,
    handlers: WatchHandlers<T>,
  ): Watcher;
  /** Drop history at and below `revision`. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export type StorageErrorCode =
  | "KeyExists"
  | "KeyNotFound"
  | "Conflict"
  | "Compacted"
  | "Closed"
  | "TooSlow";

/** A failure the caller can act on; `code` tells which. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key?: string;
  /** For `Compacted`: the oldest revision still available (floor + 1). */
  readonly oldestRevision?: number;
  /** For `Compacted`: the revision that was asked for. */
  readonly requestedRevision?: number;
  /** For `Conflict`/`KeyExists`: the current value, when known. */
  readonly current?: KeyValue;

  constructor(
    code: StorageErrorCode,
    message: string,
    details: {
      key?: string;
      oldestRevision?: number;
      requestedRevision?: number;
      current?: KeyValue;
    } = {},
  ) {
    super(message);
    this.name = "StorageError";
    this.code = code;
    this.key = details.key;
    this.oldestRevision = details.oldestRevision;
    this.requestedRevision = details.requestedRevision;
    this.current = details.current;
  }
}

/** True if `err` is a StorageError with the given code. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
