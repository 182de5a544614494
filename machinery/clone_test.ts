import { test } from "uvu";
import * as assert from "uvu/assert";
import { clone } from "./object_meta.ts";

test("clone copies JSON values deeply, keeps a __proto__ key as an own key, and copies bytes", () => {
  const source = JSON.parse('{"a":{"b":[1,{"c":"d"}],"n":null},"__proto__":{"polluted":true}}');
  const copy = clone(source);
  assert.equal(copy, source);
  assert.is.not(copy.a, source.a);
  assert.is.not(copy.a.b[1], source.a.b[1]);
  assert.ok(Object.hasOwn(copy, "__proto__"), "an own key, as JSON.parse made it");
  assert.is(Object.getPrototypeOf(copy), Object.prototype);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  const bytes = { data: new Uint8Array([1, 2, 3]) };
  const copied = clone(bytes);
  assert.equal([...copied.data], [1, 2, 3]);
  assert.is.not(copied.data, bytes.data);
});

test.run();
