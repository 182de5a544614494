import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { Pod, Service } from "../types.ts";
import { newEndpointsController } from "./controller.ts";
import { type Endpoints, MAX_ENDPOINTS_CAPACITY, repackSubsets, truncateSubsets } from "./subsets.ts";
import { formatTriggerTime, LAST_CHANGE_TRIGGER_TIME } from "./pod_endpoints.ts";

const NS = "default";

function pod(
  name: string,
  labels: Record<string, string>,
  extra: Partial<NonNullable<Pod["spec"]>> = {},
): Pod {
  return {
    metadata: { name, namespace: NS, labels },
    spec: {
      containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] }],
      ...extra,
    },
  };
}

function service(
  name: string,
  selector: Record<string, string> | undefined,
  extra: Partial<NonNullable<Service["spec"]>> = {},
): Service {
  return {
    metadata: { name, namespace: NS, labels: { team: "x" } },
    spec: { selector, ports: [{ name: "web", port: 80, targetPort: "http" }], ...extra },
  };
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/** Marks a pod Running with its own IP, ready or not. */
async function setStatus(pods: ReturnType<typeof clientPods>, name: string, ip: string, ready: boolean) {
  await pods.patch(NS, name, "merge", {
    status: {
      phase: "Running",
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now() }],
    },
  }, { subresource: "status" });
}

function clientPods(env: Awaited<ReturnType<typeof startControllers>>) {
  return env.client.resource<Pod>("", "pods");
}

async function start() {
  const env = await startControllers([newEndpointsController]);
  const abort = new AbortController();
  // Pods labelled hold=yes keep the status the test gives them.
  fakeKubelet(env.client, abort.signal, { hold: (p) => p.metadata?.labels?.hold === "yes" });
  await env.client.resource("", "nodes").create("", { metadata: { name: "node-1" } });
  return {
    env,
    pods: clientPods(env),
    services: env.client.resource<Service>("", "services"),
    endpoints: env.client.resource<Endpoints>("", "endpoints"),
    async close() {
      abort.abort();
      await env.close();
    },
  };
}

test("Endpoints follow pod readiness: ready addresses, not-ready addresses, named ports", async () => {
  const t = await start();
  await t.services.create(NS, service("web", { app: "web" }));
  await t.pods.create(NS, pod("web-1", { app: "web" }, { nodeName: "node-1" }));
  await t.pods.create(NS, pod("web-2", { app: "web", hold: "yes" }, { nodeName: "node-1" }));
  await t.pods.create(NS, pod("other", { app: "other" }));
  await setStatus(t.pods, "web-2", "10.0.0.2", false);
  const ep = await eventually(
    async () => {
      const e = await t.endpoints.get(NS, "web");
      const s = e.subsets?.[0];
      return s?.addresses?.length === 1 && s?.notReadyAddresses?.length === 1 && e;
    },
    5000,
    "one ready, one not ready",
  );
  const s = ep.subsets![0];
  assert.equal(s.ports, [{ name: "web", port: 8080, protocol: "TCP" }]);
  assert.is(s.addresses![0].ip, "10.244.0.10");
  assert.is(s.addresses![0].nodeName, "node-1");
  assert.is(s.addresses![0].targetRef?.kind, "Pod");
  assert.is(s.addresses![0].targetRef?.name, "web-1");
  assert.ok(s.addresses![0].targetRef?.uid);
  assert.is(s.notReadyAddresses![0].ip, "10.0.0.2");
  assert.is(ep.metadata?.labels?.team, "x", "the Service's labels");
  assert.ok(ep.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME]);
  // The held pod becomes ready: it moves over.
  await setStatus(t.pods, "web-2", "10.0.0.2", true);
  await eventually(
    async () => {
      const e = await t.endpoints.get(NS, "web");
      return e.subsets?.length === 1 && e.subsets[0].addresses?.length === 2 &&
        !e.subsets[0].notReadyAddresses;
    },
    5000,
    "both ready",
  );
  // A deleted pod leaves.
  await t.pods.delete(NS, "web-1");
  await eventually(
    async () => {
      const e = await t.endpoints.get(NS, "web");
      return e.subsets?.[0]?.addresses?.map((a) => a.targetRef?.name).join() === "web-2";
    },
    5000,
    "web-1 gone",
  );
  await t.close();
});

test("Endpoints follow a Service's selector change; hostname and publishNotReadyAddresses", async () => {
  const t = await start();
  await t.pods.create(NS, pod("a-1", { app: "a" }));
  await t.pods.create(NS, pod("b-1", { app: "b", hold: "yes" }, { hostname: "b-host", subdomain: "svc" }));
  await setStatus(t.pods, "b-1", "10.0.1.1", false);
  await t.services.create(NS, service("svc", { app: "a" }));
  await eventually(
    async () => {
      const e = await t.endpoints.get(NS, "svc");
      return e.subsets?.[0]?.addresses?.[0]?.targetRef?.name === "a-1";
    },
    5000,
    "a-1 selected",
  );
  await t.services.patch(NS, "svc", "merge", {
    spec: { selector: { app: "b" }, publishNotReadyAddresses: true },
  });
  const ep = await eventually(
    async () => {
      const e = await t.endpoints.get(NS, "svc");
      const addrs = e.subsets?.[0]?.addresses ?? [];
      return addrs.length === 1 && addrs[0].targetRef?.name === "b-1" && e;
    },
    5000,
    "b-1 selected, published though not ready",
  );
  assert.is(ep.subsets![0].addresses![0].hostname, "b-host");
  assert.is(ep.subsets![0].notReadyAddresses, undefined);
  await t.close();
});

