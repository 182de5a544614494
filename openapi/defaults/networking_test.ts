import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

test("NetworkPolicy: the empty pod selector shows, policy types from the rules, ports TCP", () => {
  const deny: Json = { metadata: { name: "deny-all" }, spec: {} };
  applyDefaults("networking.k8s.io", "v1", "NetworkPolicy", deny);
  assert.equal(deny.spec, { podSelector: {}, policyTypes: ["Ingress"] });

  const np: Json = {
    spec: {
      podSelector: { matchLabels: { app: "db" } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }],
      egress: [{ ports: [{ port: 53, protocol: "UDP" }, { port: 443 }] }],
    },
  };
  applyDefaults("networking.k8s.io", "v1", "NetworkPolicy", np);
  assert.equal(np.spec, {
    podSelector: { matchLabels: { app: "db" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{
      from: [{ podSelector: { matchLabels: { app: "web" } } }],
      ports: [{ port: 5432, protocol: "TCP" }],
    }],
    egress: [{ ports: [{ port: 53, protocol: "UDP" }, { port: 443, protocol: "TCP" }] }],
  });

  const egressOnly: Json = { spec: { policyTypes: ["Egress"] } };
  applyDefaults("networking.k8s.io", "v1", "NetworkPolicy", egressOnly);
  assert.equal(egressOnly.spec.policyTypes, ["Egress"]);
});

test("Ingress has no defaults; IngressClass parameters are cluster-scoped unless said otherwise", () => {
  const ing: Json = {
    spec: {
      rules: [{
        http: {
          paths: [{
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: "s", port: { number: 80 } } },
          }],
        },
      }],
    },
  };
  const before = structuredClone(ing);
  applyDefaults("networking.k8s.io", "v1", "Ingress", ing);
  assert.equal(ing, before);
  const ic: Json = { spec: { controller: "example.com/ingress", parameters: { kind: "Params", name: "p" } } };
  applyDefaults("networking.k8s.io", "v1", "IngressClass", ic);
  assert.equal(ic.spec.parameters, { kind: "Params", name: "p", scope: "Cluster" });
  const plain: Json = { spec: { controller: "example.com/ingress" } };
  applyDefaults("networking.k8s.io", "v1", "IngressClass", plain);
  assert.equal(plain.spec, { controller: "example.com/ingress" });
});

test("EndpointSlice: ports unnamed and TCP, endpoint conditions always present", () => {
  const slice: Json = {
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"] }, { addresses: ["10.0.0.2"], conditions: { ready: true } }],
    ports: [{ port: 80 }, { name: "dns", port: 53, protocol: "UDP" }],
  };
  applyDefaults("discovery.k8s.io", "v1", "EndpointSlice", slice);
  assert.equal(slice, {
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"], conditions: {} }, {
      addresses: ["10.0.0.2"],
      conditions: { ready: true },
    }],
    ports: [{ port: 80, name: "", protocol: "TCP" }, { name: "dns", port: 53, protocol: "UDP" }],
  });
});

test.run();
