import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadSchemas } from "../../openapi/schema.ts";
import {
  applyStrategicMergePatch,
  INVALID_PATCH_MESSAGE,
  PANIC_MESSAGE,
  StrategicMergePatchError,
  type StrategicMergePatchErrorKind,
} from "./strategic.ts";

const schemas = await loadSchemas();
const POD = schemas.refForKind("", "v1", "Pod");
const DEPLOYMENT = schemas.refForKind("apps", "v1", "Deployment");
const SERVICE = schemas.refForKind("", "v1", "Service");
const CONFIGMAP = schemas.refForKind("", "v1", "ConfigMap");
const NODE = schemas.refForKind("", "v1", "Node");
const PDB = schemas.refForKind("policy", "v1", "PodDisruptionBudget");
const REVISION = schemas.refForKind("apps", "v1", "ControllerRevision");

type Obj = Record<string, unknown>;

function smp(original: unknown, patch: unknown, schema = POD): Obj {
  return applyStrategicMergePatch(original, patch, schema, schemas) as Obj;
}

function fails(
  original: unknown,
  patch: unknown,
  kind: StrategicMergePatchErrorKind,
  message: string,
  schema = POD,
): StrategicMergePatchError {
  try {
    applyStrategicMergePatch(original, patch, schema, schemas);
  } catch (e) {
    assert.instance(e, StrategicMergePatchError);
    const err = e as StrategicMergePatchError;
    assert.is(err.message, message);
    assert.is(err.kind, kind);
    return err;
  }
  assert.unreachable("expected the patch to fail");
  throw new Error("unreachable");
}

function pod(spec: Obj, metadata: Obj = {}): Obj {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", ...metadata }, spec };
}

function containers(result: Obj): Obj[] {
  return (result.spec as Obj).containers as Obj[];
}

function names(list: unknown): unknown[] {
  return (list as Obj[]).map((c) => c.name);
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Maps, scalars, plain lists

test("maps merge recursively, null removes a key, original keys keep their place", () => {
  const cm = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", labels: { a: "1", b: "2" }, annotations: { x: "y" } },
    data: { one: "1", two: "2" },
  };
  const out = smp(cm, {
    data: { two: "II", three: "3", one: null },
    metadata: { labels: { b: null, c: "3" } },
  }, CONFIGMAP);
  assert.equal(out, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", labels: { a: "1", c: "3" }, annotations: { x: "y" } },
    data: { two: "II", three: "3" },
  });
  assert.equal(Object.keys(out), ["apiVersion", "kind", "metadata", "data"]);
  assert.equal(Object.keys(out.data as Obj), ["two", "three"]);
});

test("the inputs are left untouched", () => {
  const original = deepFreeze(
    pod({ containers: [{ name: "a", image: "x", env: [{ name: "E", value: "1" }] }] }),
  );
  const patch = deepFreeze({
    spec: {
      "$setElementOrder/containers": [{ name: "b" }, { name: "a" }],
      containers: [{ name: "b", image: "y" }, { name: "a", env: [{ name: "E", $patch: "delete" }] }],
    },
  });
  const before = JSON.stringify(original);
  const out = smp(original, patch);
  assert.is(JSON.stringify(original), before);
  assert.equal(containers(out), [{ name: "b", image: "y" }, { name: "a", image: "x", env: [] }]);
});

test("a null patch changes nothing; a patch that is not an object is a 400 as the JSON decoder words it", () => {
  const original = pod({ containers: [{ name: "a" }] });
  assert.equal(smp(original, null), original);
  const decode = (what: string) =>
    `json: cannot unmarshal ${what} into Go value of type map[string]interface {}`;
  fails(original, [{ op: "add" }], "BadRequest", decode("array"));
  fails(original, "x", "BadRequest", decode("string"));
  fails(original, 3, "BadRequest", decode("number"));
  fails(original, true, "BadRequest", decode("bool"));
});

