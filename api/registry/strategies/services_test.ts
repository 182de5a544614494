import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createApiServer } from "../../server.ts";
import { openLmdbStore } from "../../../storage/mod.ts";
import type { Store } from "../../../storage/store.ts";
import { bootstrapKubernetesService, bootstrapNamespaces, repairAllocations } from "../../../cli/up.ts";
import { NamespaceDeleter } from "../namespace_deleter.ts";

const TOKEN = "test-token";
// deno-lint-ignore no-explicit-any
type Json = any;

interface Ctx {
  store: Store;
  dir: string;
  server: ReturnType<typeof createApiServer>;
  deleter: NamespaceDeleter;
}

const t = suite<Ctx>("Service allocation", {} as Ctx);

async function start(ctx: Ctx) {
  ctx.store = await openLmdbStore({ path: ctx.dir, compactionIntervalMs: 0 });
  ctx.server = createApiServer({ store: ctx.store, token: TOKEN });
  await bootstrapNamespaces(ctx.server.registry);
  await repairAllocations(ctx.server.registry);
  await bootstrapKubernetesService(ctx.server.registry, { address: "127.0.0.1", port: 6443 });
  ctx.deleter = new NamespaceDeleter(ctx.server.registry);
  await ctx.deleter.start();
}

async function stop(ctx: Ctx) {
  ctx.deleter.stop();
  await ctx.store.close();
}

t.before.each(async (ctx) => {
  ctx.dir = await Deno.makeTempDir({ prefix: "kubedeno-svc-" });
  await start(ctx);
});

t.after.each(async (ctx) => {
  await stop(ctx);
  await Deno.remove(ctx.dir, { recursive: true });
});

function call(ctx: Ctx, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  return ctx.server.fetch(new Request(`https://kubedeno.test${path}`, init));
}

async function json(res: Response | Promise<Response>): Promise<{ status: number; body: Json }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

const SVCS = "/api/v1/namespaces/default/services";
const MERGE = { "content-type": "application/merge-patch+json" };

function svc(name: string, spec: Json = {}, meta: Json = {}) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, ...meta },
    spec: { selector: { app: name }, ports: [{ port: 80, protocol: "TCP", targetPort: 8080 }], ...spec },
  };
}

function inServiceRange(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return a === 10 && b >= 96 && b <= 111 && ip !== "10.96.0.0" && ip !== "10.111.255.255";
}

async function ipAddresses(ctx: Ctx): Promise<Map<string, string>> {
  const list = await json(call(ctx, "GET", "/apis/networking.k8s.io/v1/ipaddresses"));
  return new Map(
    list.body.items.map((
      i: Json,
    ) => [i.metadata.name, `${i.spec.parentRef.namespace}/${i.spec.parentRef.name}`]),
  );
}

async function nodePorts(ctx: Ctx): Promise<number[]> {
  return await ctx.server.registry.serviceAllocators.nodePorts.allocated();
}

