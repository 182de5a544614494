import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createApiServer } from "./server.ts";
import { openLmdbStore } from "../storage/mod.ts";
import { bootstrapNamespaces } from "../cli/up.ts";
import { NamespaceDeleter } from "./registry/namespace_deleter.ts";
import { encodeKubernetesProtobuf } from "../machinery/protobuf/encode.ts";
import type { Store } from "../storage/store.ts";

const TOKEN = "test-token";
// deno-lint-ignore no-explicit-any
type Json = any;

interface Ctx {
  store: Store;
  dir: string;
  server: ReturnType<typeof createApiServer>;
  deleter: NamespaceDeleter;
}

const t = suite<Ctx>("API server", {} as Ctx);

t.before.each(async (ctx) => {
  ctx.dir = await Deno.makeTempDir({ prefix: "kubedeno-api-" });
  ctx.store = await openLmdbStore({ path: ctx.dir, compactionIntervalMs: 0 });
  ctx.server = createApiServer({ store: ctx.store, token: TOKEN });
  await bootstrapNamespaces(ctx.server.registry);
  ctx.deleter = new NamespaceDeleter(ctx.server.registry);
  await ctx.deleter.start();
});

t.after.each(async (ctx) => {
  ctx.deleter.stop();
  await ctx.store.close();
  await Deno.remove(ctx.dir, { recursive: true });
});

function call(ctx: Ctx, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
  };
  if (body !== undefined) {
    init.body = typeof body === "string" || body instanceof Uint8Array
      ? body as BodyInit
      : JSON.stringify(body);
  }
  return ctx.server.fetch(new Request(`https://kubedeno.test${path}`, init));
}

async function json(res: Response | Promise<Response>): Promise<{ status: number; body: Json }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

const cm = (name: string, extra: Json = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ...extra },
  data: { a: "1" },
});
const CMS = "/api/v1/namespaces/default/configmaps";

t("requests without the token get 401; health and version are public", async (ctx) => {
  const res = await json(ctx.server.fetch(new Request("https://x/api/v1/namespaces")));
  assert.is(res.status, 401);
  assert.is(res.body.reason, "Unauthorized");
  const health = await ctx.server.fetch(new Request("https://x/readyz?verbose"));
  assert.is(health.status, 200);
  assert.match(await health.text(), /readyz check passed/);
  const version = await json(ctx.server.fetch(new Request("https://x/version")));
  assert.is(version.body.minor, "33");
});

t("create, get, conflict on stale resourceVersion, AlreadyExists", async (ctx) => {
  const created = await json(call(ctx, "POST", CMS, cm("c1")));
  assert.is(created.status, 201);
  assert.ok(created.body.metadata.uid);
  assert.match(created.body.metadata.resourceVersion, /^\d+$/);
  const again = await json(call(ctx, "POST", CMS, cm("c1")));
  assert.is(again.status, 409);
  assert.is(again.body.reason, "AlreadyExists");
  assert.is(again.body.message, 'configmaps "c1" already exists');
  const updated = await json(call(ctx, "PUT", `${CMS}/c1`, { ...created.body, data: { a: "2" } }));
  assert.is(updated.status, 200);
  const stale = await json(call(ctx, "PUT", `${CMS}/c1`, { ...created.body, data: { a: "3" } }));
  assert.is(stale.status, 409);
  assert.is(stale.body.reason, "Conflict");
  assert.is(
    stale.body.message,
    'Operation cannot be fulfilled on configmaps "c1": the object has been modified; please apply your changes to the latest version and try again',
  );
  const missing = await json(call(ctx, "GET", `${CMS}/nope`));
  assert.is(missing.status, 404);
  assert.is(missing.body.message, 'configmaps "nope" not found');
  assert.equal(missing.body.details, { name: "nope", kind: "configmaps" });
  const deployMissing = await json(call(ctx, "GET", "/apis/apps/v1/namespaces/default/deployments/x"));
  assert.is(deployMissing.body.message, 'deployments.apps "x" not found');
});

