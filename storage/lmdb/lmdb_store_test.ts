import { test } from "uvu";
import * as assert from "uvu/assert";
import { defineStoreSuite } from "../store_suite.ts";
import { isStorageError, type Store, type WatchEvent } from "../store.ts";
import { type LmdbStoreOptions, openLmdbStore } from "./lmdb_store.ts";
import { open } from "lmdb";

const tempDir = () => Deno.makeTempDir({ prefix: "kubedeno-lmdb-" });

defineStoreSuite("lmdb", async () => {
  const path = await tempDir();
  let store: Store = await openLmdbStore({ path, compactionIntervalMs: 0 });
  return {
    store,
    async reopen() {
      await store.close();
      store = await openLmdbStore({ path, compactionIntervalMs: 0 });
      return store;
    },
    async cleanup() {
      await store.close();
      await Deno.remove(path, { recursive: true });
    },
  };
});

/** Runs `body` on a store in a fresh directory, then removes it. */
async function withStore(
  options: Omit<LmdbStoreOptions, "path">,
  body: (store: Store, path: string) => Promise<void>,
): Promise<void> {
  const path = await tempDir();
  const store = await openLmdbStore({ path, ...options });
  try {
    await body(store, path);
  } finally {
    await store.close();
    await Deno.remove(path, { recursive: true });
  }
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("automatic compaction keeps the minimum count when the window has passed", async () => {
  await withStore(
    { compactionWindowMs: 0, minRetainedRevisions: 5, compactionIntervalMs: 10 },
    async (store) => {
      for (let i = 0; i < 20; i++) await store.create(`/k/${i}`, { i });
      await until(() => store.compactedRevision() === 15);
      assert.ok(isStorageError(await store.list("/k/", { revision: 14 }).catch((e) => e), "Compacted"));
      assert.is((await store.list("/k/", { revision: 15 })).items.length, 15);
    },
  );
});

test("automatic compaction keeps the time window", async () => {
  await withStore(
    { compactionWindowMs: 300, minRetainedRevisions: 0, compactionIntervalMs: 10 },
    async (store) => {
      for (let i = 0; i < 5; i++) await store.create(`/old/${i}`, { i });
      await new Promise((r) => setTimeout(r, 50));
      assert.is(store.compactedRevision(), 0, "Events younger than the window stay");
      await until(() => store.compactedRevision() === 5);
      for (let i = 0; i < 5; i++) await store.create(`/new/${i}`, { i });
      await new Promise((r) => setTimeout(r, 50));
      assert.is(store.compactedRevision(), 5, "Events younger than the window stay");
    },
  );
});

test("a write acknowledged before close is there after reopening", async () => {
  const path = await tempDir();
  try {
    let store = await openLmdbStore({ path, compactionIntervalMs: 0 });
    const acked: number[] = [];
    // Fire writes without awaiting them all, then close: close waits for what is in flight.
    const writes = Array.from(
      { length: 200 },
      (_, i) => store.create(`/d/${i}`, { i }).then((kv) => acked.push(kv.modRevision)),
    );
    await writes[0];
    await store.close();
    await Promise.allSettled(writes);
    store = await openLmdbStore({ path, compactionIntervalMs: 0 });
    assert.ok(acked.length > 0);
    for (const rev of acked) {
      const kv = (await store.list("/d/")).items.find((item) => item.modRevision === rev);
      assert.ok(kv, `Acknowledged revision ${rev} is missing after reopening`);
    }
    assert.is(store.currentRevision(), Math.max(...acked));
    await store.close();
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

test("writes acknowledged before the process dies abruptly survive", async () => {
  const path = await tempDir();
  try {
    const module = new URL("./lmdb_store.ts", import.meta.url).href;
    const child = `
      const { openLmdbStore } = await import(${JSON.stringify(module)});
      const store = await openLmdbStore({ path: ${JSON.stringify(path)}, compactionIntervalMs: 0 });
      const done = await Promise.all(Array.from({ length: 100 }, (_, i) => store.create("/d/" + i, { i })));
      await store.guaranteedUpdate("/d/0", () => ({ i: -1 }));
      console.log(JSON.stringify(done.map((kv) => kv.modRevision)));
      Deno.exit(0); // No close: nothing more gets the chance to reach the disk.
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", child],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(out.success, "The child process failed");
    const acked: number[] = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(acked.sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
    const store = await openLmdbStore({ path, compactionIntervalMs: 0 });
    assert.is(store.currentRevision(), 101);
    assert.is(await store.count("/d/"), 100);
    assert.equal((await store.get("/d/0"))?.value, { i: -1 });
    assert.is((await store.create("/d/next", {})).modRevision, 102);
    await store.close();
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

test("close ends watchers and refuses further work", async () => {
  const path = await tempDir();
  const store = await openLmdbStore({ path, compactionIntervalMs: 0 });
  const events: WatchEvent[] = [];
  const errors: string[] = [];
  store.watch("/", 0, { onEvent: (e) => events.push(e), onError: (e) => errors.push(e.code) });
  await store.create("/a", {});
  await store.close();
  await store.close(); // Idempotent.
  assert.is(events.length, 1);
  assert.equal(errors, ["Closed"]);
  assert.ok(isStorageError(await store.create("/b", {}).catch((e) => e), "Closed"));
  assert.throws(
    () => store.watch("/", 0, { onEvent: () => {} }),
    (e: unknown) => isStorageError(e, "Closed"),
  );
  await Deno.remove(path, { recursive: true });
});

test("previous objects kept by reference survive compaction of the record they point to, and a reopen", async () => {
  const path = await tempDir();
  let store = await openLmdbStore({ path, compactionIntervalMs: 0 });
  try {
    const a1 = await store.create("/r/a", { v: 1 });
    const a2 = await store.update("/r/a", { v: 2 }, a1.modRevision);
    const b1 = await store.create("/r/b", { v: 1 });
    const gone = await store.delete("/r/b");
    await store.update("/r/a", { v: 3 }, a2.modRevision);
    // Drop the records of a1 and b1: a2 and the deletion of b referred to them.
    await store.compact(b1.modRevision);
    for (let pass = 0; pass < 2; pass++) {
      const events: WatchEvent[] = [];
      const w = store.watch("/r/", b1.modRevision, { onEvent: (e) => events.push(e) });
      w.stop();
      assert.equal(
        events.map((e) => [e.type, e.key, e.object.value, e.prevObject?.value]),
        [
          ["DELETED", "/r/b", { v: 1 }, { v: 1 }],
          ["MODIFIED", "/r/a", { v: 3 }, { v: 2 }],
        ],
      );
      assert.is(events[0].revision, gone.modRevision);
      // A list as of the floor undoes the later writes with those previous objects.
      const then = await store.list("/r/", { revision: b1.modRevision });
      assert.equal(then.items.map((kv) => [kv.key, kv.value]), [["/r/a", { v: 2 }], ["/r/b", { v: 1 }]]);
      await store.close();
      store = await openLmdbStore({ path, compactionIntervalMs: 0 });
    }
    // And once more after compacting past the record that now holds a copy.
    await store.compact(gone.modRevision);
    const events: WatchEvent[] = [];
    store.watch("/r/", gone.modRevision, { onEvent: (e) => events.push(e) }).stop();
    assert.equal(events.map((e) => [e.type, e.prevObject?.value]), [["MODIFIED", { v: 2 }]]);
  } finally {
    await store.close();
    await Deno.remove(path, { recursive: true });
  }
});

test("current values held only by their log record are copied into objects before compaction drops it", async () => {
  const path = await tempDir();
  let store = await openLmdbStore({ path, compactionIntervalMs: 0 });
  try {
    const a1 = await store.create("/r/a", { v: 1 });
    const b1 = await store.create("/r/b", { v: 1 });
    const b2 = await store.update("/r/b", { v: 2 }, b1.modRevision);
    const c1 = await store.create("/r/c", { v: 1 });
    await store.delete("/r/c");
    // Every record up to here is dropped; a, b and the deleted c lose their log records.
    await store.compact(store.currentRevision());
    // A write racing the compaction is not overwritten by the copy.
    const racing = store.update("/r/a", { v: 9 }, a1.modRevision);
    const compacting = store.compact(store.currentRevision());
    await Promise.all([racing, compacting]);
    for (let pass = 0; pass < 2; pass++) {
      assert.equal((await store.get("/r/a"))?.value, { v: 9 });
      const b = await store.get("/r/b");
      assert.equal([b?.value, b?.createRevision, b?.modRevision], [{ v: 2 }, b1.modRevision, b2.modRevision]);
      assert.is(await store.get("/r/c"), undefined);
      assert.equal((await store.list("/r/")).items.map((kv) => [kv.key, kv.value]), [
        ["/r/a", { v: 9 }],
        ["/r/b", { v: 2 }],
      ]);
      assert.ok(c1.modRevision > 0);
      const a = await store.get("/r/a");
      await store.update("/r/a", { v: 10 + pass }, a!.modRevision);
      await store.update("/r/a", { v: 9 }, a!.modRevision + 1);
      await store.compact(store.currentRevision());
      await store.close();
      store = await openLmdbStore({ path, compactionIntervalMs: 0 });
    }
  } finally {
    await store.close();
    await Deno.remove(path, { recursive: true });
  }
});

test("a store whose log was written in msgpack keeps reading and writing it", async () => {
  const path = await tempDir();
  // The layout as written before the log moved to JSON: msgpack records, objects with values.
  const env = open({ path, compression: false });
  const structures = Symbol.for("structures");
  const objects = env.openDB({ name: "objects", sharedStructuresKey: structures });
  const log = env.openDB({ name: "log", sharedStructuresKey: structures, compression: true });
  await objects.put("/r/a", { v: { x: 1 }, c: 1, m: 2 });
  await log.put(1, { t: "ADDED", k: "/r/a", o: { v: { x: 0 }, c: 1, m: 1 }, at: Date.now() });
  await log.put(2, { t: "MODIFIED", k: "/r/a", o: { v: { x: 1 }, c: 1, m: 2 }, pm: 1, at: Date.now() });
  await env.openDB({ name: "refs" }).put(1, 2);
  await env.openDB({ name: "meta" }).put("revision", 2);
  await env.close();
  let store = await openLmdbStore({ path, compactionIntervalMs: 0 });
  try {
    for (let pass = 0; pass < 2; pass++) {
      const a = await store.get("/r/a");
      assert.equal(a?.value, { x: 1 + pass });
      const events: WatchEvent[] = [];
      store.watch("/r/", 0, { onEvent: (e) => events.push(e) }).stop();
      assert.equal(
        events.slice(0, 2).map((e) => [e.type, e.object.value, e.prevObject?.value]),
        [["ADDED", { x: 0 }, undefined], ["MODIFIED", { x: 1 }, { x: 0 }]],
      );
      if (pass === 0) await store.update("/r/a", { x: 2 }, a!.modRevision);
      await store.close();
      store = await openLmdbStore({ path, compactionIntervalMs: 0 });
    }
    await store.compact(store.currentRevision());
    assert.equal((await store.list("/r/")).items.map((kv) => kv.value), [{ x: 2 }]);
  } finally {
    await store.close();
    await Deno.remove(path, { recursive: true });
  }
});

test("measurements (printed, not asserted)", async () => {
  await withStore({ compactionIntervalMs: 0 }, async (store) => {
    const n = 10_000;
    const pod = (i: number) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `pod-${i}`, namespace: "default", labels: { app: "bench", idx: String(i % 10) } },
      spec: { containers: [{ name: "c", image: "busybox", command: ["sleep", "3600"] }], nodeName: "node-1" },
      status: { phase: "Running", podIP: "10.0.0.1" },
    });
    let started = performance.now();
    let i = 0;
    await Promise.all(Array.from({ length: 100 }, async () => {
      while (i < n) {
        const k = i++;
        await store.create(`/registry/pods/default/pod-${String(k).padStart(5, "0")}`, pod(k));
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    started = performance.now();
    const listed = await store.list("/registry/pods/");
    const listMs = performance.now() - started;
    assert.is(listed.items.length, n);
    console.log(
      `  lmdb: ${Math.round(n / seconds)} durable creates/s with 100 concurrent writers; ` +
        `list of ${n} keys in ${listMs.toFixed(1)} ms`,
    );
  });
});

test.run();