t("the kubernetes Service holds 10.96.0.1 and points at the API server", async (ctx) => {
  const k = await json(call(ctx, "GET", `${SVCS}/kubernetes`));
  assert.is(k.status, 200);
  assert.equal(k.body.metadata.labels, { component: "apiserver", provider: "kubernetes" });
  assert.equal(k.body.spec.clusterIP, "10.96.0.1");
  assert.equal(k.body.spec.clusterIPs, ["10.96.0.1"]);
  assert.equal(k.body.spec.ipFamilies, ["IPv4"]);
  assert.is(k.body.spec.ipFamilyPolicy, "SingleStack");
  assert.equal(k.body.spec.ports, [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }]);
  assert.is(k.body.spec.type, "ClusterIP");
  const ep = await json(call(ctx, "GET", "/api/v1/namespaces/default/endpoints/kubernetes"));
  assert.equal(ep.body.subsets, [{
    addresses: [{ ip: "127.0.0.1" }],
    ports: [{ name: "https", port: 6443, protocol: "TCP" }],
  }]);
  assert.is(ep.body.metadata.labels["endpointslice.kubernetes.io/skip-mirror"], "true");
  const slice = await json(
    call(ctx, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes"),
  );
  assert.is(slice.body.metadata.labels["kubernetes.io/service-name"], "kubernetes");
  assert.equal(slice.body.endpoints, [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]);
  const cidr = await json(call(ctx, "GET", "/apis/networking.k8s.io/v1/servicecidrs/kubernetes"));
  assert.equal(cidr.body.spec.cidrs, ["10.96.0.0/12"]);
  assert.is(cidr.body.status.conditions[0].type, "Ready");
  assert.equal(await ipAddresses(ctx), new Map([["10.96.0.1", "default/kubernetes"]]));
  // Bootstrapping again changes nothing but a moved endpoint.
  await bootstrapKubernetesService(ctx.server.registry, { address: "10.1.2.3", port: 7443 });
  const again = await json(call(ctx, "GET", `${SVCS}/kubernetes`));
  assert.is(again.body.metadata.resourceVersion, k.body.metadata.resourceVersion);
  const moved = await json(call(ctx, "GET", "/api/v1/namespaces/default/endpoints/kubernetes"));
  assert.equal(moved.body.subsets, [{
    addresses: [{ ip: "10.1.2.3" }],
    ports: [{ name: "https", port: 7443, protocol: "TCP" }],
  }]);
  // The address is taken like any other.
  const taken = await json(call(ctx, "POST", SVCS, svc("squatter", { clusterIP: "10.96.0.1" })));
  assert.is(taken.status, 422);
});

t("a ClusterIP Service gets a unique IP in range and the IP family fields", async (ctx) => {
  const created = await json(call(ctx, "POST", SVCS, svc("web")));
  assert.is(created.status, 201);
  const spec = created.body.spec;
  assert.ok(inServiceRange(spec.clusterIP), spec.clusterIP);
  assert.equal(spec.clusterIPs, [spec.clusterIP]);
  assert.equal(spec.ipFamilies, ["IPv4"]);
  assert.is(spec.ipFamilyPolicy, "SingleStack");
  assert.equal(created.body.status, { loadBalancer: {} });
  assert.is(spec.ports[0].nodePort, undefined);
  const got = await json(call(ctx, "GET", `${SVCS}/web`));
  assert.equal(got.body.spec.clusterIPs, spec.clusterIPs);
  assert.is((await ipAddresses(ctx)).get(spec.clusterIP), "default/web");
  // Only the singular field set: the plural follows.
  const single = await json(call(ctx, "POST", SVCS, svc("single", { clusterIP: "10.96.0.20" })));
  assert.equal(single.body.spec.clusterIPs, ["10.96.0.20"]);
});

t("50 Services created at once all get different IPs", async (ctx) => {
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => json(call(ctx, "POST", SVCS, svc(`s${i}`)))),
  );
  const ips = results.map((r) => {
    assert.is(r.status, 201, JSON.stringify(r.body));
    return r.body.spec.clusterIP;
  });
  assert.is(new Set([...ips, "10.96.0.1"]).size, 51);
  assert.is((await ipAddresses(ctx)).size, 51);
});

