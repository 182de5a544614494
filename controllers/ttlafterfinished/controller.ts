/**
 * The TTL-after-finished controller, as upstream's: a finished Job (Complete or Failed) with
 * `spec.ttlSecondsAfterFinished` is deleted, with background propagation, once that many seconds
 * have passed since it finished (the transition time of its Complete or Failed condition).
 * Before deleting, it reads the Job afresh and checks again, and deletes only that revision.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ControllerContext, ControllerFactory, Runnable } from "../framework/mod.ts";
import { keyOf, splitKey } from "../framework/cache.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import { isJobFinished, jobFinishTime } from "../job/conditions.ts";
import type { Job } from "../types.ts";

export interface TTLAfterFinishedOptions {
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** Watches Jobs; deletes finished ones whose TTL has passed. */
export function newTTLAfterFinishedController(options: TTLAfterFinishedOptions = {}): ControllerFactory {
  return (ctx) => new TTLAfterFinishedController(ctx, options);
}

function needsCleanup(job: Job): boolean {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  return ttl !== undefined && ttl !== null && isJobFinished(job);
}

class TTLAfterFinishedController implements Runnable {
  readonly name = "ttl-after-finished";
  readonly #jobs: Informer<Job>;
  readonly #client: ResourceClient<Job>;
  readonly #controller: Controller;
  readonly #now: () => number;

  constructor(ctx: ControllerContext, options: TTLAfterFinishedOptions) {
    this.#now = options.now ?? Date.now;
    this.#jobs = ctx.informers.informer<Job>("batch", "jobs");
    this.#client = ctx.client.resource<Job>("batch", "jobs");
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    const enqueue = (job: Job) => {
      if (!job.metadata?.deletionTimestamp && needsCleanup(job)) this.#controller.enqueue(keyOf(job));
    };
    this.#jobs.addEventHandler({ add: enqueue, update: (_, job) => enqueue(job) });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const cached = this.#jobs.cache.get(key);
    if (!cached || cached.metadata?.deletionTimestamp || !needsCleanup(cached)) return;
    const left = this.#timeLeft(cached);
    if (left === undefined) return;
    if (left > 0) return { requeueAfterMs: left };

    // The cache may be stale (the TTL changed, the Job was re-created): check the Job as it is now.
    const { namespace, name } = splitKey(key);
    let fresh: Job;
    try {
      fresh = await this.#client.get(namespace, name);
    } catch (err) {
      if (isStatusError(err, "NotFound")) return;
      throw err;
    }
    if (fresh.metadata?.deletionTimestamp || !needsCleanup(fresh)) return;
    const freshLeft = this.#timeLeft(fresh);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    try {
      await this.#client.delete(namespace, name, {
        propagationPolicy: "Background",
        preconditions: { resourceVersion: fresh.metadata?.resourceVersion },
      });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  /** Milliseconds until the Job expires (≤ 0: expired); undefined when its finish time is unknown. */
  #timeLeft(job: Job): number | undefined {
    const finishedAt = jobFinishTime(job);
    if (finishedAt === undefined) {
      console.error(
        `kubedeno: ttl-after-finished: unable to find the time when the Job ${keyOf(job)} finished`,
      );
      return undefined;
    }
    const now = this.#now();
    if (finishedAt > now) {
      console.error(
        `kubedeno: ttl-after-finished: found Job ${
          keyOf(job)
        } finished in the future; this is likely due to time skew in the cluster, cleanup is deferred`,
      );
    }
    return finishedAt + (job.spec!.ttlSecondsAfterFinished ?? 0) * 1000 - now;
  }
}