t("an unchanged update writes nothing and keeps the resourceVersion", async (ctx) => {
  const created = await json(call(ctx, "POST", CMS, cm("same")));
  const put = await json(call(ctx, "PUT", `${CMS}/same`, created.body));
  assert.is(put.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
});

t("invalid names are 422 with upstream's causes", async (ctx) => {
  const res = await json(call(ctx, "POST", CMS, cm("Bad_Name")));
  assert.is(res.status, 422);
  assert.is(res.body.reason, "Invalid");
  assert.match(
    res.body.message,
    /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/,
  );
  assert.is(res.body.details.causes[0].field, "metadata.name");
  assert.is(res.body.details.causes[0].reason, "FieldValueInvalid");
  const svc = await json(
    call(ctx, "POST", "/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "1abc" },
      spec: {},
    }),
  );
  assert.is(svc.status, 422);
  assert.match(svc.body.message, /a DNS-1035 label must consist of/);
  const labels = await json(call(ctx, "POST", CMS, cm("l", { labels: { "bad key!": "v" } })));
  assert.is(labels.status, 422);
  assert.is(labels.body.details.causes[0].field, "metadata.labels");
  const noName = await json(call(ctx, "POST", CMS, { apiVersion: "v1", kind: "ConfigMap", metadata: {} }));
  assert.is(noName.status, 422);
  assert.match(noName.body.message, /metadata.name: Required value: name or generateName is required/);
});

t("malformed bodies, wrong kinds, unknown resources and oversize bodies are clear errors", async (ctx) => {
  const badJson = await json(call(ctx, "POST", CMS, "{not json"));
  assert.is(badJson.status, 400);
  assert.is(badJson.body.reason, "BadRequest");
  const badYaml = await json(
    call(ctx, "POST", CMS, "a: [1, 2\nb: {", { "content-type": "application/yaml" }),
  );
  assert.is(badYaml.status, 400);
  const yaml = await json(
    call(ctx, "POST", CMS, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n", {
      "content-type": "application/yaml",
    }),
  );
  assert.is(yaml.status, 201);
  const badPb = await json(
    call(ctx, "POST", CMS, new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f]), {
      "content-type": "application/vnd.kubernetes.protobuf",
    }),
  );
  assert.is(badPb.status, 400);
  const pb = await json(
    call(ctx, "POST", CMS, encodeKubernetesProtobuf(cm("from-pb")), {
      "content-type": "application/vnd.kubernetes.protobuf",
    }),
  );
  assert.is(pb.status, 201);
  assert.equal(pb.body.data, { a: "1" });
  const wrongKind = await json(
    call(ctx, "POST", CMS, { apiVersion: "v1", kind: "Pod", metadata: { name: "x" } }),
  );
  assert.is(wrongKind.status, 400);
  assert.match(wrongKind.body.message, /does not match the expected kind \(ConfigMap\)/);
  const wrongVersion = await json(
    call(ctx, "POST", CMS, { apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "x" } }),
  );
  assert.is(wrongVersion.status, 400);
  const unknown = await json(call(ctx, "GET", "/api/v1/namespaces/default/widgets"));
  assert.is(unknown.status, 404);
  assert.is(unknown.body.message, "the server could not find the requested resource");
  const big = await json(
    call(ctx, "POST", CMS, JSON.stringify(cm("big", { annotations: { a: "x".repeat(3 * 1024 * 1024) } }))),
  );
  assert.is(big.status, 413);
  assert.is(big.body.message, "Request entity too large: limit is 3145728");
  const media = await json(call(ctx, "POST", CMS, "x", { "content-type": "text/plain" }));
  assert.is(media.status, 415);
  const notAllowed = await json(call(ctx, "DELETE", "/api/v1/namespaces"));
  assert.is(notAllowed.status, 405);
  const notAcceptable = await json(
    call(ctx, "GET", CMS, undefined, { accept: "application/vnd.kubernetes.protobuf" }),
  );
  assert.is(notAcceptable.status, 406);
  // The server still serves after all that.
  assert.is((await call(ctx, "GET", CMS)).status, 200);
});

