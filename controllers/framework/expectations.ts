/**
 * Expectations: how many creations and deletions a controller has asked for and not yet seen
 * come back through its informer. Until they are seen (or expire), the controller does not act
 * on the cache for that key, so it never creates twice what it is waiting to see once.
 */

const EXPIRY_MS = 5 * 60_000;

interface Expectation {
  add: number;
  /** uids of the objects whose deletion is awaited */
  del: Set<string>;
  at: number;
}

export class Expectations {
  readonly #byKey = new Map<string, Expectation>();

  /** True when nothing is outstanding for `key` (or what is outstanding has expired). */
  satisfied(key: string): boolean {
    const e = this.#byKey.get(key);
    if (!e) return true;
    if ((e.add <= 0 && e.del.size === 0) || Date.now() - e.at > EXPIRY_MS) return true;
    return false;
  }

  expectCreations(key: string, n: number): void {
    this.#byKey.set(key, { add: n, del: new Set(), at: Date.now() });
  }

  expectDeletions(key: string, uids: string[]): void {
    this.#byKey.set(key, { add: 0, del: new Set(uids), at: Date.now() });
  }

  /** One creation was seen (or failed, so will never be seen). */
  creationObserved(key: string): void {
    const e = this.#byKey.get(key);
    if (e) e.add--;
  }

  /** The object with `uid` was seen deleted or being deleted (or its deletion failed). */
  deletionObserved(key: string, uid: string): void {
    this.#byKey.get(key)?.del.delete(uid);
  }

  forget(key: string): void {
    this.#byKey.delete(key);
  }
}
