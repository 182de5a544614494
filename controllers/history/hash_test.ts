import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  canonicalJson,
  computeHash,
  controllerRevisionName,
  fnv32,
  fnv32a,
  hashControllerRevision,
  safeEncodeString,
} from "./hash.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

test("fnv32 and fnv32a match the published test vectors", () => {
  assert.is(fnv32(bytes("")), 0x811c9dc5);
  assert.is(fnv32(bytes("a")), 0x050c5d7e);
  assert.is(fnv32(bytes("foobar")), 0x31f0b262);
  assert.is(fnv32a(bytes("a")), 0xe40c292c);
  assert.is(fnv32a(bytes("foobar")), 0xbf9cf968);
  assert.is(fnv32(bytes("bar"), fnv32(bytes("foo"))), fnv32(bytes("foobar")), "seeded hashing continues");
});

test("safeEncodeString maps into the vowel-free alphabet", () => {
  assert.is(safeEncodeString("123"), "567");
  assert.ok(/^[bcdfghjklmnpqrstvwxz2456789]+$/.test(safeEncodeString(String(4294967295))));
});

test("canonicalJson sorts keys at every level and drops undefined", () => {
  assert.is(
    canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
  );
});

test("controllerRevisionName cuts the prefix to 223 characters", () => {
  assert.is(controllerRevisionName("web", "abc"), "web-abc");
  assert.is(controllerRevisionName("x".repeat(300), "abc").length, 223 + 4);
});

test("hashes depend on the data and the collision count, not on key order", () => {
  const a = hashControllerRevision({ spec: { x: 1, y: 2 } });
  assert.is(hashControllerRevision({ spec: { y: 2, x: 1 } }), a);
  assert.is.not(hashControllerRevision({ spec: { x: 1, y: 2 } }, 1), a);
  assert.is.not(hashControllerRevision({ spec: { x: 2, y: 2 } }), a);
  assert.is(computeHash({ a: 1 }), computeHash({ a: 1 }));
  assert.is.not(computeHash({ a: 1 }, 1), computeHash({ a: 1 }));
});

test.run();
