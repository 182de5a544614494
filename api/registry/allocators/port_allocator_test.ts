import { suite } from "uvu";
import * as assert from "uvu/assert";
import { openLmdbStore } from "../../../storage/mod.ts";
import type { Store } from "../../../storage/store.ts";
import { NODE_PORTS_KEY, PortAllocator } from "./port_allocator.ts";
import { rejects } from "./test_helpers.ts";

interface Ctx {
  dir: string;
  store: Store;
}

const t = suite<Ctx>("Port allocator", {} as Ctx);

t.before.each(async (ctx) => {
  ctx.dir = await Deno.makeTempDir({ prefix: "kubedeno-portalloc-" });
  ctx.store = await openLmdbStore({ path: ctx.dir, compactionIntervalMs: 0 });
});

t.after.each(async (ctx) => {
  await ctx.store.close();
  await Deno.remove(ctx.dir, { recursive: true });
});

t("explicit ports are taken once; outside the range is refused with the range named", async (ctx) => {
  const ports = new PortAllocator(ctx.store);
  assert.is(ports.range, "30000-32767");
  await ports.allocate(30080);
  await rejects(ports.allocate(30080), "Allocated", "provided port is already allocated");
  await rejects(
    ports.allocate(80),
    "NotInRange",
    "provided port is not in the valid range. The range of valid ports is 30000-32767",
  );
  await rejects(
    ports.allocate(32768),
    "NotInRange",
    "provided port is not in the valid range. The range of valid ports is 30000-32767",
  );
  await ports.allocate(30000);
  await ports.allocate(32767);
  assert.equal(await ports.allocated(), [30000, 30080, 32767]);
  // Stored as upstream stores it: a RangeAllocation with a big-endian bitmap.
  const kv = await ctx.store.get<Record<string, string>>(NODE_PORTS_KEY);
  assert.is(kv!.value.kind, "RangeAllocation");
  assert.is(kv!.value.range, "30000-32767");
  const bytes = atob(kv!.value.data);
  assert.is(bytes.length, Math.ceil(2768 / 8));
  assert.is(bytes.charCodeAt(bytes.length - 1), 1); // port 30000 is bit 0
});

t("200 concurrent allocations from two allocators over one store are all different", async (ctx) => {
  const a = new PortAllocator(ctx.store);
  const b = new PortAllocator(ctx.store);
  const got = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).allocateNext()));
  assert.is(new Set(got).size, 200);
  for (const p of got) assert.ok(p >= 30000 && p <= 32767, String(p));
  assert.is((await a.allocated()).length, 200);
});

t("dynamic allocation leaves the lowest ports for explicit requests until the rest is used", async (ctx) => {
  const ports = new PortAllocator(ctx.store, { range: "30000-30099", random: () => 0 });
  // 100 ports: the lower 16 are the static band.
  assert.is(await ports.allocateNext(), 30016);
  const got = new Set<number>();
  for (let i = 0; i < 83; i++) got.add(await ports.allocateNext());
  assert.ok([...got].every((p) => p >= 30017), "dynamic used the static band too early");
  assert.is(await ports.allocateNext(), 30000);
});

t("release frees a port; a full range says so", async (ctx) => {
  const ports = new PortAllocator(ctx.store, { range: "30000-30004" });
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await ports.allocateNext());
  assert.equal([...got].sort(), [30000, 30001, 30002, 30003, 30004]);
  await rejects(ports.allocateNext(), "Full", "range is full");
  await ports.release(30002);
  assert.not.ok(await ports.has(30002));
  assert.is(await ports.allocateNext(), 30002);
  await ports.releaseAll([30000, 30001, 99]);
  assert.equal(await ports.allocated(), [30002, 30003, 30004]);
  await ports.release(30000);
  await ports.release(1);
});

t("allocations survive a restart", async (ctx) => {
  const first = new PortAllocator(ctx.store);
  await first.allocate(30080);
  const dynamic = await first.allocateNext();
  await ctx.store.close();
  ctx.store = await openLmdbStore({ path: ctx.dir, compactionIntervalMs: 0 });
  const again = new PortAllocator(ctx.store);
  await rejects(again.allocate(30080), "Allocated", "provided port is already allocated");
  await rejects(again.allocate(dynamic), "Allocated", "provided port is already allocated");
  assert.equal(await again.allocated(), [30080, dynamic].sort((x, y) => x - y));
});

t("repair makes the bitmap hold exactly what Services hold", async (ctx) => {
  const ports = new PortAllocator(ctx.store);
  await ports.allocate(30080);
  await ports.allocate(30081);
  const result = await ports.repair([30080, 30500, 80]);
  assert.equal(result, { marked: [30500], freed: [30081] });
  assert.equal(await ports.allocated(), [30080, 30500]);
});

t("a bitmap written for another range is carried over", async (ctx) => {
  const old = new PortAllocator(ctx.store, { range: "30000-30099" });
  await old.allocate(30050);
  await old.allocate(30001);
  const wider = new PortAllocator(ctx.store, { range: "30040-30200" });
  assert.equal(await wider.allocated(), [30050]);
  await rejects(wider.allocate(30050), "Allocated", "provided port is already allocated");
});

t.run();
