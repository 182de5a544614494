/**
 * Starts the API server process: opens the store, makes or reuses certificates and the admin
 * token, bootstraps the system namespaces and the `kubernetes` Service, and serves HTTPS
 * (HTTP/2 and HTTP/1.1).
 */

import { openLmdbStore } from "../storage/mod.ts";
import { ensurePki } from "./pki.ts";
import { createApiServer } from "../api/server.ts";
import { loadOpenApi } from "../openapi/serve.ts";
import { NamespaceDeleter } from "../api/registry/namespace_deleter.ts";
import { isStatusError } from "../machinery/status.ts";
import { jsonEqual, type KubeObject, rfc3339 } from "../machinery/object_meta.ts";
import type { Registry } from "../api/registry/mod.ts";
import { repairServiceAllocations } from "../api/registry/strategies/services.ts";
import { parseIPv4 } from "../api/registry/allocators/ip_allocator.ts";
import type { ServerFlags } from "./flags.ts";
import { Client } from "../machinery/client.ts";
import { runComponents, runSimulatedNodes } from "./components.ts";
import { runNodes } from "./node.ts";

/** The namespaces every cluster starts with. */
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** Creates the system namespaces that are missing. */
export async function bootstrapNamespaces(registry: Registry): Promise<void> {
  const namespaces = registry.mustGet("", "namespaces");
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await namespaces.create("", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    } catch (err) {
      if (!isStatusError(err, "AlreadyExists")) throw err;
    }
  }
}

/**
 * Makes the cluster IP and node port allocators agree with the stored Services: frees what a
 * crash between allocating and storing left behind, marks what Services hold. Run it before
 * serving.
 */
export async function repairAllocations(registry: Registry): Promise<void> {
  const { items } = await registry.mustGet("", "services").list("");
  const result = await repairServiceAllocations(items, registry.serviceAllocators);
  const freed = [...result.ipsReleased, ...result.portsFreed];
  if (freed.length) console.error(`kubedeno: freed leaked service allocations: ${freed.join(", ")}`);
}

export interface KubernetesServiceOptions {
  /** The IP clients reach this API server at (the `kubernetes` endpoints). */
  address: string;
  /** The port this API server serves on (the Service's targetPort, the endpoints' port). */
  port: number;
}

const DEFAULT_SERVICE_CIDR_NAME = "kubernetes";

/**
 * The in-cluster face of the API server, as kube-apiserver keeps it: the default ServiceCIDR,
 * the `kubernetes` Service in `default` on the first IP of the service range (created when
 * missing, never changed), and its Endpoints and EndpointSlice pointing at this server (made to
 * follow the current address and port).
 */
export async function bootstrapKubernetesService(
  registry: Registry,
  options: KubernetesServiceOptions,
): Promise<void> {
  const ips = registry.serviceAllocators.ips;
  await ensureServiceCidr(registry, ips.cidr);
  const services = registry.mustGet("", "services");
  try {
    await services.get("default", "kubernetes");
  } catch (err) {
    if (!isStatusError(err, "NotFound")) throw err;
    await services.create("default", {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { component: "apiserver", provider: "kubernetes" },
      },
      spec: {
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: options.port }],
        clusterIP: ips.firstAddress,
        clusterIPs: [ips.firstAddress],
        ipFamilyPolicy: "SingleStack",
        internalTrafficPolicy: "Cluster",
        sessionAffinity: "None",
        type: "ClusterIP",
      },
    });
  }
  const port = { name: "https", port: options.port, protocol: "TCP" };
  await ensureObject(registry, "", "endpoints", {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
    },
    subsets: [{ addresses: [{ ip: options.address }], ports: [port] }],
  }, ["subsets"]);
  await ensureObject(registry, "discovery.k8s.io", "endpointslices", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { "kubernetes.io/service-name": "kubernetes" },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [options.address], conditions: { ready: true } }],
    ports: [port],
  }, ["addressType", "endpoints", "ports"]);
}

/** Creates `want` in `default`, or brings the `fields` and labels of the stored one to it. */
async function ensureObject(
  registry: Registry,
  group: string,
  resource: string,
  want: KubeObject,
  fields: string[],
): Promise<void> {
  const store = registry.mustGet(group, resource);
  const name = want.metadata!.name!;
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: KubeObject;
    try {
      current = await store.get("default", name);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
      try {
        await store.create("default", structuredClone(want));
        return;
      } catch (createErr) {
        if (isStatusError(createErr, "AlreadyExists")) continue;
        throw createErr;
      }
    }
    const labels = { ...current.metadata?.labels, ...want.metadata?.labels };
    const next: KubeObject = { ...current, metadata: { ...current.metadata, labels } };
    for (const f of fields) next[f] = want[f];
    if (jsonEqual(next, current)) return;
    try {
      await store.update("default", name, next);
      return;
    } catch (err) {
      if (!isStatusError(err, "Conflict")) throw err;
    }
  }
}

