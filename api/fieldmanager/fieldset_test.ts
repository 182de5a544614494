import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadSchemas } from "../../openapi/schema.ts";
import { MergeTypes } from "./atoms.ts";
import { FieldSet, FieldsV1Error } from "./fieldset.ts";
import { compareStrings, goJson } from "./gojson.ts";
import { fieldPath, parsePE, type Path, pathString, serializePE } from "./path.ts";
import { compare, merge, removeItems, toFieldSet, validate } from "./typed.ts";

const schemas = await loadSchemas();
const types = new MergeTypes(schemas);
const POD = types.forKind("", "v1", "Pod");
const DEPLOYMENT = types.forKind("apps", "v1", "Deployment");
const CONFIGMAP = types.forKind("", "v1", "ConfigMap");

const key = (...kv: [string, unknown][]): Path[number] => ({ key: kv });

test("path elements serialize as FieldsV1 keys (key fields sorted, JSON values)", () => {
  assert.is(serializePE({ field: "spec" }), "f:spec");
  assert.is(
    serializePE(key(["containerPort", 80], ["protocol", "TCP"])),
    'k:{"containerPort":80,"protocol":"TCP"}',
  );
  assert.is(serializePE({ value: "example.com/finalizer" }), 'v:"example.com/finalizer"');
  assert.is(serializePE({ index: 3 }), "i:3");
  // Go's encoder escapes HTML characters inside key values.
  assert.is(serializePE(key(["name", "a<b&c"])), 'k:{"name":"a\\u003cb\\u0026c"}');
  const parsed = parsePE('k:{"protocol":"TCP","containerPort":80}');
  assert.equal(parsed, key(["containerPort", 80], ["protocol", "TCP"]));
  assert.is(parsePE("x:whatever"), undefined);
  assert.throws(() => parsePE("f"));
});

test("paths print as in conflict messages", () => {
  const p: Path = [
    { field: "spec" },
    { field: "template" },
    { field: "spec" },
    { field: "containers" },
    key(["name", "web"]),
    { field: "ports" },
    key(["containerPort", 80], ["protocol", "TCP"]),
    { field: "hostPort" },
  ];
  assert.is(
    pathString(p),
    '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].hostPort',
  );
  assert.is(
    pathString([{ field: "metadata" }, { field: "finalizers" }, { value: "x" }]),
    '.metadata.finalizers[="x"]',
  );
});

test("FieldsV1 orders fields, then keys, then values; '.' marks a member that has children", () => {
  const s = FieldSet.of(
    fieldPath("spec", "replicas"),
    fieldPath("metadata", "labels", "b"),
    fieldPath("metadata", "labels", "a"),
    fieldPath("metadata", "labels"),
    [{ field: "metadata" }, { field: "finalizers" }, { value: "z" }],
    [{ field: "metadata" }, { field: "finalizers" }, { value: "a" }],
  );
  assert.is(
    JSON.stringify(s.toFieldsV1()),
    '{"f:metadata":{"f:finalizers":{"v:\\"a\\"":{},"v:\\"z\\"":{}},"f:labels":{".":{},"f:a":{},"f:b":{}}},' +
      '"f:spec":{"f:replicas":{}}}',
  );
  const back = FieldSet.fromFieldsV1(JSON.parse(JSON.stringify(s.toFieldsV1())));
  assert.ok(back.equals(s));
  assert.ok(back.has(fieldPath("metadata", "labels")));
  assert.not.ok(back.has(fieldPath("metadata")));
});

test("FieldsV1 decoding: unknown kinds are skipped, malformed keys fail", () => {
  const s = FieldSet.fromFieldsV1({ "f:a": {}, "z:b": {}, "f:c": { ".": {}, "f:d": {} } });
  assert.equal(s.paths().map(pathString), [".a", ".c", ".c.d"]);
  assert.throws(() => FieldSet.fromFieldsV1({ "nocolon": {} }), (e: unknown) => e instanceof FieldsV1Error);
  assert.throws(() => FieldSet.fromFieldsV1({ "f:a": 1 }), (e: unknown) => e instanceof FieldsV1Error);
});

test("set operations: difference keeps children, recursive difference drops them", () => {
  const a = FieldSet.of(fieldPath("spec", "a"), fieldPath("spec", "b", "c"), fieldPath("status", "x"));
  const b = FieldSet.of(fieldPath("spec"), fieldPath("spec", "a"));
  assert.equal(a.difference(b).paths().map(pathString), [".spec.b.c", ".status.x"]);
  assert.equal(a.recursiveDifference(b).paths().map(pathString), [".status.x"]);
  assert.equal(a.intersection(FieldSet.of(fieldPath("spec", "b", "c"))).paths().map(pathString), [
    ".spec.b.c",
  ]);
  assert.equal(a.union(b).paths().map(pathString), [".spec", ".spec.a", ".spec.b.c", ".status.x"]);
});

test("Go orderings: UTF-8 byte order and HTML-escaped sorted JSON", () => {
  assert.ok(compareStrings("\uffff", "\u{10000}") < 0);
  assert.ok(compareStrings("B", "a") < 0);
  assert.is(goJson({ b: 1, a: ["<x>", true, null] }), '{"a":["\\u003cx\\u003e",true,null],"b":1}');
});

