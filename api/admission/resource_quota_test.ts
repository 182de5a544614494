import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer, type TestServer } from "../test_server.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const NS = "/api/v1/namespaces/default";
const MERGE = { "content-type": "application/merge-patch+json" };

async function json(res: Response | Promise<Response>): Promise<{ status: number; body: Json }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

async function withServer(fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startTestServer();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

const pod = (name: string, resources?: Json, extra: Json = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: name.endsWith("-") ? { generateName: name } : { name },
  spec: { containers: [{ name: "c", image: "busybox", ...(resources ? { resources } : {}) }], ...extra },
});

async function quota(s: TestServer, name: string, hard: Json, spec: Json = {}): Promise<Json> {
  const res = await json(s.call("POST", `${NS}/resourcequotas`, {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name },
    spec: { hard, ...spec },
  }));
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function used(s: TestServer, name: string): Promise<Json> {
  return (await json(s.call("GET", `${NS}/resourcequotas/${name}`))).body.status.used;
}

test("a quota's status is computed when it is created: hard from spec, used from the namespace", () =>
  withServer(async (s) => {
    await s.call("POST", `${NS}/pods`, pod("a", { requests: { cpu: "250m", memory: "64Mi" } }));
    await s.call("POST", `${NS}/configmaps`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cm" },
    });
    const created = await quota(s, "q", {
      pods: "10",
      "requests.cpu": "2",
      "requests.memory": "1Gi",
      configmaps: "5",
      "count/configmaps": "5",
      resourcequotas: "3",
      "services.nodeports": "2",
    });
    assert.equal(created.status.hard, {
      pods: "10",
      "requests.cpu": "2",
      "requests.memory": "1Gi",
      configmaps: "5",
      "count/configmaps": "5",
      resourcequotas: "3",
      "services.nodeports": "2",
    });
    assert.equal(created.status.used, {
      pods: "1",
      "requests.cpu": "250m",
      "requests.memory": "64Mi",
      // The namespace's kube-root-ca.crt is not made here; only the one ConfigMap counts.
      configmaps: "1",
      "count/configmaps": "1",
      resourcequotas: "1",
      "services.nodeports": "0",
    });
    // A change of spec.hard is taken into the status at once.
    const patched = await json(s.call(
      "PATCH",
      `${NS}/resourcequotas/q`,
      [{ op: "replace", path: "/spec/hard", value: { pods: "4" } }],
      { "content-type": "application/json-patch+json" },
    ));
    assert.is(patched.status, 200);
    assert.equal(patched.body.status.hard, { pods: "4" });
    assert.equal(patched.body.status.used, { pods: "1" });
  }));

test("pods beyond a pods quota are refused with upstream's message; used counts each admitted pod", () =>
  withServer(async (s) => {
    await quota(s, "q", { pods: "2" });
    assert.is((await s.call("POST", `${NS}/pods`, pod("p1"))).status, 201);
    assert.is((await s.call("POST", `${NS}/pods`, pod("p2"))).status, 201);
    assert.equal(await used(s, "q"), { pods: "2" });
    const res = await json(s.call("POST", `${NS}/pods`, pod("p3")));
    assert.is(res.status, 403);
    assert.is(res.body.reason, "Forbidden");
    assert.is(
      res.body.message,
      'pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2',
    );
    assert.equal(res.body.details, { name: "p3", kind: "pods" });
    const generated = await json(s.call("POST", `${NS}/pods`, pod("web-")));
    assert.is(
      generated.body.message,
      'pods "web-" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2',
    );
    assert.equal(await used(s, "q"), { pods: "2" });
  }));

test("compute quotas: containers must state what is tracked; sums in canonical form", () =>
  withServer(async (s) => {
    await quota(s, "compute", { "requests.cpu": "1", "limits.cpu": "2", "requests.memory": "1Gi" });
    const bare = await json(s.call("POST", `${NS}/pods`, pod("bare")));
    assert.is(bare.status, 403);
    assert.is(
      bare.body.message,
      'pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: c; requests.cpu for: c; requests.memory for: c',
    );
    const sized = { requests: { cpu: "0.6", memory: "512Mi" }, limits: { cpu: "600m" } };
    assert.is((await s.call("POST", `${NS}/pods`, pod("a", sized))).status, 201);
    assert.equal(await used(s, "compute"), {
      "requests.cpu": "600m",
      "limits.cpu": "600m",
      "requests.memory": "512Mi",
    });
    const over = await json(s.call("POST", `${NS}/pods`, pod("b", sized)));
    assert.is(over.status, 403);
    assert.is(
      over.body.message,
      'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1',
    );
    const small = { requests: { cpu: "400m", memory: "512Mi" }, limits: { cpu: "1" } };
    assert.is((await s.call("POST", `${NS}/pods`, pod("c", small))).status, 201);
    assert.equal(await used(s, "compute"), {
      "requests.cpu": "1",
      "limits.cpu": "1600m",
      "requests.memory": "1Gi",
    });
  }));

