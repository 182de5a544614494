import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyMergePatch } from "./merge_patch.ts";
import { applyJsonPatch, JsonPatchError } from "./json_patch.ts";

test("applyMergePatch merges objects, removes nulls and replaces lists", () => {
  const out = applyMergePatch(
    { metadata: { labels: { a: "1", b: "2" } }, spec: { list: [1, 2] } },
    { metadata: { labels: { a: null, c: "3" } }, spec: { list: [3] } },
  );
  assert.equal(out, { metadata: { labels: { b: "2", c: "3" } }, spec: { list: [3] } });
});

test("applyMergePatch with a non-object patch replaces the target", () => {
  assert.equal(applyMergePatch({ a: 1 }, [1]), [1]);
});

test("applyJsonPatch applies add, replace, remove, move, copy and test", () => {
  const doc = { a: { b: [1, 2] }, c: "x" };
  const out = applyJsonPatch(doc, [
    { op: "add", path: "/a/b/-", value: 3 },
    { op: "add", path: "/a/b/0", value: 0 },
    { op: "replace", path: "/c", value: "y" },
    { op: "copy", from: "/c", path: "/d" },
    { op: "move", from: "/d", path: "/e~1f" },
    { op: "remove", path: "/a/b/1" },
    { op: "test", path: "/e~1f", value: "y" },
  ]);
  assert.equal(out, { a: { b: [0, 2, 3] }, c: "y", "e/f": "y" });
});

test("applyJsonPatch refuses a missing path and a failing test", () => {
  assert.throws(() => applyJsonPatch({}, [{ op: "remove", path: "/x" }]), (e: unknown) => e instanceof JsonPatchError);
  assert.throws(() => applyJsonPatch({}, [{ op: "replace", path: "/x/y", value: 1 }]), (e: unknown) => e instanceof JsonPatchError);
  assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]), (e: unknown) => e instanceof JsonPatchError);
  assert.throws(() => applyJsonPatch({ a: [] }, [{ op: "add", path: "/a/5", value: 2 }]), (e: unknown) => e instanceof JsonPatchError);
  assert.throws(() => applyJsonPatch({}, { op: "add" }), (e: unknown) => e instanceof JsonPatchError);
});

test.run();
