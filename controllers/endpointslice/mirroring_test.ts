import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import type { Service } from "../types.ts";
import type { Endpoints } from "../endpoints/subsets.ts";
import { endpointSliceMirroringControllerWith, MIRRORING_CONTROLLER_NAME, parseIP } from "./mirroring.ts";
import type { EndpointSlice } from "./endpoints.ts";

const NS = "default";

test("parseIP canonicalizes IPv4 and IPv6 and refuses the rest", () => {
  assert.equal(parseIP("10.0.0.1"), { ip: "10.0.0.1", type: "IPv4" });
  assert.equal(parseIP("010.000.0.1"), { ip: "10.0.0.1", type: "IPv4" });
  assert.equal(parseIP("2001:db8:0:0::1"), { ip: "2001:db8::1", type: "IPv6" });
  assert.equal(parseIP("::ffff:1.2.3.4"), { ip: "1.2.3.4", type: "IPv4" });
  assert.is(parseIP("300.1.1.1"), undefined);
  assert.is(parseIP("example.com"), undefined);
});

test("custom Endpoints of a selector-less Service are mirrored; skip-mirror and selectors are honoured", async () => {
  const env = await startControllers([endpointSliceMirroringControllerWith({ sliceChangeDelayMs: 50 })]);
  const services = env.client.resource<Service>("", "services");
  const endpoints = env.client.resource<Endpoints>("", "endpoints");
  const slices = env.client.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const mirrored = async (name: string) =>
    (await slices.list(NS, { labelSelector: `kubernetes.io/service-name=${name}` })).items;
  await services.create(NS, { metadata: { name: "ext" }, spec: { ports: [{ name: "db", port: 5432 }] } });
  const ep = await endpoints.create(NS, {
    metadata: { name: "ext", labels: { tier: "db" }, annotations: { note: "x" } },
    subsets: [{
      addresses: [{ ip: "192.168.0.10" }, { ip: "not-an-ip" }],
      notReadyAddresses: [{ ip: "192.168.0.11", nodeName: "n1" }],
      ports: [{ name: "db", port: 5432, protocol: "TCP" }],
    }],
  });
  const [slice] = await eventually(
    async () => {
      const l = await mirrored("ext");
      return l.length === 1 && l;
    },
    5000,
    "mirrored slice",
  );
  assert.is(slice.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"], MIRRORING_CONTROLLER_NAME);
  assert.is(slice.metadata?.labels?.tier, "db");
  assert.is(slice.metadata?.annotations?.note, "x");
  assert.is(slice.metadata?.ownerReferences?.[0]?.kind, "Endpoints");
  assert.is(slice.metadata?.ownerReferences?.[0]?.uid, ep.metadata?.uid);
  assert.equal(slice.ports, [{ name: "db", port: 5432, protocol: "TCP" }]);
  const byIP = Object.fromEntries(slice.endpoints.map((e) => [e.addresses[0], e]));
  assert.equal(Object.keys(byIP).sort(), ["192.168.0.10", "192.168.0.11"]);
  assert.is(byIP["192.168.0.10"].conditions?.ready, true);
  assert.is(byIP["192.168.0.11"].conditions?.ready, false);
  assert.is(byIP["192.168.0.11"].nodeName, "n1");
  await eventually(
    async () => {
      const evs = await env.client.resource("", "events").list(NS);
      return evs.items.some((e) => e.reason === "InvalidIPAddress");
    },
    3000,
    "InvalidIPAddress event",
  );
  // The Endpoints change: the slice follows.
  await endpoints.patch(NS, "ext", "merge", {
    subsets: [{ addresses: [{ ip: "192.168.0.12" }], ports: [{ name: "db", port: 5432, protocol: "TCP" }] }],
  });
  await eventually(
    async () => {
      const l = await mirrored("ext");
      return l.length === 1 && l[0].endpoints.map((e) => e.addresses[0]).join() === "192.168.0.12";
    },
    5000,
    "slice updated",
  );
  // skip-mirror: the mirrored slices go.
  await endpoints.patch(NS, "ext", "merge", {
    metadata: { labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
  });
  await eventually(async () => (await mirrored("ext")).length === 0, 5000, "mirrored slices removed");
  // A Service with a selector is not mirrored.
  await services.create(NS, {
    metadata: { name: "sel" },
    spec: { selector: { app: "x" }, ports: [{ port: 80 }] },
  });
  await endpoints.create(NS, {
    metadata: { name: "sel" },
    subsets: [{ addresses: [{ ip: "10.1.1.1" }], ports: [{ port: 80 }] }],
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.is((await mirrored("sel")).length, 0);
  await env.close();
});

test.run();