test("lists without a merge strategy are replaced whole", () => {
  const original = pod({
    containers: [{ name: "a", args: ["--one", "--two"] }],
    tolerations: [{ key: "k1", operator: "Exists" }, { key: "k2", operator: "Exists" }],
  });
  const out = smp(original, {
    spec: {
      tolerations: [{ key: "k3", operator: "Exists" }],
      containers: [{ name: "a", args: ["--three"] }],
    },
  });
  assert.equal((out.spec as Obj).tolerations, [{ key: "k3", operator: "Exists" }]);
  assert.equal(containers(out), [{ name: "a", args: ["--three"] }]);
});

test("a value of another type replaces the original one", () => {
  const out = smp(pod({ containers: [{ name: "a" }], nodeSelector: { disk: "ssd" } }), {
    spec: { nodeSelector: "oops", containers: { name: "b" } },
  });
  assert.equal(out.spec, { containers: { name: "b" }, nodeSelector: "oops" });
});

test("a field with patch strategy replace is replaced, not merged", () => {
  const pdb = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "p" },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "web", tier: "fe" } } },
  };
  const out = smp(pdb, { spec: { selector: { matchLabels: { app: "api" } } } }, PDB);
  assert.equal(out.spec, { minAvailable: 1, selector: { matchLabels: { app: "api" } } });
});

// ---------------------------------------------------------------------------------------------
// Merging lists

test("merging lists match elements by merge key, merge them, and append new ones", () => {
  const original = pod({
    containers: [
      { name: "web", image: "nginx:1.25", ports: [{ containerPort: 80, protocol: "TCP" }] },
      { name: "log", image: "fluentd" },
    ],
  });
  const out = smp(original, {
    spec: {
      containers: [
        { name: "log", image: "fluent-bit" },
        { name: "web", ports: [{ containerPort: 443 }] },
        { name: "metrics", image: "exporter" },
      ],
    },
  });
  // Patch elements take the patch's order; original elements not in the patch keep theirs.
  assert.equal(containers(out), [
    { name: "log", image: "fluent-bit" },
    {
      name: "web",
      image: "nginx:1.25",
      ports: [{ containerPort: 443 }, { containerPort: 80, protocol: "TCP" }],
    },
    { name: "metrics", image: "exporter" },
  ]);
});

test("elements only the original has stay where they stood relative to the patched ones", () => {
  const original = pod({ containers: [{ name: "a" }, { name: "side" }, { name: "b" }, { name: "c" }] });
  const out = smp(original, { spec: { containers: [{ name: "c", image: "3" }, { name: "a", image: "1" }] } });
  assert.equal(names(containers(out)), ["side", "b", "c", "a"]);
});

test("a merging list element without the merge key is a 400 naming the element (upstream: 500)", () => {
  const err = fails(
    pod({ containers: [{ name: "a", image: "x" }] }),
    { spec: { containers: [{ image: "nginx", imagePullPolicy: "Always" }] } },
    "Internal",
    "map: map[image:nginx imagePullPolicy:Always] does not contain declared merge key: name",
  );
  const status = err.toStatusError().toStatus();
  assert.is(status.code, 400);
  assert.is(status.reason, "BadRequest");
  assert.is(
    status.message,
    "map: map[image:nginx imagePullPolicy:Always] does not contain declared merge key: name",
  );
});

test("merge keys compare by value and type: ports keyed by containerPort", () => {
  const original = pod({ containers: [{ name: "a", ports: [{ containerPort: 80, name: "http" }] }] });
  const out = smp(original, {
    spec: { containers: [{ name: "a", ports: [{ containerPort: 80, name: "web" }] }] },
  });
  assert.equal(containers(out)[0].ports, [{ containerPort: 80, name: "web" }]);
  const added = smp(original, { spec: { containers: [{ name: "a", ports: [{ containerPort: "80" }] }] } });
  assert.equal(containers(added)[0].ports, [{ containerPort: "80" }, { containerPort: 80, name: "http" }]);
});