test("dry runs are checked against the quota but not charged", () =>
  withServer(async (s) => {
    await quota(s, "q", { pods: "1" });
    assert.is((await s.call("POST", `${NS}/pods?dryRun=All`, pod("p1"))).status, 201);
    assert.equal(await used(s, "q"), { pods: "0" });
    assert.is((await s.call("GET", `${NS}/pods/p1`)).status, 404);
    assert.is((await s.call("POST", `${NS}/pods`, pod("p1"))).status, 201);
    assert.is((await s.call("POST", `${NS}/pods?dryRun=All`, pod("p2"))).status, 403);
  }));

test("terminal pods do not count for compute quota; count/pods still counts them", () =>
  withServer(async (s) => {
    await s.call("POST", `${NS}/pods`, pod("done"));
    await s.call("PATCH", `${NS}/pods/done/status`, { status: { phase: "Succeeded" } }, MERGE);
    await s.call("POST", `${NS}/pods`, pod("live"));
    const q = await quota(s, "q", { pods: "5", "count/pods": "5" });
    assert.equal(q.status.used, { pods: "1", "count/pods": "2" });
  }));

test("scopes: a BestEffort quota binds best-effort pods only", () =>
  withServer(async (s) => {
    await quota(s, "be", { pods: "1" }, { scopes: ["BestEffort"] });
    assert.is((await s.call("POST", `${NS}/pods`, pod("be1"))).status, 201);
    const second = await json(s.call("POST", `${NS}/pods`, pod("be2")));
    assert.is(second.status, 403);
    assert.match(
      second.body.message,
      /exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1$/,
    );
    const burstable = pod("burst", { requests: { cpu: "100m" } });
    assert.is((await s.call("POST", `${NS}/pods`, burstable)).status, 201);
    assert.equal(await used(s, "be"), { pods: "1" });
  }));

test("scopes: a PriorityClass selector and Terminating", () =>
  withServer(async (s) => {
    await s.call("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name: "high" },
      value: 1000,
    });
    await quota(s, "high", { pods: "0" }, {
      scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["high"] }] },
    });
    await quota(s, "deadline", { pods: "0" }, { scopes: ["Terminating"] });
    assert.is((await s.call("POST", `${NS}/pods`, pod("plain"))).status, 201);
    const high = await json(
      s.call("POST", `${NS}/pods`, pod("hi", undefined, { priorityClassName: "high" })),
    );
    assert.is(high.status, 403);
    assert.match(high.body.message, /exceeded quota: high,/);
    const job = await json(
      s.call("POST", `${NS}/pods`, pod("job", undefined, { activeDeadlineSeconds: 60 })),
    );
    assert.is(job.status, 403);
    assert.match(job.body.message, /exceeded quota: deadline,/);
  }));

test("services: node ports and load balancers are counted, also when a service changes type", () =>
  withServer(async (s) => {
    await quota(s, "svc", { services: "3", "services.nodeports": "2", "services.loadbalancers": "0" });
    const service = (name: string, type: string, ports: number) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name },
      spec: {
        type,
        selector: { app: name },
        ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: 80 + i })),
      },
    });
    assert.is((await s.call("POST", `${NS}/services`, service("a", "ClusterIP", 1))).status, 201);
    assert.is((await s.call("POST", `${NS}/services`, service("b", "NodePort", 2))).status, 201);
    const lb = await json(s.call("POST", `${NS}/services`, service("c", "LoadBalancer", 1)));
    assert.is(lb.status, 403);
    assert.is(
      lb.body.message,
      'services "c" is forbidden: exceeded quota: svc, requested: services.loadbalancers=1,services.nodeports=1, used: services.loadbalancers=0,services.nodeports=2, limited: services.loadbalancers=0,services.nodeports=2',
    );
    const toNodePort = await json(s.call("PATCH", `${NS}/services/a`, { spec: { type: "NodePort" } }, MERGE));
    assert.is(toNodePort.status, 403);
    assert.match(
      toNodePort.body.message,
      /^services "a" is forbidden: exceeded quota: svc, requested: services.nodeports=1,/,
    );
    assert.equal(await used(s, "svc"), {
      services: "2",
      "services.nodeports": "2",
      "services.loadbalancers": "0",
    });
  }));

