import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import type { ControllerFactory } from "../framework/mod.ts";
import type { Pod, Service } from "../types.ts";
import { garbageCollectorWith } from "../garbagecollector/controller.ts";
import { deletableResources } from "../garbagecollector/resources.ts";
import { endpointSliceControllerWith, newEndpointSliceController } from "./controller.ts";
import type { EndpointSlice } from "./endpoints.ts";

const NS = "default";

function pod(
  name: string,
  labels: Record<string, string>,
  extra: Partial<NonNullable<Pod["spec"]>> = {},
): Pod {
  return {
    metadata: { name, namespace: NS, labels },
    spec: {
      nodeName: "node-1",
      containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] }],
      ...extra,
    },
  };
}

function service(name: string, selector?: Record<string, string>): Service {
  return {
    metadata: { name, namespace: NS, labels: { team: "x" } },
    spec: { selector, ports: [{ name: "web", port: 80, targetPort: "http" }] },
  };
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

async function start(factories: ControllerFactory[] = [newEndpointSliceController]) {
  const env = await startControllers(factories);
  const abort = new AbortController();
  fakeKubelet(env.client, abort.signal, { hold: (p) => p.metadata?.labels?.hold === "yes" });
  await env.client.resource("", "nodes").create("", {
    metadata: { name: "node-1", labels: { "topology.kubernetes.io/zone": "zone-a" } },
  });
  const slices = env.client.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  return {
    env,
    pods: env.client.resource<Pod>("", "pods"),
    services: env.client.resource<Service>("", "services"),
    slices,
    slicesOf: async (svc: string) =>
      (await slices.list(NS, { labelSelector: `kubernetes.io/service-name=${svc}` })).items,
    async setStatus(name: string, ip: string, ready: boolean) {
      await env.client.resource<Pod>("", "pods").patch(NS, name, "merge", {
        status: {
          phase: "Running",
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now() }],
        },
      }, { subresource: "status" });
    },
    async close() {
      abort.abort();
      await env.close();
    },
  };
}

const conditionsOf = (s: EndpointSlice) =>
  Object.fromEntries(s.endpoints.map((e) => [e.targetRef?.name, e.conditions]));

test("EndpointSlices name, label and own as upstream; conditions follow readiness", async () => {
  const t = await start();
  const svc = await t.services.create(NS, service("web", { app: "web" }));
  await t.pods.create(NS, pod("web-1", { app: "web" }));
  await t.pods.create(NS, pod("web-2", { app: "web", hold: "yes" }, { hostname: "w2", subdomain: "web" }));
  await t.pods.create(NS, pod("other", { app: "other" }));
  await t.setStatus("web-2", "10.0.0.2", false);
  const [slice] = await eventually(
    async () => {
      const l = await t.slicesOf("web");
      return l.length === 1 && l[0].endpoints?.length === 2 && l;
    },
    5000,
    "one slice with two endpoints",
  );
  assert.ok(slice.metadata?.name?.startsWith("web-"));
  assert.is(slice.metadata?.generateName, "web-");
  assert.equal(slice.metadata?.labels, {
    team: "x",
    "kubernetes.io/service-name": "web",
    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
  });
  assert.equal(slice.metadata?.ownerReferences, [{
    apiVersion: "v1",
    kind: "Service",
    name: "web",
    uid: svc.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  }]);
  assert.is(slice.addressType, "IPv4");
  assert.equal(slice.ports, [{ name: "web", port: 8080, protocol: "TCP" }]);
  assert.ok(slice.metadata?.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]);
  const w1 = slice.endpoints.find((e) => e.targetRef?.name === "web-1")!;
  assert.equal(w1.addresses, ["10.244.0.10"]);
  assert.equal(w1.conditions, { ready: true, serving: true, terminating: false });
  assert.is(w1.nodeName, "node-1");
  assert.is(w1.zone, "zone-a");
  assert.is(w1.targetRef?.kind, "Pod");
  const w2 = slice.endpoints.find((e) => e.targetRef?.name === "web-2")!;
  assert.equal(w2.conditions, { ready: false, serving: false, terminating: false });
  assert.is(w2.hostname, "w2");
  await t.setStatus("web-2", "10.0.0.2", true);
  await eventually(
    async () => {
      const [s] = await t.slicesOf("web");
      return conditionsOf(s)["web-2"]?.ready === true;
    },
    5000,
    "web-2 ready",
  );
  await t.close();
});

