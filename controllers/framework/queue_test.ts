import { test } from "uvu";
import * as assert from "uvu/assert";
import { ExponentialFailureRateLimiter, WorkQueue } from "./queue.ts";

test("a key added many times is handed out once", async () => {
  const q = new WorkQueue();
  q.add("a");
  q.add("b");
  q.add("a");
  assert.is(q.length, 2);
  assert.is(await q.get(), "a");
  assert.is(await q.get(), "b");
  q.done("a");
  q.done("b");
  assert.is(q.length, 0);
});

test("a key added while processed comes back after done, never to two workers at once", async () => {
  const q = new WorkQueue();
  q.add("a");
  const k = await q.get();
  q.add("a");
  assert.is(q.length, 0, "not handed out again while processing");
  q.done(k!);
  assert.is(q.length, 1);
  assert.is(await q.get(), "a");
});

test("a waiting worker gets the next key", async () => {
  const q = new WorkQueue();
  const next = q.get();
  q.add("x");
  assert.is(await next, "x");
});

test("addAfter delays; an earlier time wins", async () => {
  const q = new WorkQueue();
  q.addAfter("a", 200);
  q.addAfter("a", 10);
  await new Promise((r) => setTimeout(r, 40));
  assert.is(q.length, 1);
  q.shutDown();
});

test("exponential backoff per key, reset by forget", () => {
  const l = new ExponentialFailureRateLimiter(5, 100);
  assert.equal([l.when("a"), l.when("a"), l.when("a"), l.when("b")], [5, 10, 20, 5]);
  for (let i = 0; i < 10; i++) l.when("a");
  assert.is(l.when("a"), 100);
  l.forget("a");
  assert.is(l.when("a"), 5);
});

test("shutDown releases waiting workers", async () => {
  const q = new WorkQueue();
  const next = q.get();
  q.shutDown();
  assert.is(await next, undefined);
});

test.run();