t("namespaces must exist and not be terminating; deleting one removes its content", async (ctx) => {
  const immortal = await json(call(ctx, "DELETE", "/api/v1/namespaces/default"));
  assert.is(immortal.status, 403);
  assert.is(immortal.body.message, 'namespaces "default" is forbidden: this namespace may not be deleted');
  const missing = await json(call(ctx, "POST", "/api/v1/namespaces/nope/configmaps", cm("x")));
  assert.is(missing.status, 404);
  assert.is(missing.body.message, 'namespaces "nope" not found');
  await call(ctx, "POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "doomed" },
  });
  const withFinalizer = cm("held", { finalizers: ["example.com/hold"] });
  assert.is((await call(ctx, "POST", "/api/v1/namespaces/doomed/configmaps", withFinalizer)).status, 201);
  const del = await json(call(ctx, "DELETE", "/api/v1/namespaces/doomed"));
  assert.is(del.status, 200);
  assert.is(del.body.status.phase, "Terminating");
  const refused = await json(call(ctx, "POST", "/api/v1/namespaces/doomed/configmaps", cm("late")));
  assert.is(refused.status, 403);
  assert.match(
    refused.body.message,
    /unable to create new content in namespace doomed because it is being terminated/,
  );
  // Release the finalizer: the namespace then goes away.
  let held = await json(call(ctx, "GET", "/api/v1/namespaces/doomed/configmaps/held"));
  for (let i = 0; i < 50 && !held.body.metadata.deletionTimestamp; i++) {
    await new Promise((r) => setTimeout(r, 50));
    held = await json(call(ctx, "GET", "/api/v1/namespaces/doomed/configmaps/held"));
  }
  assert.ok(held.body.metadata.deletionTimestamp, "the namespace deleter did not mark its content");
  await call(ctx, "PATCH", "/api/v1/namespaces/doomed/configmaps/held", { metadata: { finalizers: null } }, {
    "content-type": "application/merge-patch+json",
  });
  const deadline = Date.now() + 5000;
  while ((await call(ctx, "GET", "/api/v1/namespaces/doomed")).status !== 404) {
    if (Date.now() > deadline) throw new Error("namespace was not removed");
    await new Promise((r) => setTimeout(r, 100));
  }
});

t("finalizers hold a deleted object until they are removed; preconditions are checked", async (ctx) => {
  const created = await json(call(ctx, "POST", CMS, cm("f", { finalizers: ["example.com/x"] })));
  const pre = await json(call(ctx, "DELETE", `${CMS}/f`, { preconditions: { uid: "other" } }));
  assert.is(pre.status, 409);
  assert.match(pre.body.message, /Precondition failed: UID in precondition: other, UID in object meta: /);
  const del = await json(call(ctx, "DELETE", `${CMS}/f`, { propagationPolicy: "Background" }));
  assert.is(del.status, 200);
  assert.ok(del.body.metadata.deletionTimestamp);
  const addFinalizer = await json(
    call(ctx, "PATCH", `${CMS}/f`, [{ op: "add", path: "/metadata/finalizers/-", value: "example.com/y" }], {
      "content-type": "application/json-patch+json",
    }),
  );
  assert.is(addFinalizer.status, 422);
  const removed = await call(ctx, "PATCH", `${CMS}/f`, [{ op: "remove", path: "/metadata/finalizers" }], {
    "content-type": "application/json-patch+json",
  });
  assert.is(removed.status, 200);
  assert.is((await call(ctx, "GET", `${CMS}/f`)).status, 404);
  assert.ok(created.body.metadata.uid);
});

t("merge, JSON and strategic merge patches; an unknown patch type is 415", async (ctx) => {
  await call(ctx, "POST", CMS, cm("p", { labels: { a: "1" } }));
  const merged = await json(
    call(ctx, "PATCH", `${CMS}/p`, { metadata: { labels: { b: "2", a: null } } }, {
      "content-type": "application/merge-patch+json",
    }),
  );
  assert.equal(merged.body.metadata.labels, { b: "2" });
  const jp = await json(
    call(ctx, "PATCH", `${CMS}/p`, [{ op: "replace", path: "/data/a", value: "9" }], {
      "content-type": "application/json-patch+json",
    }),
  );
  assert.equal(jp.body.data, { a: "9" });
  const failing = await json(
    call(ctx, "PATCH", `${CMS}/p`, [{ op: "remove", path: "/data/zzz" }], {
      "content-type": "application/json-patch+json",
    }),
  );
  assert.is(failing.status, 422);
  const smp = await json(
    call(ctx, "PATCH", `${CMS}/p`, { data: { s: "1" } }, {
      "content-type": "application/strategic-merge-patch+json",
    }),
  );
  assert.equal(smp.body.data, { a: "9", s: "1" });
  const unknown = await json(
    call(ctx, "PATCH", `${CMS}/p`, {}, { "content-type": "application/x-other-patch" }),
  );
  assert.is(unknown.status, 415);
  assert.match(unknown.body.message, "application/strategic-merge-patch+json");
  const rename = await json(
    call(ctx, "PATCH", `${CMS}/p`, { metadata: { name: "q" } }, {
      "content-type": "application/merge-patch+json",
    }),
  );
  assert.is(rename.status, 422);
});

