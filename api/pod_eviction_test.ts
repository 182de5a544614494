import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer, type TestServer } from "./test_server.ts";
import { encodeKubernetesProtobuf } from "../machinery/protobuf/encode.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const PODS = "/api/v1/namespaces/default/pods";
const PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
const MERGE = { "content-type": "application/merge-patch+json" };

async function json(
  res: Response | Promise<Response>,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

async function withServer(fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startTestServer();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

const eviction = (name: string, extra: Json = {}) => ({
  apiVersion: "policy/v1",
  kind: "Eviction",
  metadata: { name, namespace: "default" },
  ...extra,
});

/** A pod that runs (Running, Ready unless said otherwise), bound to `node` when given. */
async function runningPod(
  s: TestServer,
  name: string,
  options: { labels?: Record<string, string>; ready?: boolean; node?: string } = {},
): Promise<void> {
  const created = await s.call("POST", PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: options.labels ?? { app: "web" } },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      ...(options.node ? { nodeName: options.node } : {}),
    },
  });
  assert.is(created.status, 201);
  const status = await s.call("PATCH", `${PODS}/${name}/status`, {
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
    },
  }, MERGE);
  assert.is(status.status, 200);
}

/** A PDB over app=web with the status its controller would have written. */
async function budget(
  s: TestServer,
  name: string,
  status: Json,
  selector: Json = { matchLabels: { app: "web" } },
) {
  const created = await json(s.call("POST", PDBS, {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name },
    spec: { minAvailable: 1, selector },
  }));
  assert.is(created.status, 201);
  const res = await s.call("PATCH", `${PDBS}/${name}/status`, {
    status: { observedGeneration: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, ...status },
  }, MERGE);
  assert.is(res.status, 200);
}

async function node(s: TestServer, name: string): Promise<void> {
  const res = await s.call("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name } });
  assert.is(res.status, 201);
}

test("eviction without a budget deletes the pod; 201 Success", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    const res = await json(s.call("POST", `${PODS}/p1/eviction`, eviction("p1")));
    assert.is(res.status, 201);
    assert.equal(res.body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
    assert.is((await s.call("GET", `${PODS}/p1`)).status, 404);
  }));

test("eviction spends the budget: disruptionsAllowed down, the pod in disruptedPods, DisruptionTarget on the pod", () =>
  withServer(async (s) => {
    await node(s, "n1");
    await runningPod(s, "p1", { node: "n1" });
    await budget(s, "web", { disruptionsAllowed: 1 });
    const res = await json(s.call("POST", `${PODS}/p1/eviction`, eviction("p1")));
    assert.is(res.status, 201);
    const pdb = (await json(s.call("GET", `${PDBS}/web`))).body;
    assert.is(pdb.status.disruptionsAllowed, 0);
    assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(pdb.status.disruptedPods.p1));
    const allowed = pdb.status.conditions.find((c: Json) => c.type === "DisruptionAllowed");
    assert.is(allowed.status, "False");
    assert.is(allowed.reason, "InsufficientPods");
    // Bound to a live node: the pod is terminating gracefully, carrying the condition.
    const pod = (await json(s.call("GET", `${PODS}/p1`))).body;
    assert.ok(pod.metadata.deletionTimestamp);
    const target = pod.status.conditions.find((c: Json) => c.type === "DisruptionTarget");
    assert.equal(
      { status: target.status, reason: target.reason, message: target.message },
      { status: "True", reason: "EvictionByEvictionAPI", message: "Eviction API: evicting" },
    );
  }));

test("eviction against a spent budget is 429 with upstream's message and cause", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    await budget(s, "web", { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1 });
    const res = await json(s.call("POST", `${PODS}/p1/eviction`, eviction("p1")));
    assert.is(res.status, 429);
    assert.is(res.body.reason, "TooManyRequests");
    assert.is(res.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(res.body.details, {
      causes: [{
        reason: "DisruptionBudget",
        message: "The disruption budget web needs 1 healthy pods and has 1 currently",
      }],
    });
    assert.is(res.headers.get("retry-after"), null);
    assert.is((await s.call("GET", `${PODS}/p1`)).status, 200);
  }));

