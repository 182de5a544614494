/**
 * The backend test suite: every `Store` backend must pass it.
 *
 * ```ts
 * defineStoreSuite("mine", async () => ({ store, reopen, cleanup }));
 * ```
 *
 * @module
 */

import { suite, type Test } from "uvu";
import * as assert from "uvu/assert";
import {
  isStorageError,
  type KeyValue,
  type StorageError,
  type StorageErrorCode,
  type Store,
  type WatchEvent,
} from "./store.ts";

/** A fresh, empty store and how to reopen and remove it. */
export interface StoreFixture {
  store: Store;
  /** Closes the current store and opens it again on the same data. */
  reopen(): Promise<Store>;
  /** Closes the store (if still open) and removes its data. */
  cleanup(): Promise<void>;
}

interface Context {
  f: StoreFixture;
  s: Store;
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `cond()` holds, failing after `ms`. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await tick(2);
  }
}

/** Resolves to the StorageError `promise` rejects with; fails unless its code is `code`. */
async function rejects(promise: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isStorageError(err, code), `Expected a ${code} error, got ${err}`);
    return err as StorageError;
  }
  assert.unreachable(`Expected a ${code} error, but it succeeded`);
  throw new Error("Unreachable");
}

/** Collects every event of a watch. */
function collect(s: Store, prefix: string, after: number) {
  const events: WatchEvent[] = [];
  const watcher = s.watch(prefix, after, { onEvent: (e) => events.push(e) });
  return { events, watcher };
}

const summary = (events: WatchEvent[]) => events.map((e) => [e.type, e.key, e.revision]);

/**
 * Registers the contract suites for one backend. `open` makes a fresh, empty store for each
 * test; `cleanup` runs after each test.
 */
export function defineStoreSuite(name: string, open: () => Promise<StoreFixture>): void {
  const make = (title: string) => {
    const t = suite<Context>(`${name}: ${title}`, {} as Context);
    t.before.each(async (ctx) => {
      ctx.f = await open();
      ctx.s = ctx.f.store;
    });
    t.after.each(async (ctx) => {
      await ctx.f.cleanup();
    });
    return t;
  };
  const suites: [string, (t: Suite) => void][] = [
    ["writes", defineWriteTests],
    ["lists", defineListTests],
    ["watches", defineWatchTests],
    ["compaction and durability", defineHistoryTests],
  ];
  for (const [title, define] of suites) {
    const t = make(title);
    define(t);
    t.run();
  }
}

type Suite = Test<Context>;