test("a terminating pod is serving but not ready; a Service selector change moves the endpoints", async () => {
  const t = await start();
  await t.services.create(NS, service("svc", { app: "a" }));
  await t.pods.create(NS, {
    ...pod("a-1", { app: "a" }),
    metadata: { name: "a-1", namespace: NS, labels: { app: "a" }, finalizers: ["example.com/hold"] },
  });
  await t.pods.create(NS, pod("b-1", { app: "b" }));
  await eventually(
    async () => {
      const [s] = await t.slicesOf("svc");
      return conditionsOf(s)["a-1"]?.ready === true;
    },
    5000,
    "a-1 ready",
  );
  await t.pods.delete(NS, "a-1");
  await eventually(
    async () => {
      const [s] = await t.slicesOf("svc");
      const c = conditionsOf(s)["a-1"];
      return c?.terminating === true && c.serving === true && c.ready === false;
    },
    5000,
    "a-1 terminating",
  );
  await t.services.patch(NS, "svc", "merge", { spec: { selector: { app: "b" } } });
  await eventually(
    async () => {
      const l = await t.slicesOf("svc");
      const names = l.flatMap((s) => s.endpoints.map((e) => e.targetRef?.name));
      return l.length === 1 && names.join() === "b-1";
    },
    5000,
    "only b-1",
  );
  await t.pods.patch(NS, "a-1", "merge", { metadata: { finalizers: null } });
  await t.close();
});

test("at most maxEndpointsPerSlice per slice; a placeholder for no endpoints; none without a selector", async () => {
  const t = await start([endpointSliceControllerWith({ maxEndpointsPerSlice: 2, sliceChangeDelayMs: 50 })]);
  await t.services.create(NS, service("many", { app: "many" }));
  await t.services.create(NS, service("empty", { app: "nothing" }));
  await t.services.create(NS, service("manual"));
  for (let i = 0; i < 5; i++) await t.pods.create(NS, pod(`m-${i}`, { app: "many" }));
  const slices = await eventually(
    async () => {
      const l = await t.slicesOf("many");
      const n = l.reduce((a, s) => a + (s.endpoints?.length ?? 0), 0);
      return n === 5 && l.every((s) => s.endpoints.every((e) => e.conditions?.ready)) && l;
    },
    5000,
    "5 endpoints",
  );
  assert.is(slices.length, 3);
  assert.ok(slices.every((s) => s.endpoints.length <= 2));
  const [placeholder] = await eventually(
    async () => {
      const l = await t.slicesOf("empty");
      return l.length === 1 && l;
    },
    5000,
    "placeholder",
  );
  assert.is(placeholder.endpoints?.length ?? 0, 0);
  assert.is(placeholder.ports?.length ?? 0, 0);
  // Deleted by someone else: made again.
  await t.slices.delete(NS, placeholder.metadata!.name!);
  await eventually(
    async () => {
      const l = await t.slicesOf("empty");
      return l.length === 1 && l[0].metadata?.uid !== placeholder.metadata?.uid;
    },
    5000,
    "placeholder re-created",
  );
  assert.is((await t.slicesOf("manual")).length, 0, "no slices for a Service without a selector");
  // Scale down: slices shrink and surplus ones go.
  for (let i = 0; i < 4; i++) await t.pods.delete(NS, `m-${i}`);
  await eventually(
    async () => {
      const l = await t.slicesOf("many");
      return l.length === 1 && l[0].endpoints.length === 1;
    },
    5000,
    "one slice left",
  );
  await t.close();
});

test("slices go with their Service (garbage collector)", async () => {
  const gc = garbageCollectorWith({
    resources: deletableResources().filter((r) => ["services", "endpointslices"].includes(r.resource)),
  });
  const t = await start([newEndpointSliceController, gc]);
  await t.services.create(NS, service("bye", { app: "bye" }));
  await t.pods.create(NS, pod("bye-1", { app: "bye" }));
  await eventually(async () => (await t.slicesOf("bye")).length === 1, 5000, "slice");
  await t.services.delete(NS, "bye");
  await eventually(async () => (await t.slicesOf("bye")).length === 0, 5000, "slices collected");
  await t.close();
});

test.run();