test("object counts: configmaps under the legacy name and count/<resource>.<group>", () =>
  withServer(async (s) => {
    await quota(s, "counts", { configmaps: "1", "count/deployments.apps": "0" });
    const cm = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
    assert.is((await s.call("POST", `${NS}/configmaps`, cm("one"))).status, 201);
    const two = await json(s.call("POST", `${NS}/configmaps`, cm("two")));
    assert.is(
      two.body.message,
      'configmaps "two" is forbidden: exceeded quota: counts, requested: configmaps=1, used: configmaps=1, limited: configmaps=1',
    );
    const deploy = await json(s.call("POST", "/apis/apps/v1/namespaces/default/deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        selector: { matchLabels: { app: "d" } },
        template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    }));
    assert.is(deploy.status, 403);
    assert.is(
      deploy.body.message,
      'deployments.apps "d" is forbidden: exceeded quota: counts, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0',
    );
  }));

test("claims: storage requests are charged, per storage class too", () =>
  withServer(async (s) => {
    await quota(s, "storage", {
      "requests.storage": "10Gi",
      "fast.storageclass.storage.k8s.io/requests.storage": "5Gi",
    });
    const claim = (name: string, size: string, storageClassName?: string) => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, storageClassName },
    });
    assert.is((await s.call("POST", `${NS}/persistentvolumeclaims`, claim("a", "4Gi", "fast"))).status, 201);
    const fast = await json(s.call("POST", `${NS}/persistentvolumeclaims`, claim("b", "2Gi", "fast")));
    assert.is(fast.status, 403);
    assert.match(
      fast.body.message,
      /requested: fast.storageclass.storage.k8s.io\/requests.storage=2Gi, used: fast.storageclass.storage.k8s.io\/requests.storage=4Gi, limited: fast.storageclass.storage.k8s.io\/requests.storage=5Gi$/,
    );
    const grow = await json(s.call(
      "PATCH",
      `${NS}/persistentvolumeclaims/a`,
      { spec: { resources: { requests: { storage: "6Gi" } } } },
      MERGE,
    ));
    assert.is(grow.status, 403);
    assert.match(
      grow.body.message,
      /^persistentvolumeclaims "a" is forbidden: exceeded quota: storage, requested: fast.storageclass.storage.k8s.io\/requests.storage=2Gi,/,
    );
    assert.is(
      (await s.call("POST", `${NS}/persistentvolumeclaims`, claim("c", "512Mi", "slow"))).status,
      201,
    );
    assert.equal(await used(s, "storage"), {
      "requests.storage": "4608Mi",
      "fast.storageclass.storage.k8s.io/requests.storage": "4Gi",
    });
  }));

test("a create that fails for its taken name is not charged", () =>
  withServer(async (s) => {
    await quota(s, "q", { pods: "3" });
    assert.is((await s.call("POST", `${NS}/pods`, pod("p1"))).status, 201);
    const again = await json(s.call("POST", `${NS}/pods`, pod("p1")));
    assert.is(again.status, 409);
    assert.is(again.body.reason, "AlreadyExists");
    assert.equal(await used(s, "q"), { pods: "1" });
  }));

test("concurrent creates never overrun the quota", () =>
  withServer(async (s) => {
    await quota(s, "q", { pods: "5" });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => s.call("POST", `${NS}/pods`, pod(`p${i}`)).then((r) => r.status)),
    );
    assert.is(results.filter((c) => c === 201).length, 5);
    assert.is(results.filter((c) => c === 403).length, 7);
    assert.equal(await used(s, "q"), { pods: "5" });
  }));

test("a quota written later binds at once; a deleted one stops binding", () =>
  withServer(async (s) => {
    assert.is((await s.call("POST", `${NS}/pods`, pod("p1"))).status, 201);
    await quota(s, "q", { pods: "1" });
    assert.is((await s.call("POST", `${NS}/pods`, pod("p2"))).status, 403);
    assert.is((await s.call("DELETE", `${NS}/resourcequotas/q`)).status, 200);
    assert.is((await s.call("POST", `${NS}/pods`, pod("p2"))).status, 201);
    // Other namespaces are not bound by it.
    await s.call("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "other" },
    });
    await quota(s, "q2", { pods: "0" });
    assert.is((await s.call("POST", "/api/v1/namespaces/other/pods", pod("p1"))).status, 201);
  }));

test.run();
