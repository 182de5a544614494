/**
 * Zones, as the node lifecycle controller sees them: a node's zone key (region and zone
 * labels), a zone's state from its nodes' Ready conditions (Normal, PartialDisruption,
 * FullDisruption), and the per-zone rate-limited queue of nodes waiting for a NoExecute taint
 * (a token bucket of `qps` with a burst of one, as upstream's).
 */

import type { Node } from "../types.ts";

export type ZoneState = "Initial" | "Normal" | "PartialDisruption" | "FullDisruption";

const REGION_LABELS = ["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"];
const ZONE_LABELS = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];

/** `<region>:\0:<zone>`, or "" for a node with neither label. */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const region = REGION_LABELS.map((l) => labels[l]).find((v) => v) ?? "";
  const zone = ZONE_LABELS.map((l) => labels[l]).find((v) => v) ?? "";
  if (!region && !zone) return "";
  return `${region}:\x00:${zone}`;
}

/**
 * The state of a zone from its nodes' Ready statuses (undefined: no Ready condition): fully
 * disrupted with no ready node, partially when more than two and at least `threshold` of them
 * are not ready. Answers the count of not-ready nodes too.
 */
export function computeZoneState(
  readyStatuses: Array<string | undefined>,
  threshold: number,
): { notReady: number; state: ZoneState } {
  const ready = readyStatuses.filter((s) => s === "True").length;
  const notReady = readyStatuses.length - ready;
  if (ready === 0 && notReady > 0) return { notReady, state: "FullDisruption" };
  if (notReady > 2 && notReady / readyStatuses.length >= threshold) {
    return { notReady, state: "PartialDisruption" };
  }
  return { notReady, state: "Normal" };
}

/** A token bucket with a burst of one; a qps of 0 accepts nothing. */
export class TokenBucket {
  #qps: number;
  #tokens = 1;
  #last = Date.now();

  constructor(qps: number) {
    this.#qps = qps;
  }

  get qps(): number {
    return this.#qps;
  }

  /** Changes the rate (upstream's SwapLimiter); the bucket starts full again. */
  setQps(qps: number): void {
    if (qps === this.#qps) return;
    this.#qps = qps;
    this.#tokens = 1;
    this.#last = Date.now();
  }

  tryAccept(now = Date.now()): boolean {
    if (this.#qps <= 0) return false;
    this.#tokens = Math.min(1, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * Nodes waiting for a NoExecute taint in one zone, in order. A node handled successfully stays
 * remembered, so it is not queued again until `remove` forgets it (as upstream's unique queue).
 */
export class TaintQueue {
  readonly limiter: TokenBucket;
  readonly #pending = new Map<string, number>();
  readonly #done = new Set<string>();

  constructor(qps: number) {
    this.limiter = new TokenBucket(qps);
  }

  /** Queues a node; false if it is queued or was handled already. */
  add(name: string): boolean {
    if (this.#pending.has(name) || this.#done.has(name)) return false;
    this.#pending.set(name, 0);
    return true;
  }

  /** Forgets a node entirely; true if it was known. */
  remove(name: string): boolean {
    const known = this.#pending.delete(name);
    return this.#done.delete(name) || known;
  }

  /**
   * Offers due nodes, in order, to `fn` while the limiter lets them through; `fn` answers
   * whether it is done with the node, or a delay before the next try.
   */
  async try(fn: (name: string) => Promise<true | number>, now = Date.now()): Promise<void> {
    for (const [name, at] of [...this.#pending]) {
      if (at > now) continue;
      if (!this.limiter.tryAccept(now)) return;
      const result = await fn(name);
      if (!this.#pending.has(name)) continue; // removed meanwhile
      if (result === true) {
        this.#pending.delete(name);
        this.#done.add(name);
      } else {
        this.#pending.set(name, Date.now() + result);
      }
    }
  }
}