test("scalar merging lists (finalizers) are an ordered union", () => {
  const original = pod({ containers: [] }, { finalizers: ["a.io/x", "b.io/y"] });
  const out = smp(original, { metadata: { finalizers: ["c.io/z", "a.io/x"] } });
  assert.equal((out.metadata as Obj).finalizers, ["c.io/z", "a.io/x", "b.io/y"]);
  const dup = smp(original, { metadata: { finalizers: ["b.io/y", "b.io/y"] } });
  assert.equal((dup.metadata as Obj).finalizers, ["a.io/x", "b.io/y"]);
});

test("$deleteFromPrimitiveList removes scalars; a missing list stays missing; a bad key is a 400", () => {
  const original = pod({ containers: [] }, { finalizers: ["a", "b", "c", "b"] });
  const out = smp(original, { metadata: { "$deleteFromPrimitiveList/finalizers": ["b", "zz"] } });
  assert.equal((out.metadata as Obj).finalizers, ["a", "c"]);
  const none = smp(pod({ containers: [] }), { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } });
  assert.equal(none.metadata, { name: "p", namespace: "default" });
  // The parallel list also works on a list without the merge strategy, as upstream's does.
  const args = smp(pod({ containers: [{ name: "a", args: ["x", "y"] }] }), {
    spec: { containers: [{ name: "a", "$deleteFromPrimitiveList/args": ["x"] }] },
  });
  assert.equal(containers(args)[0].args, ["y"]);
  fails(
    original,
    { metadata: { "$deleteFromPrimitiveList": ["b"] } },
    "BadRequest",
    "invalid patch format of primitive list",
  );
  fails(
    original,
    { metadata: { "$deleteFromPrimitiveListX/finalizers": ["b"] } },
    "BadRequest",
    "invalid patch format of primitive list",
  );
});

// ---------------------------------------------------------------------------------------------
// $patch

test("$patch: replace on a map replaces it; on a map the original lacks, the value is dropped", () => {
  const original = pod({ containers: [], nodeSelector: { disk: "ssd", zone: "a" } }, { labels: { a: "1" } });
  const out = smp(original, { spec: { nodeSelector: { $patch: "replace", zone: "b" } } });
  assert.equal((out.spec as Obj).nodeSelector, { zone: "b" });
  // Upstream drops any new value holding a $patch map instead of adding it.
  const dropped = smp(pod({ containers: [] }), { spec: { nodeSelector: { $patch: "replace", zone: "b" } } });
  assert.equal(dropped.spec, { containers: [] });
  const whole = smp(original, { $patch: "replace", apiVersion: "v1", kind: "Pod", metadata: { name: "q" } });
  assert.equal(whole, { apiVersion: "v1", kind: "Pod", metadata: { name: "q" } });
});

test("$patch: delete on a map leaves it empty", () => {
  const original = pod({ containers: [], securityContext: { runAsUser: 1000, fsGroup: 2000 } });
  const out = smp(original, { spec: { securityContext: { $patch: "delete" } } });
  assert.equal((out.spec as Obj).securityContext, {});
});

test("$patch: delete as a list element removes the elements with that merge key", () => {
  const original = pod({
    containers: [{ name: "a", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }, { name: "C" }] }],
  });
  const out = smp(original, {
    spec: {
      containers: [{ name: "a", env: [{ $patch: "delete", name: "B" }, { $patch: "delete", name: "Z" }] }],
    },
  });
  assert.equal(containers(out)[0].env, [{ name: "A", value: "1" }, { name: "C" }]);
  fails(
    original,
    { spec: { containers: [{ name: "a", env: [{ $patch: "delete", value: "2" }] }] } },
    "Internal",
    "map: map[$patch:delete value:2] does not contain declared merge key: name",
  );
});