test("eviction against a budget its controller has not observed is 429 with Retry-After 10", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    await budget(s, "web", { disruptionsAllowed: 5, observedGeneration: 0 });
    const res = await json(s.call("POST", `${PODS}/p1/eviction`, eviction("p1")));
    assert.is(res.status, 429);
    assert.is(res.headers.get("retry-after"), "10");
    assert.equal(res.body.details, {
      causes: [{
        reason: "DisruptionBudget",
        message: "The disruption budget web is still being processed by the server.",
      }],
      retryAfterSeconds: 10,
    });
  }));

test("pending and finished pods are evicted whatever the budget says", () =>
  withServer(async (s) => {
    await budget(s, "web", { disruptionsAllowed: 0 });
    await s.call("POST", PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "pending", labels: { app: "web" } },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    assert.is((await s.call("POST", `${PODS}/pending/eviction`, eviction("pending"))).status, 201);
    await runningPod(s, "done");
    await s.call("PATCH", `${PODS}/done/status`, { status: { phase: "Succeeded" } }, MERGE);
    assert.is((await s.call("POST", `${PODS}/done/eviction`, eviction("done"))).status, 201);
    assert.is((await s.call("GET", `${PODS}/pending`)).status, 404);
    assert.is((await s.call("GET", `${PODS}/done`)).status, 404);
    assert.is((await json(s.call("GET", `${PDBS}/web`))).body.status.disruptionsAllowed, 0);
  }));

test("an unready pod goes without spending a budget that is already met", () =>
  withServer(async (s) => {
    await runningPod(s, "p1", { ready: false });
    await budget(s, "web", { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 });
    assert.is((await s.call("POST", `${PODS}/p1/eviction`, eviction("p1"))).status, 201);
    assert.is((await s.call("GET", `${PODS}/p1`)).status, 404);
    assert.is((await json(s.call("GET", `${PDBS}/web`))).body.status.disruptionsAllowed, 0);
  }));

test("a pod under two budgets is a 500 without a reason", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    await budget(s, "a", { disruptionsAllowed: 1 });
    await budget(s, "b", { disruptionsAllowed: 1 });
    // An empty selector covers nothing.
    await budget(s, "empty", { disruptionsAllowed: 0 }, {});
    const res = await json(s.call("POST", `${PODS}/p1/eviction`, eviction("p1")));
    assert.is(res.status, 500);
    assert.is(res.body.reason, undefined);
    assert.is(
      res.body.message,
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    );
  }));

test("two evictions racing for a budget of one: one goes, the other gets 429", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    await runningPod(s, "p2");
    await budget(s, "web", { disruptionsAllowed: 1 });
    const results = await Promise.all([
      json(s.call("POST", `${PODS}/p1/eviction`, eviction("p1"))),
      json(s.call("POST", `${PODS}/p2/eviction`, eviction("p2"))),
    ]);
    assert.equal(results.map((r) => r.status).sort(), [201, 429]);
    const pdb = (await json(s.call("GET", `${PDBS}/web`))).body;
    assert.is(pdb.status.disruptionsAllowed, 0);
    assert.is(Object.keys(pdb.status.disruptedPods).length, 1);
    const left = await Promise.all(["p1", "p2"].map((n) => s.call("GET", `${PODS}/${n}`)));
    assert.equal(left.map((r) => r.status).sort(), [200, 404]);
  }));

