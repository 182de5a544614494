import { suite } from "uvu";
import * as assert from "uvu/assert";
import { openLmdbStore } from "../../../storage/mod.ts";
import type { Store } from "../../../storage/store.ts";
import { IpAllocator } from "./ip_allocator.ts";
import { rejects } from "./test_helpers.ts";

interface Ctx {
  dir: string;
  store: Store;
}

// deno-lint-ignore no-explicit-any
type Json = any;

const t = suite<Ctx>("IP allocator", {} as Ctx);
const PREFIX = "/registry/networking.k8s.io/ipaddresses/";
const owner = (name: string) => ({ namespace: "default", name });

t.before.each(async (ctx) => {
  ctx.dir = await Deno.makeTempDir({ prefix: "kubedeno-ipalloc-" });
  ctx.store = await openLmdbStore({ path: ctx.dir, compactionIntervalMs: 0 });
});

t.after.each(async (ctx) => {
  await ctx.store.close();
  await Deno.remove(ctx.dir, { recursive: true });
});

t("the range skips network and broadcast; the first address is .1", (ctx) => {
  const ips = new IpAllocator(ctx.store, { cidr: "10.96.0.0/12", keyPrefix: PREFIX });
  assert.is(ips.cidr, "10.96.0.0/12");
  assert.is(ips.firstAddress, "10.96.0.1");
  assert.is(ips.size, 2 ** 20 - 2);
  assert.ok(ips.contains("10.96.0.1"));
  assert.ok(ips.contains("10.111.255.254"));
  assert.not.ok(ips.contains("10.96.0.0"));
  assert.not.ok(ips.contains("10.111.255.255"));
  assert.not.ok(ips.contains("10.112.0.1"));
  assert.not.ok(ips.contains("banana"));
  assert.is(ips.dryRunNext(), "10.96.0.0");
});

t("an explicit address is recorded as an IPAddress naming its Service, and only once", async (ctx) => {
  const ips = new IpAllocator(ctx.store, { cidr: "10.96.0.0/12", keyPrefix: PREFIX });
  await ips.allocate("10.96.0.10", owner("dns"));
  const kv = await ctx.store.get<Record<string, Json>>(`${PREFIX}10.96.0.10`);
  assert.equal(kv!.value.spec, { parentRef: { resource: "services", namespace: "default", name: "dns" } });
  assert.is(kv!.value.kind, "IPAddress");
  assert.is(kv!.value.metadata.labels["ipaddress.kubernetes.io/managed-by"], "ipallocator.k8s.io");
  await rejects(ips.allocate("10.96.0.10", owner("other")), "Allocated", "provided IP is already allocated");
  await rejects(
    ips.allocate("1.1.1.1", owner("x")),
    "Mismatched",
    "the provided network does not match the current range",
  );
  await rejects(
    ips.allocate("10.96.0.0", owner("x")),
    "Mismatched",
    "the provided network does not match the current range",
  );
  assert.throws(
    () => ips.checkDryRun("1.1.1.1"),
    /the provided IP \(1\.1\.1\.1\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/,
  );
  ips.checkDryRun("10.96.0.10");
});

t("200 concurrent allocations from two allocators over one store are all different", async (ctx) => {
  const a = new IpAllocator(ctx.store, { cidr: "10.0.0.0/24", keyPrefix: PREFIX });
  const b = new IpAllocator(ctx.store, { cidr: "10.0.0.0/24", keyPrefix: PREFIX });
  const got = await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).allocateNext(owner(`s${i}`))),
  );
  assert.is(new Set(got).size, 200);
  for (const ip of got) assert.ok(a.contains(ip), ip);
  const stored = await ctx.store.list(PREFIX);
  assert.is(stored.items.length, 200);
  // Each IPAddress names the Service that asked for it.
  const owners = new Set(stored.items.map((kv) => (kv.value as Record<string, Json>).spec.parentRef.name));
  assert.is(owners.size, 200);
});

t("dynamic allocation prefers the upper part of the range", async (ctx) => {
  // A /24 has 256 addresses: the lower 16 are left for explicit requests.
  const ips = new IpAllocator(ctx.store, { cidr: "10.0.0.0/24", keyPrefix: PREFIX, random: () => 0 });
  assert.is(await ips.allocateNext(owner("a")), "10.0.0.17");
  const low = new IpAllocator(ctx.store, { cidr: "10.0.0.0/24", keyPrefix: PREFIX, random: () => 0.999 });
  assert.is(await low.allocateNext(owner("b")), "10.0.0.254");
});