test("$patch: replace as a list element makes the other elements the whole list", () => {
  const original = pod({ containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] });
  const out = smp(original, { spec: { containers: [{ name: "c", image: "z" }, { $patch: "replace" }] } });
  assert.equal(containers(out), [{ name: "c", image: "z" }]);
  const emptied = smp(original, { spec: { containers: [{ $patch: "replace" }] } });
  assert.equal(containers(emptied), []);
});

test("$patch: merge and unknown $patch values are refused as upstream refuses them", () => {
  const original = pod({ containers: [{ name: "a" }], securityContext: { runAsUser: 1 } });
  fails(
    original,
    { spec: { securityContext: { $patch: "merge", fsGroup: 2 } } },
    "Internal",
    "unknown patch type: merge in map: map[$patch:merge fsGroup:2]",
  );
  fails(
    original,
    { spec: { containers: [{ name: "a", $patch: "merge" }] } },
    "Internal",
    "merging lists cannot yet be specified in the patch",
  );
  fails(
    original,
    { spec: { containers: [{ name: "a", $patch: "nope" }] } },
    "Internal",
    "unknown patch type: nope in map: map[$patch:nope name:a]",
  );
  fails(
    original,
    { spec: { securityContext: { $patch: 7 } } },
    "Internal",
    "unknown patch type: %!s(int64=7) in map: map[$patch:7]",
  );
});

// ---------------------------------------------------------------------------------------------
// $setElementOrder

test("$setElementOrder orders a merging list, keeping server-only elements near their neighbours", () => {
  const original = pod({
    containers: [{ name: "a" }, { name: "b", image: "b" }, { name: "injected" }, { name: "c" }, {
      name: "d",
    }],
  });
  const out = smp(original, {
    spec: { "$setElementOrder/containers": [{ name: "b" }, { name: "a" }, { name: "d" }, { name: "c" }] },
  });
  assert.equal(names(containers(out)), ["b", "a", "injected", "d", "c"]);
});

test("$setElementOrder with additions and removals in the same list", () => {
  const original = pod({ containers: [{ name: "a" }, { name: "b", image: "b" }, { name: "d", image: "d" }] });
  const out = smp(original, {
    spec: {
      "$setElementOrder/containers": [{ name: "b" }, { name: "c" }],
      containers: [{ name: "c" }, { $patch: "delete", name: "a" }],
    },
  });
  // The server-only "d" is placed as the reference places it, after "b".
  assert.equal(names(containers(out)), ["b", "d", "c"]);
});

test("$setElementOrder on a scalar list, with a parallel deletion list", () => {
  const original = pod({ containers: [] }, { finalizers: ["a", "b", "c"] });
  const out = smp(original, {
    metadata: {
      "$setElementOrder/finalizers": ["c", "x", "a"],
      "$deleteFromPrimitiveList/finalizers": ["b"],
      finalizers: ["x"],
    },
  });
  assert.equal((out.metadata as Obj).finalizers, ["c", "x", "a"]);
  const kept = smp(pod({ containers: [] }, { finalizers: ["a", "server", "b"] }), {
    metadata: { "$setElementOrder/finalizers": ["b", "new", "a"], finalizers: ["new"] },
  });
  // "server" stood before "b" in the original, so it stays ahead of it.
  assert.equal((kept.metadata as Obj).finalizers, ["server", "b", "new", "a"]);
});