t("status is a subresource: the main resource keeps status, status keeps spec", async (ctx) => {
  const deploy = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { a: "b" } },
      template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } },
    },
    status: { replicas: 5 },
  };
  const path = "/apis/apps/v1/namespaces/default/deployments";
  const created = await json(call(ctx, "POST", path, deploy));
  assert.is(created.body.status, undefined);
  assert.is(created.body.metadata.generation, 1);
  const st = await json(
    call(ctx, "PUT", `${path}/web/status`, {
      ...created.body,
      spec: { ...created.body.spec, replicas: 7 },
      status: { replicas: 3 },
    }),
  );
  assert.is(st.body.status.replicas, 3);
  assert.is(st.body.spec.replicas, 1);
  assert.is(st.body.metadata.generation, 1);
  const main = await json(
    call(ctx, "PUT", `${path}/web`, {
      ...st.body,
      spec: { ...st.body.spec, replicas: 2 },
      status: { replicas: 99 },
    }),
  );
  assert.is(main.body.status.replicas, 3);
  assert.is(main.body.metadata.generation, 2);
});

t("lists page with limit/continue at one revision and filter by labels and fields", async (ctx) => {
  for (let i = 0; i < 5; i++) {
    await call(ctx, "POST", CMS, cm(`c${i}`, { labels: { n: String(i), even: String(i % 2 === 0) } }));
  }
  const first = await json(call(ctx, "GET", `${CMS}?limit=2`));
  assert.is(first.body.kind, "ConfigMapList");
  assert.is(first.body.items.length, 2);
  assert.is(first.body.metadata.remainingItemCount, 3);
  await call(ctx, "DELETE", `${CMS}/c3`);
  const names: string[] = first.body.items.map((i: Json) => i.metadata.name);
  let cont = first.body.metadata.continue;
  while (cont) {
    const page = await json(call(ctx, "GET", `${CMS}?limit=2&continue=${encodeURIComponent(cont)}`));
    assert.is(page.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
    names.push(...page.body.items.map((i: Json) => i.metadata.name));
    cont = page.body.metadata.continue;
  }
  assert.equal(names, ["c0", "c1", "c2", "c3", "c4"]);
  const even = await json(
    call(ctx, "GET", `${CMS}?labelSelector=${encodeURIComponent("even=true,n notin (4)")}`),
  );
  assert.equal(even.body.items.map((i: Json) => i.metadata.name), ["c0", "c2"]);
  const byName = await json(call(ctx, "GET", `/api/v1/configmaps?fieldSelector=metadata.name%3Dc1`));
  assert.equal(byName.body.items.map((i: Json) => i.metadata.name), ["c1"]);
  const badField = await json(call(ctx, "GET", `${CMS}?fieldSelector=spec.nope%3Dx`));
  assert.is(badField.status, 400);
  assert.is(badField.body.message, "field label not supported: spec.nope");
  const badLabel = await json(call(ctx, "GET", `${CMS}?labelSelector=a%20in%20(`));
  assert.is(badLabel.status, 400);
  const badToken = await json(call(ctx, "GET", `${CMS}?limit=1&continue=garbage`));
  assert.is(badToken.status, 400);
});

t("Tables carry upstream's columns", async (ctx) => {
  await call(ctx, "POST", "/api/v1/namespaces/default/pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "x" }] },
  });
  const table = await json(call(ctx, "GET", "/api/v1/namespaces/default/pods", undefined, {
    accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
  }));
  assert.is(table.body.kind, "Table");
  assert.equal(table.body.columnDefinitions.slice(0, 5).map((c: Json) => c.name), [
    "Name",
    "Ready",
    "Status",
    "Restarts",
    "Age",
  ]);
  assert.equal(table.body.rows[0].cells.slice(0, 4), ["p", "0/1", "Pending", "0"]);
  assert.is(table.body.rows[0].object.kind, "PartialObjectMetadata");
});