t("ExternalName gets no IP fields; headless keeps None and gets its families", async (ctx) => {
  const ext = await json(
    call(ctx, "POST", SVCS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ext" },
      spec: { type: "ExternalName", externalName: "example.com" },
    }),
  );
  assert.is(ext.status, 201);
  assert.is(ext.body.spec.clusterIP, undefined);
  assert.is(ext.body.spec.clusterIPs, undefined);
  assert.is(ext.body.spec.ipFamilies, undefined);
  assert.is(ext.body.spec.ipFamilyPolicy, undefined);
  const headless = await json(call(ctx, "POST", SVCS, svc("headless", { clusterIP: "None" })));
  assert.is(headless.status, 201);
  assert.is(headless.body.spec.clusterIP, "None");
  assert.equal(headless.body.spec.clusterIPs, ["None"]);
  assert.equal(headless.body.spec.ipFamilies, ["IPv4"]);
  assert.is(headless.body.spec.ipFamilyPolicy, "SingleStack");
  const bare = await json(
    call(ctx, "POST", SVCS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "bare" },
      spec: { clusterIP: "None" },
    }),
  );
  assert.equal(bare.body.spec.ipFamilies, ["IPv4", "IPv6"]);
  assert.is(bare.body.spec.ipFamilyPolicy, "RequireDualStack");
  const dual = await json(call(ctx, "POST", SVCS, svc("dual", { ipFamilyPolicy: "RequireDualStack" })));
  assert.is(dual.status, 422);
  assert.is(
    dual.body.message,
    'Service "dual" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
  );
  const v6 = await json(
    call(ctx, "POST", SVCS, svc("v6", { clusterIP: "fd00::10", clusterIPs: ["fd00::10"] })),
  );
  assert.is(v6.status, 422);
  assert.is(
    v6.body.message,
    'Service "v6" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::10"}: IPv6 is not configured on this cluster',
  );
  assert.equal([...(await ipAddresses(ctx)).keys()], ["10.96.0.1"]);
});

t("NodePort and LoadBalancer Services get node ports in range; health checks too", async (ctx) => {
  const np = await json(call(
    ctx,
    "POST",
    SVCS,
    svc("np", {
      type: "NodePort",
      ports: [{ name: "a", port: 80, protocol: "TCP" }, { name: "b", port: 81, protocol: "TCP" }, {
        name: "c",
        port: 80,
        protocol: "UDP",
      }],
    }),
  ));
  assert.is(np.status, 201, JSON.stringify(np.body));
  const [a, b, c] = np.body.spec.ports.map((p: Json) => p.nodePort);
  for (const p of [a, b]) assert.ok(p >= 30000 && p <= 32767, String(p));
  assert.is.not(a, b);
  assert.is(c, a, "ports sharing a number share a node port");
  assert.ok(inServiceRange(np.body.spec.clusterIP));
  const lb = await json(
    call(ctx, "POST", SVCS, svc("lb", { type: "LoadBalancer", externalTrafficPolicy: "Local" })),
  );
  assert.is(lb.status, 201);
  const hc = lb.body.spec.healthCheckNodePort;
  assert.ok(hc >= 30000 && hc <= 32767 && hc !== lb.body.spec.ports[0].nodePort, String(hc));
  const noPorts = await json(
    call(ctx, "POST", SVCS, svc("lb2", { type: "LoadBalancer", allocateLoadBalancerNodePorts: false })),
  );
  assert.is(noPorts.body.spec.ports[0].nodePort, undefined);
  assert.is(noPorts.body.spec.healthCheckNodePort, undefined);
  assert.equal(await nodePorts(ctx), [a, b, lb.body.spec.ports[0].nodePort, hc].sort((x, y) => x - y));
});

