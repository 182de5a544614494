import { test } from "uvu";
import * as assert from "uvu/assert";
import { defineStoreSuite } from "../store_suite.ts";
import { openLmdbStore } from "./lmdb_store.ts";
import type { Store } from "../store.ts";

defineStoreSuite("lmdb", async () => {
  const path = await Deno.makeTempDir({ prefix: "kubedeno-lmdb-" });
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

test("automatic compaction keeps the window and the minimum count", async () => {
  const path = await Deno.makeTempDir({ prefix: "kubedeno-lmdb-" });
  const store = await openLmdbStore({ path, compactionWindowMs: 0, minRetainedRevisions: 5, compactionIntervalMs: 20 });
  for (let i = 0; i < 20; i++) await store.create(`/k/${i}`, { i });
  const deadline = Date.now() + 3000;
  while (store.compactedRevision() < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.is(store.compactedRevision(), 15);
  await store.close();
  await Deno.remove(path, { recursive: true });
});

test.run();
