import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseRequestInfo } from "./request_info.ts";

const q = (s = "") => new URLSearchParams(s);

test("parseRequestInfo reads a namespaced core resource", () => {
  const info = parseRequestInfo("GET", "/api/v1/namespaces/default/pods/web", q());
  assert.equal(info, {
    isResourceRequest: true,
    apiPrefix: "api",
    group: "",
    version: "v1",
    namespace: "default",
    resource: "pods",
    name: "web",
    subresource: "",
    verb: "get",
    parts: [],
  });
});

test("parseRequestInfo reads lists, watches and collection deletes", () => {
  const list = parseRequestInfo("GET", "/apis/apps/v1/deployments", q());
  assert.is(list.isResourceRequest && list.verb, "list");
  const watch = parseRequestInfo("GET", "/apis/apps/v1/namespaces/x/deployments", q("watch=true"));
  assert.is(watch.isResourceRequest && watch.verb, "watch");
  const oldWatch = parseRequestInfo("GET", "/api/v1/watch/namespaces/x/pods/p", q());
  assert.ok(oldWatch.isResourceRequest && oldWatch.verb === "watch" && oldWatch.name === "p");
  const dc = parseRequestInfo("DELETE", "/api/v1/namespaces/x/configmaps", q());
  assert.is(dc.isResourceRequest && dc.verb, "deletecollection");
});

test("parseRequestInfo treats a namespace's own paths as the namespaces resource", () => {
  const ns = parseRequestInfo("GET", "/api/v1/namespaces/kube-system", q());
  assert.ok(ns.isResourceRequest && ns.resource === "namespaces" && ns.name === "kube-system");
  const status = parseRequestInfo("PUT", "/api/v1/namespaces/x/status", q());
  assert.ok(status.isResourceRequest && status.resource === "namespaces" && status.subresource === "status");
  const finalize = parseRequestInfo("PUT", "/api/v1/namespaces/x/finalize", q());
  assert.ok(finalize.isResourceRequest && finalize.subresource === "finalize" && finalize.verb === "update");
});

test("parseRequestInfo reads subresources and connect verbs", () => {
  const status = parseRequestInfo("PATCH", "/apis/apps/v1/namespaces/d/deployments/web/status", q());
  assert.ok(status.isResourceRequest && status.subresource === "status" && status.verb === "patch");
  const exec = parseRequestInfo("GET", "/api/v1/namespaces/d/pods/p/exec", q());
  assert.ok(exec.isResourceRequest && exec.verb === "connect");
});

test("parseRequestInfo leaves non-resource paths alone", () => {
  for (
    const path of [
      "/",
      "/api",
      "/apis",
      "/apis/apps",
      "/apis/apps/v1",
      "/version",
      "/healthz",
      "/api//v1/pods",
    ]
  ) {
    assert.is(parseRequestInfo("GET", path, q()).isResourceRequest, false, path);
  }
});

test.run();
