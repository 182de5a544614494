import { test } from "uvu";
import * as assert from "uvu/assert";
import { NamespaceCache } from "./namespace_cache.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";

test("NamespaceCache reads a namespace once, then answers without awaiting", async () => {
  let reads = 0;
  const cache = new NamespaceCache((ns) => {
    reads++;
    return Promise.resolve(ns === "quota" ? [{ metadata: { name: "q" } }] : []);
  });
  assert.is(cache.peek("plain"), undefined);
  const [a, b] = await Promise.all([cache.get("plain"), cache.get("plain")]);
  assert.equal(a, []);
  assert.equal(b, []);
  assert.is(reads, 1, "concurrent misses share one read");
  assert.ok(Array.isArray(cache.get("plain")), "a cached namespace answers synchronously");
  assert.is(((await cache.get("quota")) as KubeObject[]).length, 1);
  assert.is(reads, 2);
});

test("NamespaceCache forgets on invalidate, and never keeps a read that raced a write", async () => {
  let items: KubeObject[] = [];
  let release!: () => void;
  let gate = Promise.resolve();
  const cache = new NamespaceCache(async () => {
    const seen = items;
    await gate;
    return seen;
  });
  assert.equal(await cache.get("ns"), []);
  // A read starts, a write lands while it is in flight: the stale answer is not cached.
  gate = new Promise((r) => release = r);
  cache.invalidate("ns");
  const inFlight = cache.get("ns");
  items = [{ metadata: { name: "new" } }];
  cache.invalidate("ns");
  release();
  assert.equal(await inFlight, []);
  assert.is(cache.peek("ns"), undefined);
  gate = Promise.resolve();
  assert.equal(await cache.get("ns"), items);
});

test("NamespaceCache entries expire after the TTL", async () => {
  let now = 0;
  let reads = 0;
  const cache = new NamespaceCache(() => {
    reads++;
    return Promise.resolve([]);
  }, { ttlMs: 1000, now: () => now });
  await cache.get("ns");
  now = 500;
  assert.equal(cache.peek("ns"), []);
  now = 1501;
  assert.is(cache.peek("ns"), undefined);
  await cache.get("ns");
  assert.is(reads, 2);
});

test.run();
