import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer, type TestServer } from "../test_server.ts";
import { aggregateMessage } from "./limit_ranger.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const NS = "/api/v1/namespaces/default";

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

async function limitRange(s: TestServer, name: string, limits: Json[]): Promise<void> {
  const res = await json(s.call("POST", `${NS}/limitranges`, {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name },
    spec: { limits },
  }));
  assert.is(res.status, 201, JSON.stringify(res.body));
}

const pod = (name: string, containers: Json[], extra: Json = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: containers.map((c) => ({ image: "busybox", ...c })), ...extra },
});

test("Container defaults fill missing requests and limits and are named in the annotation", () =>
  withServer(async (s) => {
    await limitRange(s, "defaults", [{
      type: "Container",
      default: { cpu: "200m", memory: "128Mi" },
      defaultRequest: { cpu: "100m", memory: "64Mi" },
    }]);
    const res = await json(s.call(
      "POST",
      `${NS}/pods`,
      pod("a", [{ name: "a" }], {
        initContainers: [{ name: "init", image: "busybox", resources: { requests: { cpu: "50m" } } }],
      }),
    ));
    assert.is(res.status, 201, JSON.stringify(res.body));
    const created = res.body;
    assert.equal(created.spec.containers[0].resources, {
      limits: { cpu: "200m", memory: "128Mi" },
      requests: { cpu: "100m", memory: "64Mi" },
    });
    assert.equal(created.spec.initContainers[0].resources, {
      limits: { cpu: "200m", memory: "128Mi" },
      requests: { cpu: "50m", memory: "64Mi" },
    });
    assert.is(
      created.metadata.annotations["kubernetes.io/limit-ranger"],
      "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; " +
        "memory request for init container init; cpu, memory limit for init container init",
    );
    assert.is(created.status.qosClass, "Burstable");
    // A container stating its own keeps them; nothing set, no annotation.
    const own = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } };
    const kept = (await json(s.call("POST", `${NS}/pods`, pod("b", [{ name: "b", resources: own }])))).body;
    assert.equal(kept.spec.containers[0].resources, own);
    assert.is(kept.metadata.annotations?.["kubernetes.io/limit-ranger"], undefined);
    assert.is(kept.status.qosClass, "Guaranteed");
  }));

test("a max alone becomes the default limit and request (LimitRange defaulting)", () =>
  withServer(async (s) => {
    await limitRange(s, "max", [{ type: "Container", max: { cpu: "500m" } }]);
    const created = (await json(s.call("POST", `${NS}/pods`, pod("a", [{ name: "a" }])))).body;
    assert.equal(created.spec.containers[0].resources, {
      limits: { cpu: "500m" },
      requests: { cpu: "500m" },
    });
  }));

test("Container bounds are enforced in upstream's words", () =>
  withServer(async (s) => {
    await limitRange(s, "bounds", [{
      type: "Container",
      max: { cpu: "500m" },
      min: { memory: "64Mi" },
      maxLimitRequestRatio: { cpu: "2" },
    }]);
    const big = await json(s.call(
      "POST",
      `${NS}/pods`,
      pod("big", [{
        name: "c",
        resources: { limits: { cpu: "1", memory: "128Mi" }, requests: { cpu: "1", memory: "128Mi" } },
      }]),
    ));
    assert.is(big.status, 403);
    assert.is(big.body.reason, "Forbidden");
    assert.is(
      big.body.message,
      'pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1',
    );
    assert.equal(big.body.details, { name: "big", kind: "pods" });

    const small = await json(s.call(
      "POST",
      `${NS}/pods`,
      pod("small", [{
        name: "c",
        resources: { limits: { cpu: "400m", memory: "32Mi" }, requests: { cpu: "100m", memory: "32Mi" } },
      }]),
    ));
    assert.is(
      small.body.message,
      'pods "small" is forbidden: [minimum memory usage per Container is 64Mi, but request is 32Mi, ' +
        "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000]",
    );
    const fits = pod("fits", [{
      name: "c",
      resources: { limits: { cpu: "400m", memory: "128Mi" }, requests: { cpu: "200m", memory: "64Mi" } },
    }]);
    assert.is((await s.call("POST", `${NS}/pods`, fits)).status, 201);
  }));