test("eviction with dryRun=All (query or deleteOptions) answers 201 and keeps nothing", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    await budget(s, "web", { disruptionsAllowed: 1 });
    const pdbBefore = (await json(s.call("GET", `${PDBS}/web`))).body;
    const podBefore = (await json(s.call("GET", `${PODS}/p1`))).body;
    assert.is((await s.call("POST", `${PODS}/p1/eviction?dryRun=All`, eviction("p1"))).status, 201);
    const body = eviction("p1", { deleteOptions: { dryRun: ["All"] } });
    assert.is((await s.call("POST", `${PODS}/p1/eviction`, body)).status, 201);
    assert.equal((await json(s.call("GET", `${PDBS}/web`))).body, pdbBefore);
    assert.equal((await json(s.call("GET", `${PODS}/p1`))).body, podBefore);
    const spent = await s.call("PATCH", `${PDBS}/web/status`, { status: { disruptionsAllowed: 0 } }, MERGE);
    assert.is(spent.status, 200);
    assert.is((await s.call("POST", `${PODS}/p1/eviction?dryRun=All`, eviction("p1"))).status, 429);
  }));

test("deleteOptions are honoured: a stale uid precondition is a 409, a grace period is kept", () =>
  withServer(async (s) => {
    await node(s, "n1");
    await runningPod(s, "p1", { node: "n1" });
    const stale = await json(s.call(
      "POST",
      `${PODS}/p1/eviction`,
      eviction("p1", { deleteOptions: { preconditions: { uid: "not-it" } } }),
    ));
    assert.is(stale.status, 409);
    assert.match(
      stale.body.message,
      /the UID in the precondition \(not-it\) does not match the UID in record/,
    );
    const res = await s.call(
      "POST",
      `${PODS}/p1/eviction`,
      eviction("p1", { deleteOptions: { gracePeriodSeconds: 7 } }),
    );
    assert.is(res.status, 201);
    const pod = (await json(s.call("GET", `${PODS}/p1`))).body;
    assert.is(pod.metadata.deletionGracePeriodSeconds, 7);
  }));

test("eviction bodies: policy/v1beta1 is taken, a wrong name or kind is a 400, protobuf and YAML decode", () =>
  withServer(async (s) => {
    await runningPod(s, "p1");
    await runningPod(s, "p2");
    await runningPod(s, "p3");
    const wrongName = await json(s.call("POST", `${PODS}/p1/eviction`, eviction("p2")));
    assert.is(wrongName.status, 400);
    assert.is(wrongName.body.message, "name in URL does not match name in Eviction object");
    const wrongKind = await json(
      s.call("POST", `${PODS}/p1/eviction`, { ...eviction("p1"), apiVersion: "v1" }),
    );
    assert.is(wrongKind.status, 400);
    const mistyped = await json(
      s.call("POST", `${PODS}/p1/eviction`, {
        ...eviction("p1"),
        deleteOptions: { gracePeriodSeconds: "x" },
      }),
    );
    assert.equal([mistyped.status, mistyped.body.message], [
      400,
      'Eviction in version "v1" cannot be handled as a Eviction: json: cannot unmarshal string into Go struct field DeleteOptions.deleteOptions.gracePeriodSeconds of type int64',
    ]);
    const beta = await s.call("POST", `${PODS}/p1/eviction`, {
      ...eviction("p1"),
      apiVersion: "policy/v1beta1",
    });
    assert.is(beta.status, 201);
    const proto = encodeKubernetesProtobuf(eviction("p2"));
    const viaProto = await s.call("POST", `${PODS}/p2/eviction`, proto, {
      "content-type": "application/vnd.kubernetes.protobuf",
      accept: "application/json",
    });
    assert.is(viaProto.status, 201);
    const yaml = "apiVersion: policy/v1\nkind: Eviction\nmetadata:\n  name: p3\n";
    const viaYaml = await s.call("POST", `${PODS}/p3/eviction`, yaml, { "content-type": "application/yaml" });
    assert.is(viaYaml.status, 201);
    const missing = await json(s.call("POST", `${PODS}/gone/eviction`, eviction("gone")));
    assert.is(missing.status, 404);
    assert.is(missing.body.message, 'pods "gone" not found');
  }));

test.run();