test("field set of an applied configuration: no '.' on structs; map keys and list items are members", () => {
  const config = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", labels: { app: "web" }, finalizers: ["example.com/f"] },
    spec: {
      containers: [{
        name: "web",
        image: "nginx",
        args: ["-g", "daemon off;"],
        ports: [{ containerPort: 80 }],
        resources: {},
      }],
      nodeSelector: { disk: "ssd" },
      affinity: null,
    },
  };
  const fs = toFieldSet(config, POD);
  assert.equal(fs.toFieldsV1(), {
    "f:apiVersion": {},
    "f:kind": {},
    "f:metadata": {
      "f:finalizers": { 'v:"example.com/f"': {} },
      "f:labels": { "f:app": {} },
      "f:name": {},
    },
    "f:spec": {
      "f:affinity": {},
      "f:containers": {
        'k:{"name":"web"}': {
          ".": {},
          "f:args": {},
          "f:image": {},
          "f:name": {},
          // protocol is a key field with a schema default: the key uses it.
          "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
          "f:resources": {},
        },
      },
      // nodeSelector is an atomic map: one leaf.
      "f:nodeSelector": {},
    },
  });
});

test("atomic structs and lists are leaves: a label selector and container args", () => {
  const fs = toFieldSet({
    spec: {
      selector: { matchLabels: { app: "x" } },
      template: { spec: { containers: [{ name: "c", args: ["a"] }] } },
    },
  }, DEPLOYMENT);
  const paths = fs.paths().map(pathString);
  assert.ok(paths.includes(".spec.selector"));
  assert.not.ok(paths.some((p) => p.startsWith(".spec.selector.")));
  assert.ok(paths.includes('.spec.template.spec.containers[name="c"].args'));
});

test("compare: a new granular map or list owns itself ('.'), an existing one does not", () => {
  const live = { data: { a: "1" }, metadata: { name: "x" } };
  const next = { data: { a: "2", b: "3" }, metadata: { name: "x", labels: { l: "v" } } };
  const c = compare(live, next, CONFIGMAP);
  assert.equal(c.modified.paths().map(pathString), [".data.a"]);
  assert.equal(c.added.paths().map(pathString), [".data.b", ".metadata.labels", ".metadata.labels.l"]);
  assert.ok(c.removed.empty());
  const back = compare(next, live, CONFIGMAP);
  assert.equal(back.removed.paths().map(pathString), [".data.b", ".metadata.labels", ".metadata.labels.l"]);
});

test("map keys that are Object.prototype names are ordinary keys", () => {
  const live = JSON.parse('{"data":{"a":"1"}}');
  const next = JSON.parse('{"data":{"a":"1","constructor":"x","__proto__":"y"}}');
  const c = compare(live, next, CONFIGMAP);
  assert.equal(c.added.paths().map(pathString), [".data.__proto__", ".data.constructor"]);
  const merged = merge(live, next, CONFIGMAP) as { data: Record<string, unknown> };
  assert.equal(Object.keys(merged.data), ["a", "constructor", "__proto__"]);
});

test("merge: keyed lists merge by key in the configuration's order, atomic lists are replaced", () => {
  const live = {
    spec: {
      containers: [
        { name: "a", image: "a:1", args: ["x", "y"] },
        { name: "b", image: "b:1" },
      ],
    },
  };
  const config = {
    spec: {
      containers: [{ name: "b", image: "b:2" }, { name: "a", args: ["z"] }, { name: "c", image: "c" }],
    },
  };
  const out = merge(live, config, POD) as { spec: { containers: unknown[] } };
  assert.equal(out.spec.containers, [
    { name: "b", image: "b:2" },
    { name: "a", image: "a:1", args: ["z"] },
    { name: "c", image: "c" },
  ]);
});

test("merge keeps live-only items next to their neighbours; sets merge by value", () => {
  const live = {
    metadata: { finalizers: ["a", "b", "c"] },
    spec: { containers: [{ name: "x" }, { name: "y" }] },
  };
  const config = {
    metadata: { finalizers: ["c", "d"] },
    spec: { containers: [{ name: "y" }, { name: "z" }] },
  };
  const out = merge(live, config, POD) as {
    metadata: { finalizers: string[] };
    spec: { containers: unknown[] };
  };
  assert.equal(out.metadata.finalizers, ["a", "b", "c", "d"]);
  assert.equal(out.spec.containers, [{ name: "x" }, { name: "y" }, { name: "z" }]);
});

test("removeItems drops fields and items, and containers left empty", () => {
  const obj = { metadata: { labels: { a: "1" } }, data: { k: "v", j: "w" } };
  const out = removeItems(
    obj,
    FieldSet.of(fieldPath("metadata", "labels", "a"), fieldPath("data", "k")),
    CONFIGMAP,
  );
  assert.equal(out, { data: { j: "w" } });
});

test("validation of an applied configuration, worded as upstream", () => {
  assert.is(
    validate({ spec: { replicas: "3" } }, DEPLOYMENT),
    ".spec.replicas: expected numeric (int or float), got string",
  );
  assert.is(validate({ spec: { foo: 1 } }, DEPLOYMENT), ".spec.foo: field not declared in schema");
  assert.is(
    validate({ spec: { template: { spec: { containers: [{ image: "x" }] } } } }, DEPLOYMENT),
    '.spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
  );
  assert.is(
    validate({ spec: { template: { spec: { containers: [{ name: "a" }, { name: "a" }] } } } }, DEPLOYMENT),
    '.spec.template.spec.containers: duplicate entries for key [name="a"]',
  );
  assert.is(validate({ data: { a: "b" }, metadata: { labels: { x: "y" } } }, CONFIGMAP), undefined);
  // Quantities and int-or-strings take any scalar.
  assert.is(
    validate({ spec: { strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: "25%" } } } }, DEPLOYMENT),
    undefined,
  );
});

test.run();
