import { test } from "uvu";
import * as assert from "uvu/assert";
import { goQuantity } from "./go_quantity.ts";
import { computeHash, fnv32a, safeEncodeString, templateSum } from "./template_hash.ts";

interface Vector {
  template: unknown;
  collisionCount: number | null;
  sum: number;
  hash: string;
}

const { vectors } = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/hash_vectors.json", import.meta.url)),
) as { vectors: Vector[] };

test("computeHash matches kube-controller-manager 1.33 on every recorded template", () => {
  for (const [i, v] of vectors.entries()) {
    assert.is(templateSum(v.template, v.collisionCount), v.sum, `vector ${i}`);
    assert.is(computeHash(v.template, v.collisionCount), v.hash, `vector ${i}`);
  }
});

test("computeHash of `kubectl create deployment nginx --image=nginx` as defaulted is upstream's nginx-5869d7778c", () => {
  assert.is(computeHash(vectors[0].template), "5869d7778c");
});

test("computeHash ignores key order and empty lists and maps, as a protobuf round trip does", () => {
  const a = { metadata: { labels: { b: "2", a: "1" } }, spec: { containers: [{ name: "c", image: "i" }] } };
  const b = {
    spec: { volumes: [], containers: [{ image: "i", name: "c", args: [] }], nodeSelector: {} },
    metadata: { annotations: {}, labels: { a: "1", b: "2" } },
  };
  assert.is(computeHash(a), computeHash(b));
  assert.is.not(computeHash(a, 1), computeHash(a));
});

test("a template beyond the model (a timestamp, a Pi-sized quantity) still hashes stably", () => {
  const t = {
    metadata: { creationTimestamp: "2024-01-01T00:00:00Z" },
    spec: { containers: [{ name: "c", image: "i", resources: { limits: { memory: "1Pi" } } }] },
  };
  assert.is(computeHash(t), computeHash(structuredClone(t)));
  assert.ok(/^[bcdfghjklmnpqrstvwxz2456789]+$/.test(computeHash(t)));
});

test("goQuantity follows the parser's fast path and caches canonical text", () => {
  assert.equal(goQuantity("0.5"), { value: 500n, scale: -3, s: "500m", format: "DecimalSI" });
  assert.equal(goQuantity("128Mi"), { value: 134217728n, scale: 0, s: "", format: "BinarySI" });
  assert.equal(goQuantity("1Ki"), { value: 1024n, scale: 0, s: "1Ki", format: "BinarySI" });
  assert.equal(goQuantity("1000"), { value: 1n, scale: 3, s: "1k", format: "DecimalSI" });
  assert.equal(goQuantity("0"), { value: 0n, scale: 0, s: "0", format: "DecimalSI" });
  assert.ok(goQuantity("1Pi")?.bigDecimal);
});

test("fnv32a and safeEncodeString as upstream's", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  assert.is(fnv32a(bytes("")), 0x811c9dc5);
  assert.is(fnv32a(bytes("a")), 0xe40c292c);
  assert.is(fnv32a(bytes("foobar")), 0xbf9cf968);
  assert.is(safeEncodeString("1425833347"), "5869d7778c");
});

test.run();