test("$setElementOrder errors: order mismatch, malformed key, wrong types, unknown field", () => {
  const original = pod({ containers: [{ name: "a" }, { name: "b" }, { name: "c" }] });
  fails(
    original,
    {
      spec: {
        "$setElementOrder/containers": [{ name: "a" }, { name: "b" }, { name: "c" }],
        containers: [{ name: "c", image: "3" }, { name: "a", image: "1" }],
      },
    },
    "Internal",
    "The order in patch list:\n[map[image:3 name:c] map[image:1 name:a]]\n doesn't match $setElementOrder list:\n" +
      "[map[name:a] map[name:b] map[name:c]]\n",
  );
  fails(
    original,
    { spec: { "$setElementOrder": [{ name: "a" }] } },
    "BadRequest",
    "invalid patch format of setElementOrder list",
  );
  fails(
    original,
    { spec: { "$setElementOrder/containers": "a" } },
    "Internal",
    "expected a []interface {}, but received a string",
  );
  fails(
    original,
    { spec: { "$setElementOrder/containers": [{ image: "x" }], containers: [{ name: "a", image: "y" }] } },
    "Internal",
    "map: map[image:x] does not contain declared merge key: name",
  );
  fails(
    original,
    { spec: { "$setElementOrder/sidecars": [{ name: "a" }] } },
    "Internal",
    'unable to find api field in struct PodSpec for the json field "sidecars"',
  );
});

// ---------------------------------------------------------------------------------------------
// $retainKeys

test("$retainKeys clears the keys not listed and refuses patch keys not listed", () => {
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } } },
  };
  const out = smp(deployment, {
    spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } },
  }, DEPLOYMENT);
  assert.equal(out.spec, { strategy: { type: "Recreate" } });
  fails(
    deployment,
    { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: { maxSurge: 1 } } } },
    "BadRequest",
    "invalid patch format of retainKeys",
    DEPLOYMENT,
  );
  fails(
    deployment,
    { spec: { strategy: { $retainKeys: "type" } } },
    "BadRequest",
    "invalid patch format of retainKeys",
    DEPLOYMENT,
  );
});

// ---------------------------------------------------------------------------------------------
// Errors of list shapes

test("nested lists in a merging list are a 422 with upstream's generic message", () => {
  const err = fails(
    pod({ containers: [] }, { finalizers: [] }),
    { metadata: { finalizers: [["a"]] } },
    "Invalid",
    "lists of lists are not supported",
  );
  const status = err.toStatusError().toStatus();
  assert.equal(
    { code: status.code, reason: status.reason, message: status.message, details: status.details },
    { code: 422, reason: "Invalid", message: INVALID_PATCH_MESSAGE, details: {} },
  );
});

test("mixed element types in a merging list are a 500; a leading null makes upstream panic", () => {
  fails(
    pod({ containers: [] }, { finalizers: ["a"] }),
    { metadata: { finalizers: [1.5, "b"] } },
    "Internal",
    "list element types are not identical: [[a] [1.5 b]]",
  );
  const err = fails(
    pod({ containers: [] }, { finalizers: [] }),
    { metadata: { finalizers: [null] } },
    "Panic",
    PANIC_MESSAGE,
  );
  assert.is(err.code, 500);
});

test("a nested map under a map-typed field or an opaque value cannot be merged, as upstream", () => {
  fails(
    { kind: "ConfigMap", data: { a: { x: 1 } } },
    { data: { a: { y: 2 } } },
    "Internal",
    "merging an object in json but data type is not struct, instead is: map",
    CONFIGMAP,
  );
  const revision = {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    revision: 1,
    data: { spec: { a: 1 }, b: 1 },
  };
  fails(
    revision,
    { data: { spec: { a: 2 } } },
    "Internal",
    'unable to find api field in struct RawExtension for the json field "spec"',
    REVISION,
  );
  // Scalars inside an opaque value merge; new values lose their nulls as everywhere.
  assert.equal(
    smp(revision, { data: { b: 2, c: { d: null, e: [null] } } }, REVISION).data,
    { spec: { a: 1 }, b: 2, c: { e: [null] } },
  );
});

test("a resolved root schema names the kind in errors", () => {
  fails(
    { kind: "Pod", spec: { containers: [] }, extra: { a: 1 } },
    { extra: { b: 2 } },
    "Internal",
    'unable to find api field in struct Pod for the json field "extra"',
    schemas.forKind("", "v1", "Pod"),
  );
});

