/**
 * The node agent: a real node, as kubelet is one. It registers a Node with the host's capacity,
 * renews its Lease every 10 s, watches the pods bound to it, runs them through a pod runtime
 * (`process` first) with one pod worker each, reports their status, and serves their logs on its
 * own HTTPS port for the API server to proxy.
 */

import type { Client, ResourceClient } from "../../machinery/client.ts";
import { type KubeObject, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { Informer } from "../../controllers/framework/informer.ts";
import { Controller } from "../../controllers/framework/controller.ts";
import { type EventRecorder, EventSink } from "../../controllers/framework/events.ts";
import { keyOf, splitKey } from "../../controllers/framework/cache.ts";
import { selfSignedServing } from "../../cli/pki.ts";
import { NodeLease } from "../lease.ts";
import { healthyConditions, kubeletLabels } from "../node_object.ts";
import { ensureHostPackages } from "../host_setup.ts";
import { ImageCatalog } from "../runtime/images.ts";
import { ProcessRuntime, stopLeftovers } from "../runtime/process.ts";
import type { PodRuntime } from "../runtime/runtime.ts";
import { type HostFacts, hostFacts } from "./node_info.ts";
import { BridgeNetwork, canMakeNetworks, HostNetwork, type PodNetwork } from "./network.ts";
import { type Backoff, DEFAULT_BACKOFF, PodWorker } from "./pod_worker.ts";
import { NodeAuthorizer, nodeHandler } from "./server.ts";

// deno-lint-ignore no-explicit-any
type Json = any;
type Obj = KubeObject & { spec?: Json; status?: Json };

export interface NodeAgentOptions {
  client: Client;
  /** The Node's name (default: the host name). */
  name: string;
  /** Pods, logs and image links live here. */
  rootDir: string;
  runtime?: PodRuntime;
  /** More image catalog entries (JSON file). */
  imageCatalog?: string;
  /** The InternalIP to report (default: the first non-loopback IPv4 address). */
  address?: string;
  /** The node server's port (default 10250; 0 picks a free one). */
  port?: number;
  /** The API server as containers reach it (KUBERNETES_SERVICE_HOST/PORT). */
  apiServer: { host: string; port: number };
  backoff?: Backoff;
  leaseRenewMs?: number;
  labels?: Record<string, string>;
  /** Pods on the host's network even where namespaces could be made. */
  hostNetworkOnly?: boolean;
}

export class NodeAgent {
  readonly name: string;
  readonly #options: NodeAgentOptions;
  readonly #client: Client;
  readonly #nodes: ResourceClient<Obj>;
  readonly #pods: ResourceClient<Obj>;
  readonly #runtime: PodRuntime;
  readonly #workers = new Map<string, PodWorker>();
  readonly #informer: Informer<Obj>;
  readonly #controller: Controller;
  readonly #lease: NodeLease;
  readonly #events: EventRecorder;
  #facts?: HostFacts;
  #images?: ImageCatalog;
  #server?: Deno.HttpServer;
  #leaseTimer?: ReturnType<typeof setInterval>;
  #port = 0;
  #stopping = false;
  #network?: PodNetwork;

  constructor(options: NodeAgentOptions) {
    this.name = options.name;
    this.#options = options;
    this.#client = options.client;
    this.#nodes = options.client.resource<Obj>("", "nodes");
    this.#pods = options.client.resource<Obj>("", "pods");
    this.#runtime = options.runtime ?? new ProcessRuntime();
    this.#lease = new NodeLease(
      options.client.resource("coordination.k8s.io", "leases"),
      this.#nodes,
      this.name,
    );
    this.#informer = new Informer<Obj>(this.#pods, {
      fieldSelector: `spec.nodeName=${this.name}`,
      initialBackoffMs: 200,
    });
    this.#controller = new Controller({ name: "kubelet", workers: 8, reconcile: (key) => this.#sync(key) });
    this.#events = new EventSink(options.client).recorder("kubelet", this.name);
  }

  /** The port the node server listens on. */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    await Deno.mkdir(`${this.#options.rootDir}/pods`, { recursive: true });
    // Containers an earlier run of this node left behind (it was killed) are stopped; their pods
    // start them again below. (Adopting them instead is not done yet.)
    const leftovers = await stopLeftovers(`${this.#options.rootDir}/pods`);
    if (leftovers) {
      console.error(`kubedeno: node ${this.name}: stopped ${leftovers} containers left by an earlier run`);
    }
    for (const missing of await ensureHostPackages()) {
      console.error(`kubedeno: node ${this.name}: missing ${missing}`);
    }
    this.#images = await ImageCatalog.load(`${this.#options.rootDir}/images`, this.#options.imageCatalog);
    this.#facts = await hostFacts({
      rootDir: this.#options.rootDir,
      runtime: this.#runtime,
      hostname: this.name,
      address: this.#options.address,
    });
    await this.#serve();
    await this.#register();
    this.#network = await this.#podNetwork();
    await this.#lease.renew();
    this.#leaseTimer = setInterval(() => {
      this.#lease.renew().catch((err) => console.error(`kubedeno: node ${this.name}: lease: ${err.message}`));
    }, this.#options.leaseRenewMs ?? 10_000);
    const enqueue = (pod: Obj) => this.#controller.enqueue(keyOf(pod));
    this.#informer.addEventHandler({ add: enqueue, update: (_, p) => enqueue(p), delete: enqueue });
    await this.#informer.start();
    this.#controller.run();
  }

  /** Stops watching and serving; the pods' processes are stopped too (no orphans left behind). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const killed = Promise.all([...this.#workers.values()].map((w) => w.kill()));
    if (this.#leaseTimer !== undefined) clearInterval(this.#leaseTimer);
    this.#informer.stop();
    await this.#controller.stop();
    await killed;
    await this.#network?.close();
    await this.#server?.shutdown();
  }

  async #serve(): Promise<void> {
    const ip = this.#facts!.addresses[0].address;
    const { certPem, keyPem } = await selfSignedServing(this.name, [
      ...new Set([this.name, ip, "127.0.0.1", "localhost"]),
    ]);
    const handler = nodeHandler(
      {
        nodeName: this.name,
        containerLog: (ns, pod, c, previous) => this.#containerLog(ns, pod, c, previous),
        execTarget: (ns, pod, c) => this.#execTarget(ns, pod, c),
        portForwardTarget: (ns, pod) => {
          const worker = this.#workers.get(`${ns}/${pod}`);
          if (!worker) {
            return { code: 404, message: `pod "${pod}" in namespace "${ns}" is not on node ${this.name}` };
          }
          return { podIP: worker.podIP, name: pod, uid: worker.pod.metadata?.uid ?? "" };
        },
        attachTarget: (ns, pod, c) => {
          const worker = this.#workers.get(`${ns}/${pod}`);
          if (!worker) {
            return { code: 404, message: `pod "${pod}" in namespace "${ns}" is not on node ${this.name}` };
          }
          return worker.attachTarget(c) ?? { code: 400, message: `container not found ("${c}")` };
        },
      },
      new NodeAuthorizer(this.#client, this.name),
    );
    const ready = Promise.withResolvers<number>();
    this.#server = Deno.serve({
      port: this.#options.port ?? 10250,
      hostname: "0.0.0.0",
      cert: certPem,
      key: keyPem,
      onListen: ({ port }) => ready.resolve(port),
      onError: (err) => {
        console.error(`kubedeno: node ${this.name}: ${(err as Error).message}`);
        return new Response("internal error", { status: 500 });
      },
    }, handler);
    this.#port = await ready.promise;
  }

  /**
   * A bridge and a namespace per pod when this process may make them and the node has a podCIDR
   * (the node IPAM controller gives one within seconds); otherwise the host's network.
   */
  async #podNetwork(): Promise<PodNetwork> {
    const hostIP = this.#facts!.addresses[0].address;
    if (this.#options.hostNetworkOnly || !(await canMakeNetworks())) return new HostNetwork(hostIP);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !this.#stopping) {
      const node = await this.#nodes.get("", this.name).catch(() => undefined);
      const cidr = node?.spec?.podCIDR;
      if (cidr) {
        const network = new BridgeNetwork(cidr, this.name, hostIP);
        try {
          await network.init();
          return network;
        } catch (err) {
          console.error(
            `kubedeno: node ${this.name}: pod network: ${(err as Error).message}; pods use the host's`,
          );
          return new HostNetwork(hostIP);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    console.error(`kubedeno: node ${this.name}: no podCIDR assigned; pods use the host's network`);
    return new HostNetwork(hostIP);
  }

  #nodeStatus(): Json {
    const f = this.#facts!;
    const now = rfc3339();
    return {
      capacity: f.capacity,
      allocatable: f.allocatable,
      conditions: healthyConditions(now),
      addresses: f.addresses,
      daemonEndpoints: { kubeletEndpoint: { Port: this.#port } },
      nodeInfo: f.nodeInfo,
    };
  }

  async #register(): Promise<void> {
    const node: Obj = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: this.name,
        labels: { ...kubeletLabels(this.name, this.#facts!.nodeInfo.architecture), ...this.#options.labels },
        annotations: { "node.alpha.kubernetes.io/ttl": "0" },
      },
      spec: {},
      status: this.#nodeStatus(),
    };
    try {
      await this.#nodes.create("", node);
    } catch (err) {
      if (!isStatusError(err, "AlreadyExists")) throw err;
      await this.#nodes.patch("", this.name, "merge", { status: this.#nodeStatus() }, {
        subresource: "status",
      });
    }
  }

  #containerLog(ns: string, name: string, container: string, previous: boolean) {
    const worker = this.#workers.get(`${ns}/${name}`);
    if (!worker) {
      return { code: 404, message: `pod "${name}" in namespace "${ns}" is not on node ${this.name}` };
    }
    const path = worker.logPath(container, previous);
    if (!path) {
      return previous
        ? { code: 400, message: `previous terminated container "${container}" in pod "${name}" not found` }
        : {
          code: 400,
          message: `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
        };
    }
    return { path, running: () => !previous && worker.isRunning(container) };
  }

  #execTarget(ns: string, name: string, container: string) {
    const worker = this.#workers.get(`${ns}/${name}`);
    if (!worker) {
      return { code: 404, message: `pod "${name}" in namespace "${ns}" is not on node ${this.name}` };
    }
    const target = worker.execTarget(container);
    if (!target) return { code: 400, message: `container not found ("${container}")` };
    return { runtime: this.#runtime, target };
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    if (this.#stopping) return;
    const pod = this.#informer.cache.get(key);
    let worker = this.#workers.get(key);
    if (!pod || (worker && worker.pod.metadata?.uid !== pod.metadata?.uid)) {
      // Gone (or replaced by a namesake): whatever ran for it stops now.
      await worker?.kill();
      this.#workers.delete(key);
      worker = undefined;
      if (!pod) return;
    }
    if (!worker) {
      worker = new PodWorker({
        runtime: this.#runtime,
        images: this.#images!,
        podsDir: `${this.#options.rootDir}/pods`,
        hostIP: this.#facts!.addresses[0].address,
        network: this.#network!,
        backoff: this.#options.backoff ?? DEFAULT_BACKOFF,
        clusterEnv: {
          KUBERNETES_SERVICE_HOST: this.#options.apiServer.host,
          KUBERNETES_SERVICE_PORT: String(this.#options.apiServer.port),
          KUBERNETES_SERVICE_PORT_HTTPS: String(this.#options.apiServer.port),
        },
        lookup: (kind, ns, name) =>
          this.#client.resource("", kind).get(kind === "persistentvolumes" ? "" : ns, name).catch(() =>
            undefined
          ),
        patchStatus: (p, status) => this.#patchStatus(p, status),
        remove: (p) => this.#remove(p),
        events: this.#events,
        wake: (afterMs = 0) => {
          if (afterMs > 0) this.#controller.queue.addAfter(key, afterMs);
          else this.#controller.enqueue(key);
        },
      }, pod);
      this.#workers.set(key, worker);
    } else worker.update(pod);
    try {
      await worker.sync();
    } catch (err) {
      if (isStatusError(err, "NotFound") || isStatusError(err, "Conflict")) return { requeueAfterMs: 200 };
      throw err;
    }
  }

  async #patchStatus(pod: Obj, status: Json): Promise<void> {
    const { namespace, name } = splitKey(keyOf(pod));
    await this.#pods.patch(namespace, name, "merge", { metadata: { uid: pod.metadata?.uid }, status }, {
      subresource: "status",
    });
  }

  async #remove(pod: Obj): Promise<void> {
    const { namespace, name } = splitKey(keyOf(pod));
    try {
      await this.#pods.delete(namespace, name, {
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata?.uid },
      });
    } catch (err) {
      if (!isStatusError(err, "NotFound") && !isStatusError(err, "Conflict")) throw err;
    }
  }
}