t("release frees an address; with an owner only that owner's; a full range says so", async (ctx) => {
  const ips = new IpAllocator(ctx.store, { cidr: "192.168.5.0/29", keyPrefix: PREFIX });
  assert.is(ips.size, 6);
  const got = new Set<string>();
  for (let i = 0; i < 6; i++) got.add(await ips.allocateNext(owner(`s${i}`)));
  assert.equal([...got].sort(), [
    "192.168.5.1",
    "192.168.5.2",
    "192.168.5.3",
    "192.168.5.4",
    "192.168.5.5",
    "192.168.5.6",
  ]);
  await rejects(ips.allocateNext(owner("late")), "Full", "range is full");
  const holder = [...(await ips.allocated())].find(([, o]) => o?.name === "s3")![0];
  await ips.release(holder, owner("someone-else"));
  assert.ok(await ips.has(holder));
  await ips.release(holder, owner("s3"));
  assert.not.ok(await ips.has(holder));
  assert.is(await ips.allocateNext(owner("late")), holder);
  // Releasing what is free, or outside the range, is harmless.
  await ips.release("192.168.5.7");
  await ips.release("8.8.8.8");
});

t("addresses freed by another API server are found again when the range looks full", async (ctx) => {
  const a = new IpAllocator(ctx.store, { cidr: "192.168.5.0/29", keyPrefix: PREFIX });
  const b = new IpAllocator(ctx.store, { cidr: "192.168.5.0/29", keyPrefix: PREFIX });
  for (let i = 0; i < 6; i++) await a.allocateNext(owner(`s${i}`));
  await rejects(a.allocateNext(owner("x")), "Full", "range is full");
  await b.release("192.168.5.4");
  assert.is(await a.allocateNext(owner("x")), "192.168.5.4");
});

t("allocations survive a restart", async (ctx) => {
  const first = new IpAllocator(ctx.store, { cidr: "10.96.0.0/12", keyPrefix: PREFIX });
  await first.allocate("10.96.0.10", owner("dns"));
  const dynamic = await first.allocateNext(owner("web"));
  await ctx.store.close();
  ctx.store = await openLmdbStore({ path: ctx.dir, compactionIntervalMs: 0 });
  const again = new IpAllocator(ctx.store, { cidr: "10.96.0.0/12", keyPrefix: PREFIX });
  await rejects(again.allocate("10.96.0.10", owner("x")), "Allocated", "provided IP is already allocated");
  await rejects(again.allocate(dynamic, owner("x")), "Allocated", "provided IP is already allocated");
  assert.equal(
    new Map([...(await again.allocated())].map(([ip, o]) => [ip, o?.name])),
    new Map([["10.96.0.10", "dns"], [dynamic, "web"]]),
  );
});

t("repair frees unclaimed addresses, records claimed ones and re-points moved ones", async (ctx) => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const ips = new IpAllocator(ctx.store, { cidr: "10.96.0.0/12", keyPrefix: PREFIX, now: () => now });
  await ips.allocate("10.96.0.10", owner("dns"));
  await ips.allocate("10.96.0.11", owner("leaked"));
  await ips.allocate("10.96.0.12", owner("old-name"));
  const claims = new Map([
    ["10.96.0.10", owner("dns")],
    ["10.96.0.12", owner("new-name")],
    ["10.96.0.13", owner("unrecorded")],
    ["1.2.3.4", owner("outside")],
  ]);
  // Too young to be called a leak: it may be a create still in flight.
  const young = await ips.repair(claims, { minAgeMs: 60_000 });
  assert.equal(young.released, []);
  now += 120_000;
  const result = await ips.repair(claims, { minAgeMs: 60_000 });
  assert.equal(result.released, ["10.96.0.11"]);
  assert.equal(young.created, ["10.96.0.13"]);
  assert.equal(young.updated, ["10.96.0.12"]);
  assert.equal(
    new Map([...(await ips.allocated())].map(([ip, o]) => [ip, o?.name])),
    new Map([["10.96.0.10", "dns"], ["10.96.0.12", "new-name"], ["10.96.0.13", "unrecorded"]]),
  );
  await ips.allocate("10.96.0.11", owner("reuse"));
});

t.run();