t(
  "watch replays from a revision, filters, turns label changes into ADDED/DELETED and reports 410",
  async (ctx) => {
    const first = await json(call(ctx, "POST", CMS, cm("w1", { labels: { app: "x" } })));
    const rv = first.body.metadata.resourceVersion;
    const res = await call(
      ctx,
      "GET",
      `${CMS}?watch=1&resourceVersion=${rv}&labelSelector=app%3Dx&timeoutSeconds=5`,
    );
    assert.is(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const next = async (): Promise<Json> => {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffered += value;
      }
      const i = buffered.indexOf("\n");
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      return JSON.parse(line);
    };
    await call(ctx, "POST", CMS, cm("other"));
    await call(ctx, "POST", CMS, cm("w2", { labels: { app: "x" } }));
    let ev = await next();
    assert.equal([ev.type, ev.object.metadata.name], ["ADDED", "w2"]);
    await call(ctx, "PATCH", `${CMS}/w1`, { metadata: { labels: { app: "y" } } }, {
      "content-type": "application/merge-patch+json",
    });
    ev = await next();
    assert.equal([ev.type, ev.object.metadata.name], ["DELETED", "w1"]);
    await call(ctx, "PATCH", `${CMS}/other`, { metadata: { labels: { app: "x" } } }, {
      "content-type": "application/merge-patch+json",
    });
    ev = await next();
    assert.equal([ev.type, ev.object.metadata.name], ["ADDED", "other"]);
    await call(ctx, "DELETE", `${CMS}/w2`);
    ev = await next();
    assert.equal([ev.type, ev.object.metadata.name], ["DELETED", "w2"]);
    await reader.cancel();

    await ctx.store.compact(ctx.store.currentRevision());
    const old = await call(ctx, "GET", `${CMS}?watch=1&resourceVersion=1`);
    const text = await old.text();
    const err = JSON.parse(text.trim());
    assert.is(err.type, "ERROR");
    assert.is(err.object.code, 410);
    assert.is(err.object.reason, "Expired");
    assert.match(err.object.message, /^too old resource version: 1 \(\d+\)$/);
  },
);

t("sendInitialEvents sends the current objects, then a bookmark marking their end", async (ctx) => {
  await call(ctx, "POST", CMS, cm("i1"));
  await call(ctx, "POST", CMS, cm("i2"));
  const res = await call(
    ctx,
    "GET",
    `${CMS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1`,
  );
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.map((e: Json) => e.type), ["ADDED", "ADDED", "BOOKMARK"]);
  assert.is(lines[2].object.metadata.annotations["k8s.io/initial-events-end"], "true");
  assert.is(lines[2].object.kind, "ConfigMap");
  const refused = await json(call(ctx, "GET", `${CMS}?watch=1&sendInitialEvents=true`));
  assert.is(refused.status, 422);
});

t("pods bound to a live node are deleted gracefully; unbound ones at once", async (ctx) => {
  const podPath = "/api/v1/namespaces/default/pods";
  const pod = (name: string, nodeName?: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      containers: [{ name: "c", image: "x" }],
      ...(nodeName ? { nodeName } : {}),
      terminationGracePeriodSeconds: 30,
    },
  });
  await call(ctx, "POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
  await call(ctx, "POST", podPath, pod("bound", "n1"));
  await call(ctx, "POST", podPath, pod("orphan", "ghost"));
  await call(ctx, "POST", podPath, pod("free"));
  const graceful = await json(call(ctx, "DELETE", `${podPath}/bound`));
  assert.is(graceful.status, 200);
  assert.is(graceful.body.metadata.deletionGracePeriodSeconds, 30);
  assert.ok(graceful.body.metadata.deletionTimestamp);
  assert.is((await call(ctx, "GET", `${podPath}/bound`)).status, 200);
  const now = await json(call(ctx, "DELETE", `${podPath}/bound?gracePeriodSeconds=0`));
  assert.is(now.status, 200);
  assert.is((await call(ctx, "GET", `${podPath}/bound`)).status, 404);
  for (const name of ["orphan", "free"]) {
    assert.is((await call(ctx, "DELETE", `${podPath}/${name}`)).status, 200);
    assert.is((await call(ctx, "GET", `${podPath}/${name}`)).status, 404, name);
  }
});

