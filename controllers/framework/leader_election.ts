/**
 * Leader election over a coordination.k8s.io Lease, as upstream's controllers do it: the holder
 * renews `renewTime` every `retryPeriod`; another candidate takes the lease only when it has not
 * been renewed for `leaseDuration`. A leader that cannot renew within `renewDeadline` steps down.
 * Two copies of a controller process therefore never act at once.
 */

import type { Client, ResourceClient } from "../../machinery/client.ts";
import { type KubeObject, rfc3339Micro } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { sleep } from "./informer.ts";

export interface LeaderElectionOptions {
  namespace?: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  signal?: AbortSignal;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

export class LeaderElector {
  readonly #leases: ResourceClient<Lease>;
  readonly #o: Required<Omit<LeaderElectionOptions, "signal">> & { signal?: AbortSignal };
  #observed?: { lease: Lease; at: number };
  #leading = false;

  constructor(client: Client, options: LeaderElectionOptions) {
    this.#leases = client.resource<Lease>("coordination.k8s.io", "leases");
    this.#o = {
      namespace: "kube-system",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      ...options,
    };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Waits to become leader, calls `lead` with a signal that aborts when leadership is lost (or
   * the elector is stopped), and keeps renewing. Returns when leadership is lost or stopped.
   */
  async run(lead: (signal: AbortSignal) => void | Promise<void>): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, signal } = this.#o;
    while (!signal?.aborted && !(await this.#tryAcquireOrRenew())) await sleep(retryPeriodMs, signal);
    if (signal?.aborted) return;
    this.#leading = true;
    const lost = new AbortController();
    signal?.addEventListener("abort", () => lost.abort(), { once: true });
    const leading = Promise.resolve(lead(lost.signal));
    let lastRenew = Date.now();
    while (!lost.signal.aborted) {
      await sleep(retryPeriodMs, lost.signal);
      if (lost.signal.aborted) break;
      if (await this.#tryAcquireOrRenew()) lastRenew = Date.now();
      else if (Date.now() - lastRenew > renewDeadlineMs) lost.abort();
    }
    this.#leading = false;
    await leading.catch(() => {});
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.#o;
    const now = Date.now();
    const spec = (transitions: number, acquireTime: string): LeaseSpec => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(leaseDurationMs / 1000),
      acquireTime,
      renewTime: rfc3339Micro(now),
      leaseTransitions: transitions,
    });
    let lease: Lease;
    try {
      lease = await this.#leases.get(namespace, name);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) return false;
      try {
        const created = await this.#leases.create(namespace, {
          metadata: { name, namespace },
          spec: spec(0, rfc3339Micro(now)),
        });
        this.#observed = { lease: created, at: now };
        return true;
      } catch {
        return false;
      }
    }
    const held = lease.spec ?? {};
    if (
      !this.#observed || this.#observed.lease.spec?.renewTime !== held.renewTime ||
      this.#observed.lease.spec?.holderIdentity !== held.holderIdentity
    ) {
      this.#observed = { lease, at: now };
    }
    const mine = held.holderIdentity === identity;
    const expired = this.#observed.at + (held.leaseDurationSeconds ?? 15) * 1000 <= now;
    if (held.holderIdentity && !mine && !expired) return false;
    const next: Lease = {
      ...lease,
      spec: mine
        ? { ...spec(held.leaseTransitions ?? 0, held.acquireTime ?? rfc3339Micro(now)) }
        : spec((held.leaseTransitions ?? 0) + 1, rfc3339Micro(now)),
    };
    try {
      const updated = await this.#leases.update(namespace, next);
      this.#observed = { lease: updated, at: now };
      return true;
    } catch {
      return false;
    }
  }
}