// ---------------------------------------------------------------------------------------------
// What never reaches the result

test("directive keys and nulls copied from the patch do not reach the result", () => {
  const original = pod({ containers: [{ name: "a", image: "x" }], tolerations: [{ key: "k" }] });
  const out = smp(original, {
    spec: {
      containers: [{
        name: "b",
        image: "y",
        command: null,
        "$setElementOrder/env": [{ name: "E" }],
        env: [{ name: "E", value: "1", valueFrom: null }],
      }],
      tolerations: [{ key: "t", $patch: "replace", value: null }],
      securityContext: { "$retainKeys": ["runAsUser"], runAsUser: 1, fsGroup: null },
    },
  });
  assert.equal(out.spec, {
    containers: [{ name: "b", image: "y", env: [{ name: "E", value: "1" }] }, { name: "a", image: "x" }],
    tolerations: [{ key: "t" }],
    securityContext: { runAsUser: 1 },
  });
});

test("without a schema maps merge, lists are replaced and directives still apply", () => {
  const original = { spec: { list: [{ name: "a", v: 1 }], map: { a: 1, b: 2 }, keep: { x: 1 } } };
  const out = applyStrategicMergePatch(
    original,
    {
      spec: { list: [{ name: "b" }], map: { a: null, c: 3 }, keep: { $patch: "replace", y: 2 } },
    },
    undefined,
    schemas,
  );
  assert.equal(out, { spec: { list: [{ name: "b" }], map: { b: 2, c: 3 }, keep: { y: 2 } } });
});

// ---------------------------------------------------------------------------------------------
// Bodies kubectl sends

function deployment(template: Obj, extra: Obj = {}): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" }, ...extra },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: { metadata: { labels: { app: "web" } }, spec: template },
    },
  };
}

function templateSpec(out: Obj): Obj {
  return ((out.spec as Obj).template as Obj).spec as Obj;
}

const WEB = {
  name: "web",
  image: "nginx:1.25",
  ports: [{ containerPort: 80, protocol: "TCP" }],
  env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
  resources: {},
  terminationMessagePath: "/dev/termination-log",
  imagePullPolicy: "IfNotPresent",
};

test("kubectl set image", () => {
  const live = deployment({ containers: [WEB, { name: "sidecar", image: "envoy:1" }] });
  const out = smp(live, {
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
          containers: [{ image: "nginx:1.27", name: "web" }],
        },
      },
    },
  }, DEPLOYMENT);
  assert.equal(templateSpec(out).containers, [{ ...WEB, image: "nginx:1.27" }, {
    name: "sidecar",
    image: "envoy:1",
  }]);
});

test("kubectl set env: add, change and remove variables", () => {
  const live = deployment({ containers: [WEB] });
  const added = smp(live, {
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "web" }],
          containers: [{
            "$setElementOrder/env": [{ name: "A" }, { name: "B" }, { name: "C" }],
            env: [{ name: "B", value: "two" }, { name: "C", value: "3" }],
            name: "web",
          }],
        },
      },
    },
  }, DEPLOYMENT);
  assert.equal((templateSpec(added).containers as Obj[])[0].env, [
    { name: "A", value: "1" },
    { name: "B", value: "two" },
    { name: "C", value: "3" },
  ]);
  const removed = smp(live, {
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "web" }],
          containers: [{
            "$setElementOrder/env": [{ name: "B" }],
            env: [{ $patch: "delete", name: "A" }],
            name: "web",
          }],
        },
      },
    },
  }, DEPLOYMENT);
  assert.equal((templateSpec(removed).containers as Obj[])[0].env, [{ name: "B", value: "2" }]);
});