t("events and HPAs are one object in every version they are served in", async (ctx) => {
  const created = await json(call(ctx, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: "e1" },
    eventTime: "2026-01-01T00:00:00.000000Z",
    regarding: { kind: "Pod", name: "p", namespace: "default" },
    note: "hello",
    reason: "Tested",
    type: "Normal",
    action: "Testing",
    reportingController: "tests",
    reportingInstance: "tests-1",
  }));
  assert.is(created.status, 201);
  assert.is(created.body.note, "hello");
  const core = await json(call(ctx, "GET", "/api/v1/namespaces/default/events/e1"));
  assert.is(core.body.apiVersion, "v1");
  assert.is(core.body.message, "hello");
  assert.equal(core.body.involvedObject, { kind: "Pod", name: "p", namespace: "default" });
  assert.is(core.body.reportingComponent, "tests");
  assert.is(core.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
  const selected = await json(
    call(ctx, "GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dp"),
  );
  assert.is(selected.body.items.length, 1);

  const hpaPath = (v: string) => `/apis/autoscaling/${v}/namespaces/default/horizontalpodautoscalers`;
  const v1 = await json(call(ctx, "POST", hpaPath("v1"), {
    apiVersion: "autoscaling/v1",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 5,
      targetCPUUtilizationPercentage: 70,
    },
  }));
  assert.is(v1.status, 201);
  const v2 = await json(call(ctx, "GET", `${hpaPath("v2")}/web`));
  assert.is(v2.body.apiVersion, "autoscaling/v2");
  assert.equal(v2.body.spec.metrics, [{
    type: "Resource",
    resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
  }]);
  const back = await json(call(ctx, "GET", `${hpaPath("v1")}/web`));
  assert.is(back.body.spec.targetCPUUtilizationPercentage, 70);
  assert.is(back.body.spec.metrics, undefined);
});

t("generateName makes a name; deletecollection deletes what the selector picks", async (ctx) => {
  const made = await json(
    call(ctx, "POST", CMS, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { generateName: "gen-", labels: { batch: "x" } },
    }),
  );
  assert.is(made.status, 201);
  assert.match(made.body.metadata.name, /^gen-[a-z0-9]{5}$/);
  await call(ctx, "POST", CMS, cm("keep"));
  await call(ctx, "POST", CMS, cm("drop", { labels: { batch: "x" } }));
  const gone = await json(call(ctx, "DELETE", `${CMS}?labelSelector=batch%3Dx`));
  assert.is(gone.status, 200);
  assert.is(gone.body.items.length, 2);
  const left = await json(call(ctx, "GET", CMS));
  assert.equal(left.body.items.map((i: Json) => i.metadata.name), ["keep"]);
});

t("discovery: aggregated v2 with its exact media type, and the legacy documents", async (ctx) => {
  const agg = await ctx.server.fetch(
    new Request("https://x/apis", {
      headers: {
        authorization: `Bearer ${TOKEN}`,
        accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
      },
    }),
  );
  assert.is(
    agg.headers.get("content-type"),
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  );
  const body = await agg.json();
  const apps = body.items.find((g: Json) => g.metadata.name === "apps");
  const deploy = apps.versions[0].resources.find((r: Json) => r.resource === "deployments");
  assert.equal(deploy.responseKind, { group: "apps", version: "v1", kind: "Deployment" });
  assert.is(deploy.scope, "Namespaced");
  assert.equal(deploy.shortNames, ["deploy"]);
  const autoscaling = body.items.find((g: Json) => g.metadata.name === "autoscaling");
  assert.equal(autoscaling.versions.map((v: Json) => v.version), ["v2", "v1"]);
  const legacy = await json(call(ctx, "GET", "/api/v1"));
  assert.is(legacy.body.kind, "APIResourceList");
  assert.ok(legacy.body.resources.some((r: Json) => r.name === "pods/status"));
  const groups = await json(call(ctx, "GET", "/apis"));
  assert.is(groups.body.kind, "APIGroupList");
});

t(
  "a server shutting down ends its watches and refuses new requests with 429 and Retry-After",
  async (ctx) => {
    const watch = await call(ctx, "GET", `${CMS}?watch=true`);
    assert.is(watch.status, 200);
    ctx.server.closeWatches();
    const ended = await watch.text();
    assert.is(ended, "");
    const refused = await call(ctx, "GET", CMS);
    assert.is(refused.status, 429);
    assert.is(refused.headers.get("retry-after"), "5");
    const body = await refused.json();
    assert.equal([body.reason, body.message], [
      "TooManyRequests",
      "The apiserver is shutting down, please try again later.",
    ]);
    const health = await ctx.server.fetch(new Request("https://x/livez"));
    assert.is(health.status, 200);
    await health.text();
  },
);

t("PUT creates a missing object only for kinds that allow it (leases yes, configmaps no)", async (ctx) => {
  const lease = await json(call(ctx, "PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/l1", {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "l1" },
    spec: { holderIdentity: "a" },
  }));
  assert.is(lease.status, 201);
  assert.is(lease.body.spec.holderIdentity, "a");
  const cm = await json(
    call(ctx, "PUT", `${CMS}/c1`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c1" } }),
  );
  assert.is(cm.status, 404);
});

t.run();