/** The `kubernetes` ServiceCIDR naming the service range, Ready. */
async function ensureServiceCidr(registry: Registry, cidr: string): Promise<void> {
  const store = registry.mustGet("networking.k8s.io", "servicecidrs");
  let current: KubeObject;
  try {
    current = await store.get("", DEFAULT_SERVICE_CIDR_NAME);
  } catch (err) {
    if (!isStatusError(err, "NotFound")) throw err;
    try {
      current = await store.create("", {
        apiVersion: "networking.k8s.io/v1",
        kind: "ServiceCIDR",
        metadata: { name: DEFAULT_SERVICE_CIDR_NAME },
        spec: { cidrs: [cidr] },
      });
    } catch (createErr) {
      if (!isStatusError(createErr, "AlreadyExists")) throw createErr;
      current = await store.get("", DEFAULT_SERVICE_CIDR_NAME);
    }
  }
  const status = (current.status ?? {}) as { conditions?: Array<{ type?: string }> };
  const cidrs = (current.spec as { cidrs?: string[] } | undefined)?.cidrs ?? [];
  if (current.metadata?.deletionTimestamp || cidrs.length !== 1 || cidrs[0] !== cidr) return;
  if ((status.conditions ?? []).some((c) => c.type === "Ready")) return;
  await store.update("", DEFAULT_SERVICE_CIDR_NAME, {
    ...current,
    status: {
      conditions: [{
        type: "Ready",
        status: "True",
        lastTransitionTime: rfc3339(),
        reason: "",
        message: "Kubernetes default Service CIDR is ready",
      }],
    },
  }, { subresource: "status" }).catch((err) => {
    if (!isStatusError(err, "Conflict")) throw err;
  });
}

/** The IP the `kubernetes` endpoints name: the bind address when it is one, else 127.0.0.1. */
export function endpointAddress(host: string): string {
  return parseIPv4(host) !== undefined && host !== "0.0.0.0" ? host : "127.0.0.1";
}

function kubeconfigHost(bind: string): string {
  if (bind === "0.0.0.0" || bind === "" || bind === "::") return "127.0.0.1";
  return bind;
}

/** Runs until SIGINT or SIGTERM; with `withComponents`, the controllers, scheduler and simulated nodes too. */
export async function runApiServer(flags: ServerFlags, withComponents = false): Promise<void> {
  const started = performance.now();
  await Deno.mkdir(flags.dataDir, { recursive: true });
  const [store, openapi] = await Promise.all([
    openLmdbStore({ path: `${flags.dataDir}/db` }),
    loadOpenApi(),
  ]);
  const host = kubeconfigHost(flags.bind);
  const extraSans = host === "127.0.0.1" || host === "localhost" ? [] : [host];
  let ready = false;
  let port = flags.port;
  const pki = await ensurePki({ dataDir: flags.dataDir, host, port, extraSans });
  const server = createApiServer({
    store,
    token: pki.token,
    openapi,
    serverAddress: `${host}:${port}`,
    isReady: () => ready,
    admission: {
      notReadySeconds: flags.defaultNotReadyTolerationSeconds,
      unreachableSeconds: flags.defaultUnreachableTolerationSeconds,
    },
  });
  await bootstrapNamespaces(server.registry);
  await repairAllocations(server.registry);
  const deleter = new NamespaceDeleter(server.registry);
  await deleter.start();

  const abort = new AbortController();
  const httpServer = Deno.serve({
    hostname: flags.bind,
    port,
    cert: pki.certPem,
    key: pki.keyPem,
    signal: abort.signal,
    onListen: (addr) => {
      port = (addr as Deno.NetAddr).port;
    },
  }, server.fetch);
  port = httpServer.addr.port;
  await bootstrapKubernetesService(server.registry, { address: endpointAddress(host), port }).catch((err) => {
    console.error("kubedeno: creating the kubernetes Service failed:", (err as Error).message);
  });
  const components = new AbortController();
  const stopSimulator: Array<() => Promise<void>> = [];
  let startNodes: (() => void) | undefined;
  if (withComponents) {
    // In one process the components reach the API through its own handler: no sockets, no TLS.
    const client = new Client({
      server: `https://${host}:${port}`,
      token: pki.token,
      userAgent: "kubedeno/in-process",
      transport: (request) => server.fetch(request),
    });
    const ctx = await runComponents(
      client,
      flags,
      { controllers: true, scheduler: true },
      components.signal,
      {
        rootCA: pki.caCertPem,
        volumesDir: `${flags.dataDir}/volumes`,
      },
    );
    const realNodes = flags.nodes ?? (flags.simulatedNodes > 0 ? 0 : 1);
    if (realNodes > 0) {
      // Nodes join as kubelets do, after the API server is up: its readiness does not wait for them.
      startNodes = () => {
        const starting = runNodes(client, flags, realNodes, { host: endpointAddress(host), port }).catch(
          (err) => {
            console.error(`kubedeno: starting the node failed: ${(err as Error).message}`);
            return [];
          },
        );
        stopSimulator.push(async () => {
          await Promise.all((await starting).map((a) => a.stop()));
        });
      };
    }
    if (flags.simulatedNodes > 0) {
      const sim = await runSimulatedNodes(
        client,
        flags.simulatedNodes,
        0,
        flags.nodeMonitorGracePeriodMs,
        ctx.informers,
      );
      stopSimulator.push(() => sim.stop());
    }
  }
  ready = true;
  const ms = (performance.now() - started).toFixed(0);
  console.error(`kubedeno: serving on https://${host}:${port} (ready in ${ms} ms)`);
  console.log(`export KUBECONFIG=${pki.kubeconfigPath}`);
  startNodes?.();

  const shutdown = async () => {
    ready = false;
    deleter.stop();
    components.abort();
    await Promise.all(stopSimulator.map((stop) => stop().catch(() => {})));
    // End watches cleanly so clients reconnect, give the last bytes a moment, then stop.
    server.closeWatches();
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await Promise.race([httpServer.finished.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    await store.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  await httpServer.finished;
}