function defineWriteTests(t: Suite): void {
  t("create, get and KeyExists", async ({ s }) => {
    assert.is(s.currentRevision(), 0);
    const kv = await s.create("/r/a", { n: 1 });
    assert.equal(kv, { key: "/r/a", value: { n: 1 }, createRevision: 1, modRevision: 1 });
    assert.equal(await s.get("/r/a"), kv);
    assert.is(await s.get("/r/missing"), undefined);
    const err = await rejects(s.create("/r/a", { n: 2 }), "KeyExists");
    assert.is(err.key, "/r/a");
    assert.equal((await s.get("/r/a"))?.value, { n: 1 });
    assert.is(s.currentRevision(), 1, "A refused write takes no revision");
  });

  t("values handed out are copies", async ({ s }) => {
    const input = { n: { deep: 1 }, list: [1, 2] };
    await s.create("/r/a", input);
    input.n.deep = 2;
    input.list.push(3);
    const got = await s.get<typeof input>("/r/a");
    assert.equal(got?.value, { n: { deep: 1 }, list: [1, 2] });
    got!.value.n.deep = 99;
    const listed = await s.list<typeof input>("/r/");
    assert.is(listed.items[0].value.n.deep, 1);
    listed.items[0].value.list.length = 0;
    assert.equal((await s.get("/r/a"))?.value, { n: { deep: 1 }, list: [1, 2] });
  });

  t("update is compare-and-swap", async ({ s }) => {
    const a = await s.create("/r/a", { n: 1 });
    const b = await s.update("/r/a", { n: 2 }, a.modRevision);
    assert.equal(b, { key: "/r/a", value: { n: 2 }, createRevision: 1, modRevision: 2 });
    const err = await rejects(s.update("/r/a", { n: 3 }, a.modRevision), "Conflict");
    assert.is(err.key, "/r/a");
    await rejects(s.update("/r/none", { n: 3 }, 1), "KeyNotFound");
    assert.equal((await s.get("/r/a"))?.value, { n: 2 });
    assert.is(s.currentRevision(), 2);
  });

  t("guaranteedUpdate creates only when allowed and skips unchanged writes", async ({ s }) => {
    await rejects(s.guaranteedUpdate("/r/x", () => ({ n: 1 })), "KeyNotFound");
    const created = await s.guaranteedUpdate<{ n: number }>("/r/x", (cur) => {
      assert.is(cur, undefined);
      return { n: 1 };
    }, { allowCreate: true });
    assert.equal(created, { key: "/r/x", value: { n: 1 }, createRevision: 1, modRevision: 1 });
    const same = await s.guaranteedUpdate<{ n: number }>("/r/x", (cur) => ({ n: cur!.value.n }));
    assert.is(same.modRevision, 1);
    assert.equal(same.value, { n: 1 });
    assert.is(s.currentRevision(), 1, "An unchanged value writes nothing");
    // Changing the given value in place and returning it is a change.
    const inPlace = await s.guaranteedUpdate<{ n: number }>("/r/x", (cur) => {
      cur!.value.n = 5;
      return cur!.value;
    });
    assert.is(inPlace.modRevision, 2);
    assert.equal((await s.get("/r/x"))?.value, { n: 5 });
    // An exception from tryUpdate aborts without writing.
    const boom = new Error("Refused");
    try {
      await s.guaranteedUpdate("/r/x", () => {
        throw boom;
      });
      assert.unreachable("tryUpdate's exception was swallowed");
    } catch (err) {
      assert.is(err, boom);
    }
    assert.is(s.currentRevision(), 2);
  });

  t("guaranteedUpdate retries under contention and loses no update", async ({ s }) => {
    await s.create("/r/c", { n: 0 });
    let calls = 0;
    await Promise.all(
      Array.from({ length: 100 }, () =>
        s.guaranteedUpdate<{ n: number }>("/r/c", async (cur) => {
          calls++;
          await tick();
          return { n: cur!.value.n + 1 };
        })),
    );
    const final = await s.get<{ n: number }>("/r/c");
    assert.is(final?.value.n, 100);
    assert.is(final?.modRevision, 101);
    assert.ok(calls > 100, "Contention should have caused retries");
  });

  t("100 concurrent writers get distinct, gapless revisions", async ({ s }) => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.create(`/w/${i}`, { i })));
    const revs = results.map((r) => r.modRevision).sort((a, b) => a - b);
    assert.equal(revs, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.is(s.currentRevision(), 100);
    for (const r of results) assert.equal(await s.get(r.key), r, "An acknowledged write is readable");
    assert.is(await s.count("/w/"), 100);
  });

  t("delete honours the revision and the precondition", async ({ s }) => {
    const a = await s.create("/r/a", { n: 1 });
    await s.update("/r/a", { n: 2 }, a.modRevision);
    await rejects(s.delete("/r/a", { expectedModRevision: a.modRevision }), "Conflict");
    const refusal = new Error("Precondition refused");
    let seen: KeyValue | undefined;
    try {
      await s.delete("/r/a", {
        precondition: (cur) => {
          seen = cur;
          throw refusal;
        },
      });
      assert.unreachable("The precondition was ignored");
    } catch (err) {
      assert.is(err, refusal, "The precondition's exception comes back unchanged");
    }
    assert.equal(seen, { key: "/r/a", value: { n: 2 }, createRevision: 1, modRevision: 2 });
    assert.ok(await s.get("/r/a"), "A refused delete deletes nothing");
    assert.is(s.currentRevision(), 2);
    const gone = await s.delete("/r/a", { expectedModRevision: 2, precondition: () => {} });
    assert.equal(gone, { key: "/r/a", value: { n: 2 }, createRevision: 1, modRevision: 3 });
    assert.is(await s.get("/r/a"), undefined);
    await rejects(s.delete("/r/a"), "KeyNotFound");
    const again = await s.create("/r/a", { n: 9 });
    assert.is(again.createRevision, 4, "A re-created key starts a new life");
  });
}

