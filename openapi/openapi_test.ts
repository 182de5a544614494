import { test } from "uvu";
import * as assert from "uvu/assert";
import { RESOURCES } from "./generated/resources.ts";
import { loadOpenApi } from "./serve.ts";

const find = (group: string, version: string, resource: string) =>
  RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource)!;

test("the generated table has upstream's verbs, short names, categories and subresources", () => {
  const pods = find("", "v1", "pods");
  assert.equal(pods.verbs, [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
  ]);
  assert.equal(pods.shortNames, ["po"]);
  assert.equal(pods.categories, ["all"]);
  assert.is(pods.namespaced, true);
  for (
    const sub of [
      "status",
      "binding",
      "eviction",
      "log",
      "exec",
      "attach",
      "portforward",
      "ephemeralcontainers",
    ]
  ) {
    assert.ok(pods.subresources.some((s) => s.name === sub), `pods/${sub}`);
  }
  const scale = find("apps", "v1", "deployments").subresources.find((s) => s.name === "scale")!;
  assert.equal([scale.kind, scale.group, scale.version], ["Scale", "autoscaling", "v1"]);
  assert.equal(find("", "v1", "bindings").verbs, ["create"]);
  assert.equal(find("", "v1", "componentstatuses").verbs, ["get", "list"]);
  assert.is(find("", "v1", "namespaces").namespaced, false);
  assert.equal(find("apiextensions.k8s.io", "v1", "customresourcedefinitions").shortNames, ["crd", "crds"]);
  const gvs = new Set(RESOURCES.map((r) => (r.group ? `${r.group}/${r.version}` : r.version)));
  for (
    const gv of [
      "v1",
      "apps/v1",
      "batch/v1",
      "autoscaling/v1",
      "autoscaling/v2",
      "coordination.k8s.io/v1",
      "discovery.k8s.io/v1",
      "events.k8s.io/v1",
      "networking.k8s.io/v1",
      "node.k8s.io/v1",
      "policy/v1",
      "rbac.authorization.k8s.io/v1",
      "scheduling.k8s.io/v1",
      "storage.k8s.io/v1",
      "certificates.k8s.io/v1",
      "admissionregistration.k8s.io/v1",
      "apiextensions.k8s.io/v1",
      "flowcontrol.apiserver.k8s.io/v1",
    ]
  ) {
    assert.ok(gvs.has(gv), gv);
  }
});

test("/openapi/v3 lists every document by hash; documents carry no prose and keep what kubectl needs", async () => {
  const api = await loadOpenApi({ descriptions: false });
  const root = await (await api.handle(new Request("https://x/openapi/v3")))!.json();
  const url = root.paths["apis/apps/v1"].serverRelativeURL as string;
  assert.match(url, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  const res = (await api.handle(new Request(`https://x${url}`)))!;
  assert.is(res.headers.get("cache-control"), "public, immutable");
  const etag = res.headers.get("etag")!;
  const text = await res.text();
  assert.not.match(text, /"description"/);
  const doc = JSON.parse(text);
  const patch = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
  assert.equal(patch["x-kubernetes-group-version-kind"], {
    group: "apps",
    kind: "Deployment",
    version: "v1",
  });
  const params = [
    ...(patch.parameters ?? []),
    ...(doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].parameters ?? []),
  ];
  assert.ok(
    params.some((p: { name?: string; $ref?: string }) =>
      p.name === "fieldValidation" || p.$ref?.includes("fieldValidation")
    ),
  );
  const cached = (await api.handle(new Request(`https://x${url}`, { headers: { "if-none-match": etag } })))!;
  assert.is(cached.status, 304);
  assert.is((await api.handle(new Request("https://x/openapi/v3/apis/nope/v1")))!.status, 404);
  assert.is(await api.handle(new Request("https://x/api/v1")), undefined);
  const v2 = (await api.handle(
    new Request("https://x/openapi/v2", {
      headers: { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" },
    }),
  ))!;
  assert.is(v2.headers.get("content-type"), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  const bytes = new Uint8Array(await v2.arrayBuffer());
  assert.equal([...bytes.slice(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]); // swagger: "2.0"
});

test.run();