test("kubectl set resources", () => {
  const live = deployment({ containers: [WEB] });
  const out = smp(live, {
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "web" }],
          containers: [{
            name: "web",
            resources: { limits: { cpu: "200m", memory: "512Mi" }, requests: { cpu: "100m" } },
          }],
        },
      },
    },
  }, DEPLOYMENT);
  assert.equal((templateSpec(out).containers as Obj[])[0].resources, {
    limits: { cpu: "200m", memory: "512Mi" },
    requests: { cpu: "100m" },
  });
});

test("label, annotate and rollout bodies (kubectl sends the first two as merge patches; the bodies mean the same here)", () => {
  const live = deployment({ containers: [WEB] }, {
    labels: { app: "web", tier: "fe" },
    annotations: { note: "x" },
  });
  const labelled = smp(live, { metadata: { labels: { tier: null, env: "prod" } } }, DEPLOYMENT);
  assert.equal((labelled.metadata as Obj).labels, { app: "web", env: "prod" });
  const annotated = smp(live, { metadata: { annotations: { note: "y", owner: "me" } } }, DEPLOYMENT);
  assert.equal((annotated.metadata as Obj).annotations, { note: "y", owner: "me" });
  const restarted = smp(live, {
    spec: {
      template: {
        metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2025-05-01T10:00:00Z" } },
      },
    },
  }, DEPLOYMENT);
  assert.equal(((restarted.spec as Obj).template as Obj).metadata, {
    labels: { app: "web" },
    annotations: { "kubectl.kubernetes.io/restartedAt": "2025-05-01T10:00:00Z" },
  });
  const paused = smp(live, { spec: { paused: true } }, DEPLOYMENT);
  assert.is((paused.spec as Obj).paused, true);
});

test("kubectl cordon and taint on a node", () => {
  const node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n1" },
    spec: { podCIDR: "10.0.0.0/24", podCIDRs: ["10.0.0.0/24"], taints: [{ key: "a", effect: "NoSchedule" }] },
  };
  const cordoned = smp(node, { spec: { unschedulable: true } }, NODE);
  assert.is((cordoned.spec as Obj).unschedulable, true);
  const tainted = smp(node, {
    spec: { taints: [{ key: "a", effect: "NoSchedule" }, { key: "b", value: "1", effect: "NoExecute" }] },
  }, NODE);
  assert.equal((tainted.spec as Obj).taints, [{ key: "a", effect: "NoSchedule" }, {
    key: "b",
    value: "1",
    effect: "NoExecute",
  }]);
});

test("kubectl apply: new image, an env var removed, a port added, a label dropped", () => {
  const lastApplied = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}';
  const live = deployment({ containers: [WEB], dnsPolicy: "ClusterFirst" }, {
    labels: { app: "web", tier: "fe" },
    annotations: {
      "kubectl.kubernetes.io/last-applied-configuration": lastApplied,
      "deployment.kubernetes.io/revision": "3",
    },
  });
  const out = smp(live, {
    metadata: {
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"new":true}\n' },
      labels: { tier: null },
    },
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "web" }],
          containers: [{
            "$setElementOrder/env": [{ name: "A" }],
            "$setElementOrder/ports": [{ containerPort: 80 }, { containerPort: 443 }],
            env: [{ $patch: "delete", name: "B" }],
            image: "nginx:1.26",
            name: "web",
            ports: [{ containerPort: 443 }],
          }],
        },
      },
    },
  }, DEPLOYMENT);
  assert.equal((out.metadata as Obj).labels, { app: "web" });
  assert.equal((out.metadata as Obj).annotations, {
    "kubectl.kubernetes.io/last-applied-configuration": '{"new":true}\n',
    "deployment.kubernetes.io/revision": "3",
  });
  assert.equal(templateSpec(out), {
    containers: [{
      ...WEB,
      image: "nginx:1.26",
      ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443 }],
      env: [{ name: "A", value: "1" }],
    }],
    dnsPolicy: "ClusterFirst",
  });
});

