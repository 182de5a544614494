/**
 * Runs a reconciler over a work queue: `workers` loops each take a key, call `reconcile`, and
 * settle it — done (forget its failures), requeue after a delay, or failed (retry with backoff).
 * Reconcilers are level-triggered: they read the cache and make the world match.
 */

import { isStatusError } from "../../machinery/status.ts";
import { WorkQueue } from "./queue.ts";

/** What a reconcile asks for next: nothing, or another look after `requeueAfterMs`. */
export type ReconcileResult = void | { requeueAfterMs: number };

export type Reconciler = (key: string) => Promise<ReconcileResult>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  workers?: number;
  queue?: WorkQueue;
  /** After this many failed retries a key is dropped until it changes again (default: never). */
  maxRetries?: number;
  onError?: (name: string, key: string, err: unknown) => void;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions;
  #loops: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.queue = options.queue ?? new WorkQueue();
    this.#options = options;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Starts the workers; they stop when `stop()` shuts the queue down. */
  run(): void {
    const workers = this.#options.workers ?? 2;
    for (let i = 0; i < workers; i++) this.#loops.push(this.#worker());
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.#loops);
  }

  async #worker(): Promise<void> {
    while (true) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const result = await this.#options.reconcile(key);
        this.queue.forget(key);
        if (result && result.requeueAfterMs >= 0) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const max = this.#options.maxRetries;
        if (max !== undefined && this.queue.retries(key) >= max) {
          this.queue.forget(key);
        } else {
          this.queue.addRateLimited(key);
        }
        (this.#options.onError ?? logError)(this.name, key, err);
      } finally {
        this.queue.done(key);
      }
    }
  }
}

function logError(name: string, key: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  // Routine, and retried: a conflict (the next look starts from the newer object), an object
  // deleted meanwhile, a namespace being deleted.
  if (/the object has been modified|Operation cannot be fulfilled/.test(message)) return;
  if (isStatusError(err, "NotFound") || /because it is being terminated/.test(message)) return;
  console.error(`kubedeno: ${name} controller: ${key}: ${message}`);
}