function defineListTests(t: Suite): void {
  t("list reads a prefix in key order and pages with limit and startKey", async ({ s }) => {
    for (const k of ["b", "a", "d", "c", "e"]) await s.create(`/l/${k}`, { k });
    await s.create("/l2/x", {});
    await s.create("/k/x", {});
    const all = await s.list("/l/");
    assert.equal(all.items.map((kv) => kv.key), ["/l/a", "/l/b", "/l/c", "/l/d", "/l/e"]);
    assert.is(all.revision, 7);
    assert.is(all.nextKey, undefined);
    const page1 = await s.list("/l/", { limit: 2 });
    assert.equal(page1.items.map((kv) => kv.key), ["/l/a", "/l/b"]);
    assert.is(page1.nextKey, "/l/c");
    assert.is(page1.remaining, 3);
    const page2 = await s.list("/l/", { limit: 2, startKey: page1.nextKey, revision: page1.revision });
    assert.equal(page2.items.map((kv) => kv.key), ["/l/c", "/l/d"]);
    assert.is(page2.remaining, 1);
    const page3 = await s.list("/l/", { limit: 2, startKey: page2.nextKey, revision: page1.revision });
    assert.equal(page3.items.map((kv) => kv.key), ["/l/e"]);
    assert.is(page3.nextKey, undefined);
    assert.is(
      (await s.list("/l/", { limit: 5 })).nextKey,
      undefined,
      "An exactly full page has no next page",
    );
    assert.is(await s.count("/l/"), 5);
    assert.is((await s.list("/none/")).items.length, 0);
  });

  t("list at a past revision undoes later changes", async ({ s }) => {
    await s.create("/p/a", { v: 1 });
    await s.create("/p/b", { v: 1 });
    await s.create("/p/c", { v: 1 });
    const at = s.currentRevision();
    await s.guaranteedUpdate("/p/a", () => ({ v: 2 }));
    await s.delete("/p/b");
    await s.create("/p/d", { v: 1 });
    await s.delete("/p/c");
    await s.create("/p/c", { v: 3 });
    const past = await s.list("/p/", { revision: at });
    assert.is(past.revision, at);
    assert.equal(past.items, [
      { key: "/p/a", value: { v: 1 }, createRevision: 1, modRevision: 1 },
      { key: "/p/b", value: { v: 1 }, createRevision: 2, modRevision: 2 },
      { key: "/p/c", value: { v: 1 }, createRevision: 3, modRevision: 3 },
    ]);
    const paged = await s.list("/p/", { revision: at, limit: 1, startKey: "/p/b" });
    assert.equal(paged.items.map((kv) => kv.key), ["/p/b"]);
    assert.is(paged.nextKey, "/p/c");
    assert.is(paged.remaining, 1);
    const now = await s.list<{ v: number }>("/p/");
    assert.equal(now.items.map((kv) => [kv.key, kv.value.v]), [["/p/a", 2], ["/p/c", 3], ["/p/d", 1]]);
  });

  t("pages read at the first page's revision see one snapshot under concurrent writes", async ({ s }) => {
    for (let i = 0; i < 40; i++) await s.create(`/l/${String(i).padStart(2, "0")}`, { i, gen: 0 });
    let writing = true;
    const writer = (async () => {
      for (let gen = 1; writing; gen++) {
        const i = gen % 40;
        const key = `/l/${String(i).padStart(2, "0")}`;
        if (gen % 3 === 0) await s.delete(key).catch(() => {});
        else await s.guaranteedUpdate(key, () => ({ i, gen }), { allowCreate: true });
        await s.create(`/l/${String(i).padStart(2, "0")}x${gen}`, { gen });
      }
    })();
    await until(() => s.currentRevision() > 50);
    const first = await s.list<{ gen: number }>("/l/", { limit: 7 });
    const seen = [...first.items];
    let next = first.nextKey;
    while (next) {
      await tick(1); // Let the writer move on between pages.
      const page = await s.list<{ gen: number }>("/l/", {
        limit: 7,
        startKey: next,
        revision: first.revision,
      });
      assert.is(page.revision, first.revision);
      seen.push(...page.items);
      next = page.nextKey;
    }
    writing = false;
    await writer;
    assert.ok(s.currentRevision() > first.revision + 5, "Writes happened while paging");
    assert.equal(seen, (await s.list("/l/", { revision: first.revision })).items);
    // The same snapshot, rebuilt from the log by a watch from the beginning.
    const state = new Map<string, KeyValue>();
    const { events, watcher } = collect(s, "/l/", 0);
    await until(() => events.length > 0 && events[events.length - 1].revision === s.currentRevision());
    watcher.stop();
    for (const e of events) {
      if (e.revision > first.revision) break;
      if (e.type === "DELETED") state.delete(e.key);
      else state.set(e.key, e.object);
    }
    const expected = [...state.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    assert.equal(seen, expected);
  });
}

function defineWatchTests(t: Suite): void {
  t("watch replays after a revision, then tails, in order and by prefix", async ({ s }) => {
    await s.create("/a/1", { n: 1 });
    await s.create("/b/1", { n: 1 });
    await s.guaranteedUpdate("/a/1", () => ({ n: 2 }));
    const { events, watcher } = collect(s, "/a/", 1);
    await s.create("/b/2", { n: 1 });
    await s.create("/a/2", { n: 1 });
    await s.delete("/a/1");
    await until(() => events.length === 3);
    assert.equal(summary(events), [["MODIFIED", "/a/1", 3], ["ADDED", "/a/2", 5], ["DELETED", "/a/1", 6]]);
    assert.equal(events[0].object, { key: "/a/1", value: { n: 2 }, createRevision: 1, modRevision: 3 });
    assert.equal(events[0].prevObject, { key: "/a/1", value: { n: 1 }, createRevision: 1, modRevision: 1 });
    assert.is(events[1].prevObject, undefined);
    assert.equal(events[2].object, { key: "/a/1", value: { n: 2 }, createRevision: 1, modRevision: 6 });
    assert.equal(events[2].prevObject?.modRevision, 3);
    watcher.stop();
    watcher.stop(); // Idempotent.
    await s.create("/a/3", { n: 1 });
    await tick(10);
    assert.is(events.length, 3, "A stopped watch hears nothing more");
    // Resuming from the last revision seen misses nothing and repeats nothing.
    const resumed = collect(s, "/a/", events[2].revision);
    await until(() => resumed.events.length === 1);
    await s.create("/a/4", { n: 1 });
    await until(() => resumed.events.length === 2);
    assert.equal(summary(resumed.events), [["ADDED", "/a/3", 7], ["ADDED", "/a/4", 8]]);
    resumed.watcher.stop();
  });

  t("watch from the past replays exactly the events after it", async ({ s }) => {
    for (let i = 0; i < 10; i++) await s.create(`/k/${i}`, { i });
    for (let from = 0; from <= 10; from += 5) {
      const { events, watcher } = collect(s, "/k/", from);
      await until(() => events.length === 10 - from);
      await tick(5);
      assert.equal(events.map((e) => e.revision), Array.from({ length: 10 - from }, (_, i) => from + i + 1));
      watcher.stop();
    }
  });

  t("watch delivers concurrent writes in strictly increasing order", async ({ s }) => {
    const { events, watcher } = collect(s, "/", 0);
    const other = collect(s, "/x/", 0);
    await Promise.all(Array.from({ length: 100 }, (_, i) => s.create(`/${i % 2 ? "x" : "y"}/${i}`, { i })));
    await until(() => events.length === 100 && other.events.length === 50);
    assert.equal(events.map((e) => e.revision), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.ok(other.events.every((e) => e.key.startsWith("/x/")));
    assert.ok(other.events.every((e, i) => i === 0 || e.revision > other.events[i - 1].revision));
    watcher.stop();
    other.watcher.stop();
  });

  t("a watch started inside a handler neither repeats nor misses events", async ({ s }) => {
    const inner: WatchEvent[] = [];
    let started = false;
    const outer = s.watch("/n/", 0, {
      onEvent: (e) => {
        if (started) return;
        started = true;
        // Start from the event being delivered: the next one must come exactly once.
        watchers.push(s.watch("/n/", e.revision, { onEvent: (ev) => inner.push(ev) }));
      },
    });
    const watchers = [outer];
    await Promise.all([s.create("/n/1", {}), s.create("/n/2", {}), s.create("/n/3", {})]);
    await s.create("/n/4", {});
    await until(() => inner.length >= 3);
    await tick(5);
    assert.equal(inner.map((e) => e.revision), [2, 3, 4]);
    for (const w of watchers) w.stop();
  });

  t("a failing watch handler does not disturb other watchers", async ({ s }) => {
    const good: WatchEvent[] = [];
    let failures = 0;
    const bad = s.watch("/f/", 0, {
      onEvent: () => {
        failures++;
        throw new Error("Handler failure (expected by the test)");
      },
    });
    const ok = s.watch("/f/", 0, { onEvent: (e) => good.push(e) });
    const errorLog = console.error;
    console.error = () => {};
    try {
      await s.create("/f/1", {});
      await s.create("/f/2", {});
      await until(() => good.length === 2);
    } finally {
      console.error = errorLog;
    }
    assert.ok(failures >= 1);
    assert.equal(good.map((e) => e.key), ["/f/1", "/f/2"]);
    bad.stop();
    ok.stop();
  });

  t("many watchers each get their own prefix", async ({ s }) => {
    const counts = new Array(1000).fill(0);
    const watchers = counts.map((_, i) => s.watch(`/m/${i % 10}/`, 0, { onEvent: () => counts[i]++ }));
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/m/${i % 10}/${i}`, {})));
    await until(() => counts.every((n) => n === 5));
    for (const w of watchers) w.stop();
    await s.create("/m/0/late", {});
    await tick(5);
    assert.ok(counts.every((n) => n === 5));
  });
}

function defineHistoryTests(t: Suite): void {
  t("compaction refuses lists and watches below the floor", async ({ s }) => {
    for (let i = 0; i < 5; i++) await s.create(`/c/${i}`, { i });
    await s.compact(3);
    assert.is(s.compactedRevision(), 3);
    const err = await rejects(s.list("/c/", { revision: 2 }), "Compacted");
    assert.is(err.oldestRevision, 4);
    assert.is(err.requestedRevision, 2);
    assert.throws(
      () => s.watch("/c/", 2, { onEvent: () => {} }),
      (e: unknown) => isStorageError(e, "Compacted"),
    );
    const { events, watcher } = collect(s, "/c/", 3);
    await until(() => events.length === 2);
    watcher.stop();
    assert.equal(summary(events), [["ADDED", "/c/3", 4], ["ADDED", "/c/4", 5]]);
    assert.is((await s.list("/c/", { revision: 3 })).items.length, 3, "The floor itself can still be listed");
    assert.is((await s.list("/c/", { revision: 4 })).items.length, 4);
    await s.compact(2);
    assert.is(s.compactedRevision(), 3, "The floor never goes down");
  });

  t("close and reopen keep everything acknowledged", async ({ f, s }) => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/d/${i}`, { i })));
    await s.delete("/d/0");
    await s.guaranteedUpdate("/d/1", () => ({ i: 100 }));
    await s.compact(10);
    const rev = s.currentRevision();
    const again = await f.reopen();
    await rejects(s.get("/d/1"), "Closed");
    assert.is(again.currentRevision(), rev);
    assert.is(again.compactedRevision(), 10);
    assert.is(await again.count("/d/"), 49);
    assert.equal((await again.get("/d/1"))?.value, { i: 100 });
    await rejects(again.list("/d/", { revision: 5 }), "Compacted");
    const { events, watcher } = collect(again, "/d/", 10);
    await until(() => events.length === rev - 10);
    watcher.stop();
    assert.equal(events.map((e) => e.revision), Array.from({ length: rev - 10 }, (_, i) => i + 11));
    const next = await again.create("/d/new", {});
    assert.is(next.modRevision, rev + 1, "Revisions continue where they were");
  });
}
