import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer, type TestServer } from "./test_server.ts";

const t = suite<{ s: TestServer }>("typed bodies", {} as { s: TestServer });
t.before.each(async (ctx) => {
  ctx.s = await startTestServer();
});
t.after.each(async (ctx) => {
  await ctx.s.close();
});

const DEPLOYS = "/apis/apps/v1/namespaces/default/deployments";
const deployment = (extra = "") =>
  `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},` +
  `"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"${extra}}]}}` +
  `,"replicas":1,"replicas":2,"bogus":1}}`;

t(
  "POST with fieldValidation=Strict refuses unknown and duplicate fields, in document order",
  async ({ s }) => {
    const res = await s.call("POST", `${DEPLOYS}?fieldValidation=Strict`, deployment(`,"imagee":"x"`));
    const body = await res.json();
    assert.is(res.status, 400);
    assert.is(body.reason, "BadRequest");
    assert.is(
      body.message,
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ' +
        'unknown field "spec.template.spec.containers[0].imagee", duplicate field "spec.replicas", unknown field "spec.bogus"',
    );
    assert.is((await s.call("GET", `${DEPLOYS}/web`)).status, 404);
  },
);

t(
  "Warn (the default) stores the object without the unknown fields and says so in Warning headers",
  async ({ s }) => {
    const res = await s.call("POST", DEPLOYS, deployment(`,"imagee":"x"`));
    assert.is(res.status, 201);
    assert.is(
      res.headers.get("warning"),
      '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\"", 299 - "duplicate field \\"spec.replicas\\"", 299 - "unknown field \\"spec.bogus\\""',
    );
    const stored = await (await s.call("GET", `${DEPLOYS}/web`)).json();
    assert.is(stored.spec.bogus, undefined);
    assert.is(stored.spec.replicas, 2);
    assert.is(stored.spec.template.spec.containers[0].imagee, undefined);
    const ignored = await s.call("PUT", `${DEPLOYS}/web?fieldValidation=Ignore`, deployment());
    assert.is(ignored.status, 200);
    assert.is(ignored.headers.get("warning"), null);
    await ignored.body?.cancel();
  },
);

t("YAML bodies: duplicate keys by line, then unknown fields in key order", async ({ s }) => {
  const yaml = [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: a",
    "  name: b",
    "  zzz: 1",
    "  aaa: 2",
    "data: {k: v}",
  ].join("\n");
  const res = await s.call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", yaml, {
    "content-type": "application/yaml",
  });
  const body = await res.json();
  assert.is(res.status, 400);
  assert.is(
    body.message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n' +
      '  line 5: key "name" already set in map, unknown field "metadata.aaa", unknown field "metadata.zzz"',
  );
});

t(
  "a value of the wrong type is a 400 worded like Go's decoder, whatever fieldValidation says",
  async ({ s }) => {
    const res = await s.call("POST", `${DEPLOYS}?fieldValidation=Ignore`, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { replicas: "three" },
    });
    const body = await res.json();
    assert.is(res.status, 400);
    assert.is(
      body.message,
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    const bad = await s.call("POST", `${DEPLOYS}?fieldValidation=Sometimes`, { metadata: { name: "x" } });
    assert.is(bad.status, 400);
    await bad.body?.cancel();
  },
);

t(
  "patches: duplicates in the patch first, then unknown fields of the result; JSON patch operations checked",
  async ({ s }) => {
    assert.is((await s.call("POST", DEPLOYS, deployment())).status, 201);
    const merge = await s.call(
      "PATCH",
      `${DEPLOYS}/web?fieldValidation=Strict`,
      `{"spec":{"paused":true,"paused":false,"zz":1,"aa":2}}`,
      { "content-type": "application/merge-patch+json" },
    );
    assert.is(merge.status, 400);
    assert.match(
      (await merge.json()).message,
      /strict decoding error: duplicate field "spec.paused", unknown field "spec.aa", unknown field "spec.zz"$/,
    );
    const json = await s.call(
      "PATCH",
      `${DEPLOYS}/web?fieldValidation=Strict`,
      `[{"op":"add","path":"/spec/x","value":1,"foo":"bar"},{"op":"add","path":"/spec/a","path":"/spec/paused","value":true}]`,
      { "content-type": "application/json-patch+json" },
    );
    assert.is(json.status, 400);
    assert.match(
      (await json.json()).message,
      /strict decoding error: json patch unknown field "\[0\]\.foo", json patch duplicate field "\[1\]\.path", unknown field "spec.x"$/,
    );
    const warned = await s.call("PATCH", `${DEPLOYS}/web`, `{"spec":{"paused":true,"zz":1}}`, {
      "content-type": "application/merge-patch+json",
    });
    assert.is(warned.status, 200);
    assert.is(warned.headers.get("warning"), '299 - "unknown field \\"spec.zz\\""');
    const stored = await warned.json();
    assert.equal([stored.spec.paused, stored.spec.zz], [true, undefined]);
  },
);

t(
  "an apply configuration with a repeated key is refused under Strict and warned about otherwise",
  async ({ s }) => {
    const config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  a: '1'\n  a: '2'\n";
    const path = "/api/v1/namespaces/default/configmaps/dup?fieldManager=t";
    const strict = await s.call("PATCH", `${path}&fieldValidation=Strict`, config, {
      "content-type": "application/apply-patch+yaml",
    });
    assert.is(strict.status, 400);
    assert.match((await strict.json()).message, 'strict decoding error: line 7: key "a" already set in map');
    const warned = await s.call("PATCH", path, config, { "content-type": "application/apply-patch+yaml" });
    assert.is(warned.status, 201);
    assert.is(warned.headers.get("warning"), '299 - "line 7: key \\"a\\" already set in map"');
    assert.equal((await warned.json()).data, { a: "2" });
  },
);

t("the scale subresource reads and writes the parent's replicas", async ({ s }) => {
  assert.is((await s.call("POST", DEPLOYS, deployment())).status, 201);
  const scale = await (await s.call("GET", `${DEPLOYS}/web/scale`)).json();
  assert.equal([scale.kind, scale.apiVersion, scale.spec, scale.status], ["Scale", "autoscaling/v1", {
    replicas: 2,
  }, {
    replicas: 0,
    selector: "app=web",
  }]);
  const patched = await (await s.call("PATCH", `${DEPLOYS}/web/scale`, { spec: { replicas: 5 } }, {
    "content-type": "application/merge-patch+json",
  })).json();
  assert.is(patched.spec.replicas, 5);
  const parent = await (await s.call("GET", `${DEPLOYS}/web`)).json();
  assert.equal([parent.spec.replicas, parent.metadata.generation], [5, 2]);
  const stale = await s.call("PUT", `${DEPLOYS}/web/scale`, { ...scale, spec: { replicas: 1 } });
  assert.is(stale.status, 409);
  await stale.body?.cancel();
  const negative = await s.call("PUT", `${DEPLOYS}/web/scale`, {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: "web" },
    spec: { replicas: -1 },
  });
  const body = await negative.json();
  assert.is(negative.status, 422);
  assert.is(
    body.message,
    'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  const dry = await (await s.call("PUT", `${DEPLOYS}/web/scale?dryRun=All`, {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: "web" },
    spec: { replicas: 9 },
  })).json();
  assert.is(dry.spec.replicas, 9);
  assert.is((await (await s.call("GET", `${DEPLOYS}/web`)).json()).spec.replicas, 5);
  const missing = await s.call("GET", `${DEPLOYS}/nope/scale`);
  assert.is(missing.status, 404);
  await missing.body?.cancel();
});

t.run();