t("a taken or out-of-range IP or port is refused with upstream's message", async (ctx) => {
  assert.is(
    (await call(
      ctx,
      "POST",
      SVCS,
      svc("dns", {
        clusterIP: "10.96.0.10",
        type: "NodePort",
        ports: [{ port: 53, protocol: "UDP", nodePort: 30080 }],
      }),
    )).status,
    201,
  );
  const ip = await json(
    call(ctx, "POST", SVCS, svc("b", { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"] })),
  );
  assert.is(ip.status, 422);
  assert.is(ip.body.reason, "Invalid");
  assert.is(
    ip.body.message,
    'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
  );
  assert.equal(ip.body.details.causes, [{
    reason: "FieldValueInvalid",
    message:
      'Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    field: "spec.clusterIPs",
  }]);
  const outside = await json(call(ctx, "POST", SVCS, svc("c", { clusterIP: "1.1.1.1" })));
  assert.is(
    outside.body.message,
    'Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"1.1.1.1"}: failed to allocate IP 1.1.1.1: the provided network does not match the current range',
  );
  const port = await json(
    call(
      ctx,
      "POST",
      SVCS,
      svc("d", { type: "NodePort", ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }] }),
    ),
  );
  assert.is(port.status, 422);
  assert.is(
    port.body.message,
    'Service "d" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
  );
  const range = await json(
    call(
      ctx,
      "POST",
      SVCS,
      svc("e", { type: "NodePort", ports: [{ port: 80, protocol: "TCP", nodePort: 8080 }] }),
    ),
  );
  assert.is(
    range.body.message,
    'Service "e" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
  const hc = await json(
    call(
      ctx,
      "POST",
      SVCS,
      svc("f", { type: "LoadBalancer", externalTrafficPolicy: "Local", healthCheckNodePort: 30080 }),
    ),
  );
  assert.is(hc.status, 500);
  assert.is(
    hc.body.message,
    "Internal error occurred: failed to allocate requested HealthCheck NodePort 30080: provided port is already allocated",
  );
  // Nothing of the refused Services stays allocated.
  assert.equal([...(await ipAddresses(ctx)).keys()].sort(), ["10.96.0.1", "10.96.0.10"]);
  assert.equal(await nodePorts(ctx), [30080]);
});

t("a write that fails after allocating gives everything back", async (ctx) => {
  assert.is((await call(ctx, "POST", SVCS, svc("dup"))).status, 201);
  const before = await ipAddresses(ctx);
  const again = await json(
    call(
      ctx,
      "POST",
      SVCS,
      svc("dup", {
        clusterIP: "10.96.0.50",
        type: "NodePort",
        ports: [{ port: 80, protocol: "TCP", nodePort: 30050 }],
      }),
    ),
  );
  assert.is(again.status, 409);
  assert.equal(await ipAddresses(ctx), before);
  assert.equal(await nodePorts(ctx), []);
  assert.is((await call(ctx, "POST", SVCS, svc("other", { clusterIP: "10.96.0.50" }))).status, 201);
});

t("delete frees the IP and ports: the same explicit values can be taken again", async (ctx) => {
  const spec = {
    clusterIP: "10.96.0.10",
    type: "NodePort",
    ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }],
  };
  assert.is((await call(ctx, "POST", SVCS, svc("a", spec))).status, 201);
  assert.is((await call(ctx, "POST", SVCS, svc("b", spec))).status, 422);
  const del = await call(ctx, "DELETE", `${SVCS}/a`);
  assert.is(del.status, 200);
  await del.text();
  assert.not.ok((await ipAddresses(ctx)).has("10.96.0.10"));
  assert.equal(await nodePorts(ctx), []);
  assert.is((await call(ctx, "POST", SVCS, svc("b", spec))).status, 201);
  // A dry-run delete keeps them.
  const dry = await call(ctx, "DELETE", `${SVCS}/b?dryRun=All`);
  assert.is(dry.status, 200);
  await dry.text();
  assert.is((await ipAddresses(ctx)).get("10.96.0.10"), "default/b");
});

t("a finalizer keeps the IP until the Service is really gone", async (ctx) => {
  assert.is(
    (await call(
      ctx,
      "POST",
      SVCS,
      svc("held", { clusterIP: "10.96.0.30" }, { finalizers: ["example.com/hold"] }),
    )).status,
    201,
  );
  const del = await json(call(ctx, "DELETE", `${SVCS}/held`));
  assert.ok(del.body.metadata.deletionTimestamp);
  assert.is((await ipAddresses(ctx)).get("10.96.0.30"), "default/held");
  const patched = await call(ctx, "PATCH", `${SVCS}/held`, { metadata: { finalizers: null } }, MERGE);
  assert.is(patched.status, 200);
  await patched.text();
  assert.is((await call(ctx, "GET", `${SVCS}/held`)).status, 404);
  assert.not.ok((await ipAddresses(ctx)).has("10.96.0.30"));
});