test("kubectl apply: a volume switched from emptyDir to configMap under retainKeys", () => {
  const live = deployment({
    containers: [{ name: "web", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
    volumes: [{ name: "data", emptyDir: {} }, { name: "tmp", emptyDir: { medium: "Memory" } }],
  });
  const out = smp(live, {
    spec: {
      template: {
        spec: {
          "$setElementOrder/volumes": [{ name: "data" }, { name: "tmp" }],
          volumes: [{
            "$retainKeys": ["configMap", "name"],
            configMap: { name: "settings" },
            emptyDir: null,
            name: "data",
          }],
        },
      },
    },
  }, DEPLOYMENT);
  assert.equal(templateSpec(out).volumes, [
    { name: "data", configMap: { name: "settings" } },
    { name: "tmp", emptyDir: { medium: "Memory" } },
  ]);
  // A key in the patch that the list does not name is refused.
  fails(
    live,
    {
      spec: {
        template: {
          spec: { volumes: [{ "$retainKeys": ["name"], configMap: { name: "settings" }, name: "data" }] },
        },
      },
    },
    "BadRequest",
    "invalid patch format of retainKeys",
    DEPLOYMENT,
  );
});

test("kubectl apply: strategy switched to Recreate, and a finalizer removed", () => {
  const live = deployment({ containers: [WEB] }, { finalizers: ["example.com/a", "example.com/b"] });
  const out = smp(live, {
    metadata: {
      "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
      "$setElementOrder/finalizers": ["example.com/b"],
    },
    spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } },
  }, DEPLOYMENT);
  assert.equal((out.metadata as Obj).finalizers, ["example.com/b"]);
  assert.equal((out.spec as Obj).strategy, { type: "Recreate" });
});

test("kubectl apply: an injected container survives, after the containers the patch adds", () => {
  const live = pod({ containers: [{ name: "app", image: "a:1" }, { name: "istio-proxy", image: "proxy" }] });
  const out = smp(live, {
    spec: {
      "$setElementOrder/containers": [{ name: "app" }, { name: "worker" }],
      containers: [{ image: "a:2", name: "app" }, { image: "w:1", name: "worker" }],
    },
  });
  // A new element has no place in the original order, so it goes before the server-only
  // elements that follow the last element it could be compared with.
  assert.equal(containers(out), [
    { name: "app", image: "a:2" },
    { name: "worker", image: "w:1" },
    { name: "istio-proxy", image: "proxy" },
  ]);
});

test("service ports merge by port alone, as upstream does (same port, other protocol collapses)", () => {
  const svc = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "dns" },
    spec: {
      ports: [{ name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 }],
      selector: { app: "dns" },
    },
  };
  const added = smp(svc, {
    spec: {
      "$setElementOrder/ports": [{ port: 53 }, { port: 9153 }],
      ports: [{ name: "metrics", port: 9153, targetPort: 9153 }],
    },
  }, SERVICE);
  assert.equal((added.spec as Obj).ports, [
    { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
    { name: "metrics", port: 9153, targetPort: 9153 },
  ]);
  const collapsed = smp(svc, { spec: { ports: [{ name: "dns-udp", port: 53, protocol: "UDP" }] } }, SERVICE);
  assert.equal((collapsed.spec as Obj).ports, [{
    name: "dns-udp",
    port: 53,
    protocol: "UDP",
    targetPort: 53,
  }]);
});

test("every error kind maps to upstream's Status", () => {
  const bad = new StrategicMergePatchError("BadRequest", "invalid patch format of retainKeys")
    .toStatusError();
  assert.equal([bad.code, bad.reason, bad.message], [
    400,
    "BadRequest",
    "invalid patch format of retainKeys",
  ]);
  const internal = new StrategicMergePatchError("Internal", "boom").toStatusError();
  assert.equal([internal.code, internal.reason, internal.message], [400, "BadRequest", "boom"]);
  const panicked = new StrategicMergePatchError("Panic", PANIC_MESSAGE).toStatusError();
  assert.is(panicked.code, 400);
});

test.run();