test("Pod bounds apply to the pod's totals", () =>
  withServer(async (s) => {
    await limitRange(s, "pod", [{ type: "Pod", max: { cpu: "500m" } }]);
    const res = await json(s.call(
      "POST",
      `${NS}/pods`,
      pod("two", [
        { name: "a", resources: { limits: { cpu: "300m" } } },
        { name: "b", resources: { limits: { cpu: "300m" } } },
      ]),
    ));
    assert.is(res.status, 403);
    assert.is(
      res.body.message,
      'pods "two" is forbidden: maximum cpu usage per Pod is 500m, but limit is 600m',
    );
    const none = await json(s.call("POST", `${NS}/pods`, pod("none", [{ name: "a" }])));
    assert.is(
      none.body.message,
      'pods "none" is forbidden: maximum cpu usage per Pod is 500m.  No limit is specified',
    );
  }));

test("claims are bounded on create and update; dry runs are checked too", () =>
  withServer(async (s) => {
    await limitRange(s, "storage", [{
      type: "PersistentVolumeClaim",
      max: { storage: "1Gi" },
      min: { storage: "100Mi" },
    }]);
    const claim = (name: string, size: string) => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } },
    });
    const big = await json(s.call("POST", `${NS}/persistentvolumeclaims?dryRun=All`, claim("big", "2Gi")));
    assert.is(big.status, 403);
    assert.is(
      big.body.message,
      'persistentvolumeclaims "big" is forbidden: maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 2Gi',
    );
    const tiny = await json(s.call("POST", `${NS}/persistentvolumeclaims`, claim("tiny", "10Mi")));
    assert.is(
      tiny.body.message,
      'persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 100Mi, but request is 10Mi',
    );
    assert.is((await s.call("POST", `${NS}/persistentvolumeclaims`, claim("ok", "512Mi"))).status, 201);
    const grow = await json(s.call(
      "PATCH",
      `${NS}/persistentvolumeclaims/ok`,
      { spec: { resources: { requests: { storage: "4Gi" } } } },
      { "content-type": "application/merge-patch+json" },
    ));
    assert.is(grow.status, 403);
    assert.match(
      grow.body.message,
      /maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 4Gi$/,
    );
  }));

test("defaults satisfy a quota that tracks limits; a new LimitRange applies at once", () =>
  withServer(async (s) => {
    await s.call("POST", `${NS}/resourcequotas`, {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "q" },
      spec: { hard: { "limits.cpu": "1" } },
    });
    const refused = await json(s.call("POST", `${NS}/pods`, pod("a", [{ name: "a" }])));
    assert.is(refused.body.message, 'pods "a" is forbidden: failed quota: q: must specify limits.cpu for: a');
    await limitRange(s, "defaults", [{ type: "Container", default: { cpu: "300m" } }]);
    assert.is((await s.call("POST", `${NS}/pods`, pod("a", [{ name: "a" }]))).status, 201);
    const quota = (await json(s.call("GET", `${NS}/resourcequotas/q`))).body;
    assert.equal(quota.status.used, { "limits.cpu": "300m" });
    await s.call("DELETE", `${NS}/limitranges/defaults`);
    assert.is((await s.call("POST", `${NS}/pods`, pod("b", [{ name: "b" }]))).status, 403);
  }));

test("aggregateMessage prints one problem bare, several in brackets, duplicates once", () => {
  assert.is(aggregateMessage(["a"]), "a");
  assert.is(aggregateMessage(["a", "b", "a"]), "[a, b]");
  assert.is(aggregateMessage(["a", "a"]), "a");
});

test.run();