t("dryRun=All allocates nothing and answers placeholder values", async (ctx) => {
  const dry = await json(call(ctx, "POST", `${SVCS}?dryRun=All`, svc("dry", { type: "NodePort" })));
  assert.is(dry.status, 201);
  assert.is(dry.body.spec.clusterIP, "10.96.0.0");
  assert.is(dry.body.spec.ports[0].nodePort, 32769);
  assert.equal(dry.body.spec.ipFamilies, ["IPv4"]);
  assert.equal([...(await ipAddresses(ctx)).keys()], ["10.96.0.1"]);
  assert.equal(await nodePorts(ctx), []);
  assert.is((await call(ctx, "GET", `${SVCS}/dry`)).status, 404);
  const explicit = await json(
    call(
      ctx,
      "POST",
      `${SVCS}?dryRun=All`,
      svc("dry", {
        clusterIP: "10.96.0.40",
        type: "NodePort",
        ports: [{ port: 80, protocol: "TCP", nodePort: 30040 }],
      }),
    ),
  );
  assert.is(explicit.status, 201);
  assert.is(explicit.body.spec.clusterIP, "10.96.0.40");
  const outside = await json(call(ctx, "POST", `${SVCS}?dryRun=All`, svc("dry", { clusterIP: "1.1.1.1" })));
  assert.is(
    outside.body.message,
    'Service "dry" is invalid: spec.clusterIPs: Invalid value: []string{"1.1.1.1"}: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  );
  assert.is(
    (await call(
      ctx,
      "POST",
      SVCS,
      svc("real", {
        clusterIP: "10.96.0.40",
        type: "NodePort",
        ports: [{ port: 80, protocol: "TCP", nodePort: 30040 }],
      }),
    )).status,
    201,
  );
  // A dry-run update that would change the type allocates nothing either.
  const dryPatch = await json(
    call(ctx, "PATCH", `${SVCS}/real?dryRun=All`, { spec: { type: "ClusterIP" } }, MERGE),
  );
  assert.is(dryPatch.status, 200);
  assert.is(dryPatch.body.spec.ports[0].nodePort, undefined);
  assert.equal(await nodePorts(ctx), [30040]);
});

t(
  "updates keep what they keep, allocate on ClusterIP→NodePort and free on NodePort→ClusterIP",
  async (ctx) => {
    const created = await json(call(ctx, "POST", SVCS, svc("u")));
    const ip = created.body.spec.clusterIP;
    // A PUT of the original manifest (no clusterIP) keeps the IP.
    const put = await json(
      call(ctx, "PUT", `${SVCS}/u`, { ...svc("u"), metadata: { name: "u", labels: { v: "2" } } }),
    );
    assert.is(put.status, 200, JSON.stringify(put.body));
    assert.is(put.body.spec.clusterIP, ip);
    assert.equal(put.body.spec.clusterIPs, [ip]);
    const toNodePort = await json(call(ctx, "PATCH", `${SVCS}/u`, { spec: { type: "NodePort" } }, MERGE));
    assert.is(toNodePort.status, 200, JSON.stringify(toNodePort.body));
    const port = toNodePort.body.spec.ports[0].nodePort;
    assert.ok(port >= 30000 && port <= 32767);
    assert.is(toNodePort.body.spec.clusterIP, ip);
    assert.equal(await nodePorts(ctx), [port]);
    // Re-sending the spec without the node port keeps it.
    const resend = await json(call(ctx, "PUT", `${SVCS}/u`, { ...svc("u", { type: "NodePort" }) }));
    assert.is(resend.body.spec.ports[0].nodePort, port);
    // Changing a port's node port takes the new one and frees the old.
    const moved = await json(
      call(ctx, "PATCH", `${SVCS}/u`, {
        spec: { ports: [{ port: 80, protocol: "TCP", targetPort: 8080, nodePort: 31111 }] },
      }, MERGE),
    );
    assert.is(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(await nodePorts(ctx), [31111]);
    const back = await json(call(ctx, "PATCH", `${SVCS}/u`, { spec: { type: "ClusterIP" } }, MERGE));
    assert.is(back.status, 200, JSON.stringify(back.body));
    assert.is(back.body.spec.ports[0].nodePort, undefined);
    assert.equal(await nodePorts(ctx), []);
    // The cluster IP may not change.
    const change = await json(
      call(
        ctx,
        "PATCH",
        `${SVCS}/u`,
        { spec: { clusterIP: "10.96.0.99", clusterIPs: ["10.96.0.99"] } },
        MERGE,
      ),
    );
    assert.is(change.status, 422);
    assert.match(
      change.body.message,
      /spec.clusterIPs\[0\]: Invalid value: \[\]string\{"10.96.0.99"\}: may not change once set/,
    );
    assert.not.ok((await ipAddresses(ctx)).has("10.96.0.99"));
    // To ExternalName frees the IP; back to ClusterIP takes a new one.
    const ext = await json(
      call(ctx, "PATCH", `${SVCS}/u`, { spec: { type: "ExternalName", externalName: "example.com" } }, MERGE),
    );
    assert.is(ext.status, 200, JSON.stringify(ext.body));
    assert.is(ext.body.spec.clusterIP, undefined);
    assert.is(ext.body.spec.ipFamilies, undefined);
    assert.not.ok((await ipAddresses(ctx)).has(ip));
    const again = await json(
      call(ctx, "PATCH", `${SVCS}/u`, { spec: { type: "ClusterIP", externalName: null } }, MERGE),
    );
    assert.is(again.status, 200, JSON.stringify(again.body));
    assert.ok(inServiceRange(again.body.spec.clusterIP));
    assert.is((await ipAddresses(ctx)).get(again.body.spec.clusterIP), "default/u");
    // LoadBalancer with Local traffic gets a health-check port; back to Cluster frees it.
    const lb = await json(
      call(
        ctx,
        "PATCH",
        `${SVCS}/u`,
        { spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" } },
        MERGE,
      ),
    );
    const hc = lb.body.spec.healthCheckNodePort;
    assert.ok(hc >= 30000, JSON.stringify(lb.body));
    assert.is((await nodePorts(ctx)).length, 2);
    const cluster = await json(
      call(ctx, "PATCH", `${SVCS}/u`, { spec: { externalTrafficPolicy: "Cluster" } }, MERGE),
    );
    assert.is(cluster.body.spec.healthCheckNodePort, undefined);
    assert.equal(await nodePorts(ctx), [cluster.body.spec.ports[0].nodePort]);
  },
);

t(
  "Services stored before IPs were kept get one on their next update",
  async (ctx) => {
    const meta = (name: string) => ({
      name,
      namespace: "default",
      uid: crypto.randomUUID(),
      creationTimestamp: "2025-01-01T00:00:00Z",
    });
    await ctx.store.create("/registry/services/default/legacy", {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("legacy"),
      spec: { selector: { app: "l" }, ports: [{ port: 80, protocol: "TCP" }] },
    });
    await ctx.store.create("/registry/services/default/legacy-headless", {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("legacy-headless"),
      spec: { clusterIP: "None", selector: { app: "l" }, ports: [{ port: 80, protocol: "TCP" }] },
    });
    const legacy = await json(
      call(ctx, "PATCH", `${SVCS}/legacy`, { metadata: { labels: { touched: "yes" } } }, MERGE),
    );
    assert.is(legacy.status, 200, JSON.stringify(legacy.body));
    assert.ok(inServiceRange(legacy.body.spec.clusterIP));
    assert.equal(legacy.body.spec.ipFamilies, ["IPv4"]);
    assert.is((await ipAddresses(ctx)).get(legacy.body.spec.clusterIP), "default/legacy");
    const headless = await json(
      call(ctx, "PATCH", `${SVCS}/legacy-headless`, { metadata: { labels: { touched: "yes" } } }, MERGE),
    );
    assert.is(headless.status, 200, JSON.stringify(headless.body));
    assert.equal(headless.body.spec.clusterIPs, ["None"]);
    assert.equal([headless.body.spec.ipFamilyPolicy, headless.body.spec.ipFamilies], ["SingleStack", [
      "IPv4",
    ]]);
  },
);

t("deleting a namespace frees what its Services held", async (ctx) => {
  await call(ctx, "POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "doomed" },
  });
  const created = await json(
    call(
      ctx,
      "POST",
      "/api/v1/namespaces/doomed/services",
      svc("x", { clusterIP: "10.96.0.77", type: "NodePort" }),
    ),
  );
  assert.is(created.status, 201);
  assert.is((await nodePorts(ctx)).length, 1);
  await (await call(ctx, "DELETE", "/api/v1/namespaces/doomed")).text();
  const deadline = Date.now() + 5000;
  while ((await call(ctx, "GET", "/api/v1/namespaces/doomed")).status !== 404) {
    if (Date.now() > deadline) throw new Error("namespace was not removed");
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.not.ok((await ipAddresses(ctx)).has("10.96.0.77"));
  assert.equal(await nodePorts(ctx), []);
});

t("allocations survive a restart; the repair at start frees leaks", async (ctx) => {
  const a = await json(
    call(
      ctx,
      "POST",
      SVCS,
      svc("a", {
        clusterIP: "10.96.0.10",
        type: "NodePort",
        ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }],
      }),
    ),
  );
  const b = await json(call(ctx, "POST", SVCS, svc("b", { type: "NodePort" })));
  // A crash between allocating and storing leaves these behind.
  await ctx.server.registry.serviceAllocators.ips.allocate("10.96.0.66", {
    namespace: "default",
    name: "never-stored",
  });
  await ctx.server.registry.serviceAllocators.nodePorts.allocate(30666);
  await stop(ctx);
  await start(ctx);
  const k = await json(call(ctx, "GET", `${SVCS}/kubernetes`));
  assert.is(k.body.spec.clusterIP, "10.96.0.1");
  const taken = await json(call(ctx, "POST", SVCS, svc("c", { clusterIP: "10.96.0.10" })));
  assert.match(taken.body.message, /failed to allocate IP 10.96.0.10: provided IP is already allocated/);
  const takenB = await json(call(ctx, "POST", SVCS, svc("c", { clusterIP: b.body.spec.clusterIP })));
  assert.match(takenB.body.message, /provided IP is already allocated/);
  const port = await json(
    call(
      ctx,
      "POST",
      SVCS,
      svc("c", { type: "NodePort", ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }] }),
    ),
  );
  assert.match(port.body.message, /provided port is already allocated/);
  assert.equal(
    await ipAddresses(ctx),
    new Map([["10.96.0.1", "default/kubernetes"], ["10.96.0.10", "default/a"], [
      b.body.spec.clusterIP,
      "default/b",
    ]]),
  );
  assert.equal(await nodePorts(ctx), [30080, b.body.spec.ports[0].nodePort].sort((x, y) => x - y));
  assert.is(
    (await call(
      ctx,
      "POST",
      SVCS,
      svc("d", {
        clusterIP: "10.96.0.66",
        type: "NodePort",
        ports: [{ port: 80, protocol: "TCP", nodePort: 30666 }],
      }),
    )).status,
    201,
  );
  assert.ok(a.body.metadata.uid);
});

t.run();
