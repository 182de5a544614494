/**
 * Events as upstream's recorders write them: a core/v1 Event per (object, type, reason,
 * message); the same event again within the aggregation window bumps `count` and
 * `lastTimestamp` instead of making a new one. More than `similarLimit` events of one object and
 * reason with different messages inside the window are combined into one whose message starts
 * "(combined from similar events): ". As upstream's spam filter does, each source may write 25
 * events (new or bumped) about one object, then one more every five minutes; the rest are
 * dropped, their counts carried by the next write that goes through. Writing is
 * fire-and-forget, in order, off the caller's path.
 */

import type { Client, ResourceClient } from "../../machinery/client.ts";
import { type KubeObject, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  event(object: KubeObject, type: EventType, reason: string, message: string): void;
}

interface Recorded {
  namespace: string;
  name: string;
  count: number;
  last: number;
}

const WINDOW_MS = 10 * 60_000;
const CACHE_SIZE = 4096;
const COMBINED = "(combined from similar events): ";
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;

export interface EventSinkOptions {
  /** How many events with different messages for one object and reason before combining. */
  similarLimit?: number;
  /** Most events kept in flight; beyond it new events are dropped, as upstream's broadcaster does. */
  maxQueued?: number;
  /** The clock (milliseconds), for tests. */
  now?: () => number;
}

/** A token bucket per source and object: SPAM_BURST tokens, one more every SPAM_REFILL_MS. */
interface SpamRecord {
  tokens: number;
  at: number;
}

/** Writes events for every recorder made from it. */
export class EventSink {
  readonly #events: ResourceClient;
  readonly #recorded = new Map<string, Recorded>();
  readonly #similar = new Map<string, { messages: Set<string>; since: number }>();
  readonly #spam = new Map<string, SpamRecord>();
  readonly #queue: Array<() => Promise<void>> = [];
  readonly #options: Required<EventSinkOptions>;
  #draining = false;
  #idle: Array<() => void> = [];

  constructor(client: Client, options: EventSinkOptions = {}) {
    this.#events = client.resource("", "events");
    this.#options = { similarLimit: 10, maxQueued: 1000, now: Date.now, ...options };
  }

  /** A recorder reporting as `component` (e.g. `replicaset-controller`, `default-scheduler`). */
  recorder(component: string, host?: string): EventRecorder {
    return {
      event: (object, type, reason, message) => this.#record(component, host, object, type, reason, message),
    };
  }

  /** Resolves when every queued event is written. */
  flush(): Promise<void> {
    if (!this.#draining && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #record(
    component: string,
    host: string | undefined,
    object: KubeObject,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    const meta = object.metadata ?? {};
    const namespace = meta.namespace || "default";
    const now = this.#options.now();
    const spamKey = `${component}/${
      host ?? ""
    }/${object.kind}/${namespace}/${meta.name}/${meta.uid}/${object.apiVersion}`;
    const objectKey = `${spamKey}/${type}/${reason}`;
    const similar = this.#similar.get(objectKey);
    if (!similar || now - similar.since > WINDOW_MS) {
      this.#similar.set(objectKey, { messages: new Set([message]), since: now });
    } else {
      similar.messages.add(message);
      if (similar.messages.size > this.#options.similarLimit) message = COMBINED + message;
    }
    const key = message.startsWith(COMBINED) ? `${objectKey}/combined` : `${objectKey}/${message}`;
    const seen = this.#recorded.get(key);
    if (seen && now - seen.last < WINDOW_MS) {
      seen.count++;
      seen.last = now;
      this.#recorded.delete(key);
      this.#recorded.set(key, seen);
      const count = seen.count;
      if (this.#allowed(spamKey, now)) this.#enqueue(() => this.#bump(seen, count, now, message));
      return;
    }
    if (!this.#allowed(spamKey, now)) return;
    const name = `${meta.name}.${eventSuffix(now)}`;
    const record: Recorded = { namespace, name, count: 1, last: now };
    this.#recorded.set(key, record);
    if (this.#recorded.size > CACHE_SIZE || this.#similar.size > CACHE_SIZE || this.#spam.size > CACHE_SIZE) {
      this.#prune(now);
    }
    const event: KubeObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      type,
      source: host ? { component, host } : { component },
      reportingComponent: component,
      reportingInstance: host ?? "",
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      eventTime: null,
      count: 1,
    };
    this.#enqueue(async () => {
      try {
        await this.#events.create(namespace, event);
      } catch (err) {
        // A namespace being deleted takes no new content; nothing to report then.
        if (!isStatusError(err, "Forbidden") && !isStatusError(err, "NotFound")) throw err;
      }
    });
  }

  /** Takes a token from the source and object's bucket, if it has one. */
  #allowed(spamKey: string, now: number): boolean {
    let bucket = this.#spam.get(spamKey);
    if (!bucket) bucket = { tokens: SPAM_BURST, at: now };
    else {
      bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) / SPAM_REFILL_MS);
      bucket.at = now;
      this.#spam.delete(spamKey);
    }
    this.#spam.set(spamKey, bucket); // most recently used last, for the pruning
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  async #bump(record: Recorded, count: number, now: number, message: string): Promise<void> {
    const patch = { count, lastTimestamp: rfc3339(now), message };
    try {
      await this.#events.patch(record.namespace, record.name, "merge", patch);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  /**
   * Forgets expired entries, then the oldest ones down to three quarters of the cache size (an
   * LRU of 4,096 as upstream's correlator keeps), so the sweep is paid once per 1,024 events.
   */
  #prune(now: number): void {
    for (const [k, r] of this.#recorded) if (now - r.last >= WINDOW_MS) this.#recorded.delete(k);
    for (const [k, s] of this.#similar) if (now - s.since >= WINDOW_MS) this.#similar.delete(k);
    // A bucket that has refilled is as good as a new one.
    for (const [k, b] of this.#spam) if (now - b.at >= SPAM_BURST * SPAM_REFILL_MS) this.#spam.delete(k);
    for (const map of [this.#recorded, this.#similar, this.#spam] as Map<string, unknown>[]) {
      for (const k of map.keys()) {
        if (map.size <= (CACHE_SIZE * 3) / 4) break;
        map.delete(k);
      }
    }
  }

  #enqueue(write: () => Promise<void>): void {
    if (this.#queue.length >= this.#options.maxQueued) return;
    this.#queue.push(write);
    if (!this.#draining) this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length) {
      const write = this.#queue.shift()!;
      try {
        await write();
      } catch (err) {
        console.error(`kubedeno: writing an event failed: ${(err as Error).message}`);
      }
    }
    this.#draining = false;
    for (const w of this.#idle.splice(0)) w();
  }
}

/** Upstream names events `<object>.<unix nanoseconds in hex>`. */
function eventSuffix(now: number): string {
  const nanos = BigInt(now) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  return nanos.toString(16);
}
