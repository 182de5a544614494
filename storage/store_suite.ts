/**
 * The backend test suite: every `Store` backend must pass it.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { isStorageError, type Store, type WatchEvent } from "./store.ts";

export interface StoreFixture {
  store: Store;
  /** Closes the store and opens it again on the same data. */
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting");
    await tick(5);
  }
}

/** Registers the suite for one backend; `open` makes a fresh, empty store each test. */
export function defineStoreSuite(name: string, open: () => Promise<StoreFixture>): void {
  const t = suite<{ f: StoreFixture; s: Store }>(`Store contract: ${name}`, {} as { f: StoreFixture; s: Store });
  t.before.each(async (ctx) => {
    ctx.f = await open();
    ctx.s = ctx.f.store;
  });
  t.after.each(async (ctx) => {
    await ctx.f.cleanup();
  });

  t("create, get, and KeyExists", async ({ s }) => {
    const kv = await s.create("/r/a", { n: 1 });
    assert.is(kv.modRevision, 1);
    assert.is(kv.createRevision, 1);
    assert.equal((await s.get("/r/a"))?.value, { n: 1 });
    assert.is(await s.get("/r/missing"), undefined);
    try {
      await s.create("/r/a", { n: 2 });
      assert.unreachable("created twice");
    } catch (err) {
      assert.ok(isStorageError(err, "KeyExists"));
    }
    assert.is(s.currentRevision(), 1);
  });

  t("returned values are copies", async ({ s }) => {
    await s.create("/r/a", { n: { deep: 1 } });
    const got = await s.get<{ n: { deep: number } }>("/r/a");
    got!.value.n.deep = 99;
    assert.equal((await s.get("/r/a"))?.value, { n: { deep: 1 } });
  });

  t("update is compare-and-swap", async ({ s }) => {
    const a = await s.create("/r/a", { n: 1 });
    const b = await s.update("/r/a", { n: 2 }, a.modRevision);
    assert.is(b.modRevision, 2);
    assert.is(b.createRevision, 1);
    try {
      await s.update("/r/a", { n: 3 }, a.modRevision);
      assert.unreachable("stale update succeeded");
    } catch (err) {
      assert.ok(isStorageError(err, "Conflict"));
    }
    try {
      await s.update("/r/none", { n: 3 }, 1);
      assert.unreachable("update of a missing key succeeded");
    } catch (err) {
      assert.ok(isStorageError(err, "KeyNotFound"));
    }
  });

  t("guaranteedUpdate skips unchanged writes and loses no update under contention", async ({ s }) => {
    await s.create("/r/c", { n: 0 });
    const before = s.currentRevision();
    const same = await s.guaranteedUpdate<{ n: number }>("/r/c", (cur) => ({ n: cur!.value.n }));
    assert.is(same.modRevision, before);
    assert.is(s.currentRevision(), before);
    await Promise.all(Array.from({ length: 100 }, () =>
      s.guaranteedUpdate<{ n: number }>("/r/c", async (cur) => {
        await tick();
        return { n: cur!.value.n + 1 };
      })
    ));
    assert.equal((await s.get("/r/c"))?.value, { n: 100 });
  });

  t("100 concurrent writers get strictly increasing revisions", async ({ s }) => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.create(`/w/${i}`, { i })));
    const revs = results.map((r) => r.modRevision).sort((a, b) => a - b);
    assert.equal(revs, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.is(await s.count("/w/"), 100);
  });

  t("delete honours revision and preconditions", async ({ s }) => {
    const a = await s.create("/r/a", { n: 1 });
    await s.update("/r/a", { n: 2 }, a.modRevision);
    try {
      await s.delete("/r/a", { expectedModRevision: a.modRevision });
      assert.unreachable("stale delete succeeded");
    } catch (err) {
      assert.ok(isStorageError(err, "Conflict"));
    }
    try {
      await s.delete("/r/a", {
        precondition: () => {
          throw new Error("no");
        },
      });
      assert.unreachable("precondition ignored");
    } catch (err) {
      assert.is((err as Error).message, "no");
    }
    const gone = await s.delete("/r/a");
    assert.is(gone.modRevision, 3);
    assert.equal(gone.value, { n: 2 });
    assert.is(await s.get("/r/a"), undefined);
  });

  t("list pages stay at the first page's revision under concurrent writes", async ({ s }) => {
    for (let i = 0; i < 10; i++) await s.create(`/l/${i}`, { i });
    const first = await s.list("/l/", { limit: 4 });
    assert.is(first.items.length, 4);
    assert.is(first.remaining, 6);
    // Change the world between pages.
    await s.delete("/l/5");
    await s.create("/l/55", { i: 55 });
    await s.guaranteedUpdate("/l/7", () => ({ i: 700 }));
    const seen = first.items.map((kv) => kv.key);
    let next = first.nextKey;
    while (next) {
      const page = await s.list<{ i: number }>("/l/", { limit: 4, startKey: next, revision: first.revision });
      seen.push(...page.items.map((kv) => kv.key));
      for (const kv of page.items) if (kv.key === "/l/7") assert.equal(kv.value, { i: 7 });
      next = page.nextKey;
    }
    assert.equal(seen, Array.from({ length: 10 }, (_, i) => `/l/${i}`));
    const now = await s.list("/l/");
    assert.ok(now.items.some((kv) => kv.key === "/l/55"));
    assert.ok(!now.items.some((kv) => kv.key === "/l/5"));
  });

  t("watch replays after a revision, then tails, in order and by prefix", async ({ s }) => {
    await s.create("/a/1", { n: 1 });
    await s.create("/b/1", { n: 1 });
    const start = s.currentRevision();
    await s.guaranteedUpdate("/a/1", () => ({ n: 2 }));
    const events: WatchEvent[] = [];
    const w = s.watch("/a/", 1, { onEvent: (e) => events.push(e) });
    await s.create("/b/2", { n: 1 });
    await s.create("/a/2", { n: 1 });
    await s.delete("/a/1");
    await until(() => events.length === 3);
    assert.equal(events.map((e) => [e.type, e.key, e.revision]), [
      ["MODIFIED", "/a/1", start + 1],
      ["ADDED", "/a/2", start + 3],
      ["DELETED", "/a/1", start + 4],
    ]);
    assert.equal(events[0].prevObject?.value, { n: 1 });
    assert.equal(events[2].object.value, { n: 2 });
    w.stop();
    // Resuming from the last revision seen misses nothing and repeats nothing.
    await s.create("/a/3", { n: 1 });
    const resumed: WatchEvent[] = [];
    const w2 = s.watch("/a/", events[2].revision, { onEvent: (e) => resumed.push(e) });
    await until(() => resumed.length === 1);
    assert.is(resumed[0].key, "/a/3");
    w2.stop();
  });

  t("compaction refuses older lists and watches", async ({ s }) => {
    for (let i = 0; i < 5; i++) await s.create(`/c/${i}`, { i });
    await s.compact(3);
    assert.is(s.compactedRevision(), 3);
    try {
      await s.list("/c/", { revision: 2 });
      assert.unreachable("listed below the floor");
    } catch (err) {
      assert.ok(isStorageError(err, "Compacted"));
      assert.is((err as { oldestRevision?: number }).oldestRevision, 4);
    }
    assert.throws(() => s.watch("/c/", 2, { onEvent: () => {} }), (e: unknown) => isStorageError(e, "Compacted"));
    const events: WatchEvent[] = [];
    const w = s.watch("/c/", 3, { onEvent: (e) => events.push(e) });
    await until(() => events.length === 2);
    w.stop();
    assert.is((await s.list("/c/", { revision: 4 })).items.length, 4);
  });

  t("close and reopen keeps everything acknowledged", async ({ f, s }) => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/d/${i}`, { i })));
    await s.delete("/d/0");
    const rev = s.currentRevision();
    const again = await f.reopen();
    assert.is(again.currentRevision(), rev);
    assert.is(await again.count("/d/"), 49);
    const next = await again.create("/d/new", {});
    assert.is(next.modRevision, rev + 1);
  });

  t.run();
}