test("Services without a selector are left alone; Endpoints go with their Service", async () => {
  const t = await start();
  await t.services.create(NS, service("manual", undefined, { ports: [{ port: 80 }] }));
  await t.endpoints.create(NS, {
    metadata: { name: "manual", namespace: NS },
    subsets: [{ addresses: [{ ip: "192.168.1.1" }], ports: [{ port: 80 }] }],
  });
  await t.services.create(NS, service("gone", { app: "x" }));
  await eventually(() => t.endpoints.get(NS, "gone").then(() => true, () => false), 5000, "gone's Endpoints");
  await t.services.delete(NS, "gone");
  await eventually(
    async () => {
      try {
        await t.endpoints.get(NS, "gone");
        return false;
      } catch (err) {
        return isStatusError(err, "NotFound");
      }
    },
    5000,
    "Endpoints deleted with the Service",
  );
  const manual = await t.endpoints.get(NS, "manual");
  assert.is(manual.subsets?.[0]?.addresses?.[0]?.ip, "192.168.1.1");
  await t.close();
});

test("headless Services are labelled; one without ports lists addresses", async () => {
  const t = await start();
  await t.pods.create(NS, pod("h-1", { app: "h" }));
  await t.services.create(NS, service("headless", { app: "h" }, { clusterIP: "None", ports: undefined }));
  const ep = await eventually(
    async () => {
      const e = await t.endpoints.get(NS, "headless");
      return e.subsets?.[0]?.addresses?.length === 1 && e;
    },
    5000,
    "headless endpoints",
  );
  assert.is(ep.subsets![0].ports, undefined);
  assert.is(ep.metadata?.labels?.["service.kubernetes.io/headless"], "");
  await t.close();
});

test("repackSubsets groups addresses by the ports they offer; not ready wins", () => {
  const a = { ip: "10.0.0.1", targetRef: { kind: "Pod", uid: "a" } };
  const b = { ip: "10.0.0.2", targetRef: { kind: "Pod", uid: "b" } };
  const p80 = { name: "http", port: 80, protocol: "TCP" };
  const p443 = { name: "https", port: 443, protocol: "TCP" };
  const out = repackSubsets([
    { addresses: [b], ports: [p80] },
    { addresses: [a], ports: [p80] },
    { addresses: [a], ports: [p443] },
    { notReadyAddresses: [b], ports: [p80] },
  ]);
  assert.is(out.length, 2);
  const only80 = out.find((s) => s.ports?.length === 1 && s.ports[0].port === 80)!;
  assert.equal(only80.addresses?.map((x) => x.ip), ["10.0.0.1"]);
  assert.equal(only80.notReadyAddresses?.map((x) => x.ip), ["10.0.0.2"]);
  const only443 = out.find((s) => s.ports?.[0].port === 443)!;
  assert.equal(only443.addresses?.map((x) => x.ip), ["10.0.0.1"]);
  // Same content in another order packs the same.
  assert.equal(
    repackSubsets([{ addresses: [a], ports: [p443] }, { notReadyAddresses: [b], ports: [p80] }, {
      addresses: [a],
      ports: [p80],
    }]),
    out,
  );
});

test("truncateSubsets keeps 1000 addresses, ready first", () => {
  const addrs = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${Math.floor(i / 250)}.${i % 250}` }));
  const subsets = [{
    addresses: addrs(900, "10.1"),
    notReadyAddresses: addrs(300, "10.2"),
    ports: [{ port: 80 }],
  }];
  assert.ok(truncateSubsets(subsets));
  assert.is(subsets[0].addresses.length, 900);
  assert.is(subsets[0].notReadyAddresses.length, MAX_ENDPOINTS_CAPACITY - 900);
  const big = [{
    addresses: addrs(1200, "10.3"),
    notReadyAddresses: addrs(5, "10.4"),
    ports: [{ port: 80 }],
  }];
  assert.ok(truncateSubsets(big));
  assert.is(big[0].addresses.length, MAX_ENDPOINTS_CAPACITY);
  assert.is((big[0] as { notReadyAddresses?: unknown[] }).notReadyAddresses, undefined);
  assert.not.ok(truncateSubsets([{ addresses: addrs(10, "10.5"), ports: [{ port: 80 }] }]));
});

test("formatTriggerTime prints Go's RFC3339Nano", () => {
  assert.is(formatTriggerTime(Date.parse("2024-01-02T03:04:05Z")), "2024-01-02T03:04:05Z");
  assert.is(formatTriggerTime(Date.parse("2024-01-02T03:04:05.120Z")), "2024-01-02T03:04:05.12Z");
});

test.run();
