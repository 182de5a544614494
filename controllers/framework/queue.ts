/**
 * The work queue of a controller: keys, not objects. A key added many times before a worker
 * takes it is processed once (the dirty set); a key added while being processed is processed
 * again after (the processing set), never by two workers at once. Failed keys come back after a
 * growing delay (`addRateLimited`); `addAfter` schedules a key for later.
 */

/** How long a key waits before its next retry. */
export interface RateLimiter {
  when(key: string): number;
  /** The key succeeded: start its backoff again. */
  forget(key: string): void;
  retries(key: string): number;
}

/** Per key: base·2^failures, capped. */
export class ExponentialFailureRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  constructor(readonly baseMs = 5, readonly maxMs = 1000_000) {}

  when(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** An overall token bucket: `qps` retries per second after a burst of `burst`. */
export class BucketRateLimiter implements RateLimiter {
  #tokens: number;
  #last = Date.now();
  constructor(readonly qps = 10, readonly burst = 100) {
    this.#tokens = burst;
  }

  when(): number {
    const now = Date.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
  }

  forget(): void {}

  retries(): number {
    return 0;
  }
}

/** The longest wait any of several limiters asks for (upstream's default controller limiter). */
export class MaxOfRateLimiter implements RateLimiter {
  constructor(readonly limiters: RateLimiter[]) {}
  when(key: string): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }
  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }
  retries(key: string): number {
    return Math.max(...this.limiters.map((l) => l.retries(key)));
  }
}

export function defaultControllerRateLimiter(): RateLimiter {
  return new MaxOfRateLimiter([
    new ExponentialFailureRateLimiter(5, 1000_000),
    new BucketRateLimiter(10, 100),
  ]);
}

export class WorkQueue {
  readonly #queue: string[] = [];
  #head = 0;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  readonly #getters: Array<(key: string | undefined) => void> = [];
  readonly rateLimiter: RateLimiter;
  #shuttingDown = false;

  constructor(rateLimiter: RateLimiter = defaultControllerRateLimiter()) {
    this.rateLimiter = rateLimiter;
  }

  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Keys being processed now. */
  get processing(): number {
    return this.#processing.size;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const getter = this.#getters.shift();
    if (getter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      getter(key);
    } else {
      this.#queue.push(key);
    }
  }

  /** Adds `key` after `ms`; an earlier pending time for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.#waiting.get(key);
    if (pending) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  retries(key: string): number {
    return this.rateLimiter.retries(key);
  }

  /** The next key to process (waits for one); undefined once shut down. */
  get(): Promise<string | undefined> {
    if (this.length > 0) {
      const key = this.#queue[this.#head++];
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** The worker finished `key`; if it was added meanwhile, it goes back in the queue. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    for (const g of this.#getters.splice(0)) g(undefined);
  }
}
