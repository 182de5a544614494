import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer, type TestServer } from "./test_server.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const PODS = "/api/v1/namespaces/default/pods";

async function json(
  res: Response | Promise<Response>,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

const pod = (name: string, extra: Json = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, ...extra.metadata },
  spec: { containers: [{ name: "c", image: "busybox" }], ...extra.spec },
});

const binding = (name: string, node: string, extra: Json = {}) => ({
  apiVersion: "v1",
  kind: "Binding",
  metadata: { name, ...extra.metadata },
  target: { apiVersion: "v1", kind: "Node", name: node, ...extra.target },
});

async function withServer(fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startTestServer();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test("pods/binding sets the node, the PodScheduled condition and the Binding's annotations; 201 Success", () =>
  withServer(async (s) => {
    assert.is(
      (await json(s.call("POST", PODS, pod("p1", { metadata: { annotations: { keep: "me" } } })))).status,
      201,
    );
    const res = await json(
      s.call(
        "POST",
        `${PODS}/p1/binding`,
        binding("p1", "n1", { metadata: { annotations: { "from/binding": "yes" } } }),
      ),
    );
    assert.is(res.status, 201);
    assert.equal(res.body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
    const got = (await json(s.call("GET", `${PODS}/p1`))).body;
    assert.is(got.spec.nodeName, "n1");
    assert.equal(got.metadata.annotations, { keep: "me", "from/binding": "yes" });
    const scheduled = got.status.conditions.find((c: Json) => c.type === "PodScheduled");
    assert.is(scheduled.status, "True");
    assert.is(scheduled.lastProbeTime, null);
    assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(scheduled.lastTransitionTime));
  }));

test("pods/binding replaces an Unschedulable PodScheduled condition", () =>
  withServer(async (s) => {
    await s.call("POST", PODS, pod("p1"));
    const patched = await s.call("PATCH", `${PODS}/p1/status`, {
      status: {
        conditions: [{
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/1 nodes",
        }],
      },
    }, { "content-type": "application/merge-patch+json" });
    assert.is(patched.status, 200);
    assert.is((await s.call("POST", `${PODS}/p1/binding`, binding("p1", "n1"))).status, 201);
    const got = (await json(s.call("GET", `${PODS}/p1`))).body;
    const conditions = got.status.conditions.filter((c: Json) => c.type === "PodScheduled");
    assert.is(conditions.length, 1);
    assert.is(conditions[0].status, "True");
    assert.is(conditions[0].reason, undefined);
    assert.is(conditions[0].message, undefined);
  }));

test("pods/binding of a bound pod is 409 in upstream's words", () =>
  withServer(async (s) => {
    await s.call("POST", PODS, pod("p1"));
    assert.is((await s.call("POST", `${PODS}/p1/binding`, binding("p1", "n1"))).status, 201);
    const res = await json(s.call("POST", `${PODS}/p1/binding`, binding("p1", "n2")));
    assert.is(res.status, 409);
    assert.is(res.body.reason, "Conflict");
    assert.is(
      res.body.message,
      'Operation cannot be fulfilled on pods/binding "p1": pod p1 is already assigned to node "n1"',
    );
    assert.equal(res.body.details, { name: "p1", kind: "pods/binding" });
    assert.is((await json(s.call("GET", `${PODS}/p1`))).body.spec.nodeName, "n1");
  }));

test("pods/binding of a missing pod is 404; of a pod being deleted, 409", () =>
  withServer(async (s) => {
    const missing = await json(s.call("POST", `${PODS}/nope/binding`, binding("nope", "n1")));
    assert.is(missing.status, 404);
    assert.is(missing.body.message, 'pods "nope" not found');
    await s.call("POST", PODS, pod("p1", { metadata: { finalizers: ["example.com/hold"] } }));
    assert.is((await s.call("DELETE", `${PODS}/p1`)).status, 200);
    const res = await json(s.call("POST", `${PODS}/p1/binding`, binding("p1", "n1")));
    assert.is(res.status, 409);
    assert.is(
      res.body.message,
      'Operation cannot be fulfilled on pods/binding "p1": pod p1 is being deleted, cannot be assigned to a host',
    );
  }));

test("pods/binding refuses a gated pod, a foreign target kind, a mismatched name or uid", () =>
  withServer(async (s) => {
    await s.call("POST", PODS, pod("gated", { spec: { schedulingGates: [{ name: "example.com/wait" }] } }));
    const gated = await json(s.call("POST", `${PODS}/gated/binding`, binding("gated", "n1")));
    assert.is(gated.status, 409);
    assert.is(
      gated.body.message,
      'Operation cannot be fulfilled on pods/binding "gated": pod gated has non-empty .spec.schedulingGates',
    );

    await s.call("POST", PODS, pod("p1"));
    const kind = await json(
      s.call("POST", `${PODS}/p1/binding`, binding("p1", "n1", { target: { kind: "Pod" } })),
    );
    assert.is(kind.status, 500);
    assert.is(kind.body.reason, undefined);
    assert.is(
      kind.body.message,
      'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
    );

    const noName = await json(
      s.call("POST", `${PODS}/p1/binding`, binding("p1", "", { target: { kind: "Pod" } })),
    );
    assert.is(
      noName.body.message,
      '[target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>", target.name: Required value]',
    );

    const renamed = await json(s.call("POST", `${PODS}/p1/binding`, binding("other", "n1")));
    assert.is(renamed.status, 400);
    assert.is(renamed.body.message, "name in URL does not match name in Binding object");

    const uid = await json(
      s.call("POST", `${PODS}/p1/binding`, binding("p1", "n1", { metadata: { uid: "wrong" } })),
    );
    assert.is(uid.status, 409);
    assert.match(
      uid.body.message,
      /^Operation cannot be fulfilled on pods "p1": Precondition failed: UID in precondition: wrong/,
    );
    assert.is((await json(s.call("GET", `${PODS}/p1`))).body.spec.nodeName, undefined);
  }));

test("pods/binding with dryRun=All answers 201 and keeps nothing", () =>
  withServer(async (s) => {
    await s.call("POST", PODS, pod("p1"));
    const before = (await json(s.call("GET", `${PODS}/p1`))).body;
    assert.is((await s.call("POST", `${PODS}/p1/binding?dryRun=All`, binding("p1", "n1"))).status, 201);
    const after = (await json(s.call("GET", `${PODS}/p1`))).body;
    assert.equal(after, before);
  }));

test("the bindings resource binds the pod its Binding names", () =>
  withServer(async (s) => {
    await s.call("POST", PODS, pod("p1"));
    const res = await json(s.call("POST", "/api/v1/namespaces/default/bindings", binding("p1", "n1")));
    assert.is(res.status, 201);
    assert.is(res.body.status, "Success");
    assert.is((await json(s.call("GET", `${PODS}/p1`))).body.spec.nodeName, "n1");
    const again = await json(s.call("POST", "/api/v1/namespaces/default/bindings", binding("p1", "n2")));
    assert.is(again.status, 409);
    const unnamed = await json(s.call("POST", "/api/v1/namespaces/default/bindings", binding("", "n2")));
    assert.is(unnamed.status, 400);
    assert.is(unnamed.body.message, "Name parameter required.");
    const list = await json(s.call("GET", "/api/v1/namespaces/default/bindings"));
    assert.is(list.status, 405);
  }));

test("discovery lists pods/binding, bindings and pods/eviction as upstream does", () =>
  withServer(async (s) => {
    const list = (await json(s.call("GET", "/api/v1"))).body;
    const byName = (name: string) => list.resources.find((r: Json) => r.name === name);
    assert.equal(byName("pods/binding").verbs, ["create"]);
    assert.is(byName("pods/binding").kind, "Binding");
    assert.equal(byName("bindings").verbs, ["create"]);
    assert.is(byName("bindings").namespaced, true);
    const eviction = byName("pods/eviction");
    assert.is(eviction.group, "policy");
    assert.is(eviction.version, "v1");
    assert.is(eviction.kind, "Eviction");
    assert.equal(eviction.verbs, ["create"]);
  }));

test.run();
