/**
 * Simulated nodes: N `Node`s that register through the API, renew their Leases in
 * `kube-node-lease`, and move the pods bound to them through the stages of `stages.ts` (by
 * default: Running and Ready at once; commands that exit end Succeeded or Failed; deleted pods
 * removed). Nothing runs; one process carries thousands of nodes.
 *
 * A node whose annotation `kubedeno.io/heartbeat` is `stopped` stops renewing its Lease (and
 * reporting status) until the annotation goes, as if its machine had vanished.
 */

import type { Client, ResourceClient } from "../../machinery/client.ts";
import { type KubeObject, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { Informer } from "../../controllers/framework/informer.ts";
import type { InformerFactory } from "../../controllers/framework/informers.ts";
import { type EventRecorder, EventSink } from "../../controllers/framework/events.ts";
import { Controller } from "../../controllers/framework/controller.ts";
import { keyOf, splitKey } from "../../controllers/framework/cache.ts";
import { NodeLease } from "../lease.ts";
import { healthyConditions, kubeletLabels } from "../node_object.ts";
import { DEFAULT_STAGES, type Stage, stageFor, statusFor } from "./stages.ts";

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** Set to `stopped` on a simulated Node to stop its heartbeat. */
export const HEARTBEAT_ANNOTATION = "kubedeno.io/heartbeat";
/** Every simulated node carries this label. */
export const SIMULATED_LABEL = "kubedeno.io/simulated";
export const ZONES = ["zone-a", "zone-b", "zone-c"];

export interface SimulatorOptions {
  /** How many nodes. */
  nodes: number;
  /** Node names are `<prefix><index>`. */
  prefix?: string;
  /** First index (so several simulators can share a cluster). */
  start?: number;
  capacity?: Record<string, string>;
  /** Extra labels on every node. */
  labels?: Record<string, string>;
  /** Lease renewal interval (kubelet: 10 s) and duration (40 s). */
  leaseRenewMs?: number;
  leaseDurationSeconds?: number;
  stages?: Stage[];
  /** Concurrent pod status writes. */
  workers?: number;
  /**
   * Informers to share (in-process with the controllers): the simulator then uses their pod
   * and node caches instead of keeping its own copies.
   */
  informers?: InformerFactory;
}

const DEFAULT_CAPACITY = { cpu: "32", memory: "256Gi", pods: "110", "ephemeral-storage": "100Gi" };

/** The address facts of node `index`: its InternalIP and pod range. */
export function nodeAddresses(index: number): { hostIP: string; podCIDR: string } {
  const host = index + 1;
  return {
    hostIP: `172.${16 + (host >> 16)}.${(host >> 8) & 255}.${host & 255}`,
    podCIDR: `10.${128 + (index >> 8)}.${index & 255}.0/24`,
  };
}

interface SimNode {
  name: string;
  index: number;
  hostIP: string;
  podPrefix: string;
  nextPodIP: number;
  lease?: NodeLease;
  stopped: boolean;
}

export class NodeSimulator {
  readonly #client: Client;
  readonly #options: Required<Omit<SimulatorOptions, "informers">>;
  readonly #shared: boolean;
  readonly #nodesApi: ResourceClient<Obj>;
  readonly #leases: ResourceClient<Obj>;
  readonly #podsApi: ResourceClient<Obj>;
  readonly #nodes = new Map<string, SimNode>();
  readonly #podInformer: Informer<Obj>;
  readonly #nodeInformer: Informer<Obj>;
  readonly #podWorker: Controller;
  /** pod key → the stage it waits for and since when */
  readonly #waiting = new Map<string, { stage: string; since: number }>();
  readonly #podIPs = new Map<string, string>();
  readonly #events: EventSink;
  readonly #recorders = new Map<string, EventRecorder>();
  #leaseTimer?: ReturnType<typeof setInterval>;
  #leaseTick = 0;
  #stopping = false;

  constructor(client: Client, options: SimulatorOptions) {
    this.#client = client;
    this.#options = {
      prefix: "sim-node-",
      start: 0,
      capacity: DEFAULT_CAPACITY,
      labels: {},
      leaseRenewMs: 10_000,
      leaseDurationSeconds: 40,
      stages: DEFAULT_STAGES,
      workers: 64,
      ...options,
    };
    this.#nodesApi = client.resource<Obj>("", "nodes");
    this.#leases = client.resource<Obj>("coordination.k8s.io", "leases");
    this.#podsApi = client.resource<Obj>("", "pods");
    this.#events = new EventSink(client);
    for (let i = 0; i < this.#options.nodes; i++) {
      const index = this.#options.start + i;
      const { hostIP, podCIDR } = nodeAddresses(index);
      const name = `${this.#options.prefix}${index}`;
      this.#nodes.set(name, {
        name,
        index,
        hostIP,
        podPrefix: podCIDR.replace(/0\/24$/, ""),
        nextPodIP: 2,
        stopped: false,
      });
    }
    this.#shared = !!options.informers;
    this.#podInformer = options.informers?.informer<Obj>("", "pods") ??
      new Informer<Obj>(this.#podsApi, { fieldSelector: "spec.nodeName!=", initialBackoffMs: 100 });
    this.#nodeInformer = options.informers?.informer<Obj>("", "nodes") ??
      new Informer<Obj>(this.#nodesApi, { labelSelector: `${SIMULATED_LABEL}=true`, initialBackoffMs: 100 });
    this.#podWorker = new Controller({
      name: "simulated-node",
      workers: this.#options.workers,
      reconcile: (key) => this.#syncPod(key),
    });
  }

  /** Names of the simulated nodes. */
  get nodeNames(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Registers the nodes and their leases, then starts heartbeats and pod handling. */
  async start(): Promise<void> {
    const nodes = [...this.#nodes.values()];
    await inBatches(nodes, 64, (n) => this.#register(n));
    await inBatches(nodes, 64, (n) => this.#renewLease(n));
    const enqueue = (pod: Obj) => {
      if (this.#nodes.has(String(pod.spec?.nodeName ?? ""))) this.#podWorker.enqueue(keyOf(pod));
    };
    this.#podInformer.addEventHandler({
      add: enqueue,
      update: (_, p) => enqueue(p),
      delete: (p) => {
        this.#waiting.delete(keyOf(p));
        this.#podIPs.delete(keyOf(p));
      },
    });
    this.#nodeInformer.addEventHandler({
      add: (n) => this.#nodeChanged(n),
      update: (_, n) => this.#nodeChanged(n),
    });
    await Promise.all([this.#podInformer.start(), this.#nodeInformer.start()]);
    this.#podWorker.run();
    // Each tick renews the slice of leases that is due, so renewals spread over the interval.
    const tickMs = 1000;
    const slices = Math.max(1, Math.round(this.#options.leaseRenewMs / tickMs));
    this.#leaseTimer = setInterval(() => {
      const tick = this.#leaseTick++ % slices;
      const due = nodes.filter((n) => n.index % slices === tick && !n.stopped);
      inBatches(due, 32, (n) => this.#renewLease(n)).catch(() => {});
    }, tickMs);
  }

  async stop(): Promise<void> {
    // What is still queued is dropped, not carried out against a server that is going away.
    this.#stopping = true;
    if (this.#leaseTimer !== undefined) clearInterval(this.#leaseTimer);
    if (!this.#shared) {
      this.#podInformer.stop();
      this.#nodeInformer.stop();
    }
    await this.#podWorker.stop();
  }

  #nodeObject(n: SimNode): Obj {
    const now = rfc3339();
    const { podCIDR } = nodeAddresses(n.index);
    return {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: n.name,
        labels: {
          ...kubeletLabels(n.name, "amd64"),
          "topology.kubernetes.io/region": "local",
          "topology.kubernetes.io/zone": ZONES[n.index % ZONES.length],
          "node.kubernetes.io/instance-type": "simulated",
          [SIMULATED_LABEL]: "true",
          ...this.#options.labels,
        },
        annotations: { "node.alpha.kubernetes.io/ttl": "0" },
      },
      spec: { podCIDR, podCIDRs: [podCIDR] },
      status: this.#nodeStatus(n, now),
    };
  }

  #nodeStatus(n: SimNode, now: string): Record<string, unknown> {
    const capacity = this.#options.capacity;
    return {
      capacity,
      allocatable: capacity,
      conditions: healthyConditions(now),
      addresses: [{ type: "InternalIP", address: n.hostIP }, { type: "Hostname", address: n.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: `sim${n.index}`,
        systemUUID: `sim-${n.index}`,
        bootID: `sim-${n.index}`,
        kernelVersion: "simulated",
        osImage: "kubedeno simulated node",
        containerRuntimeVersion: "simulated://1.0.0",
        kubeletVersion: "v1.33.0",
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: "amd64",
      },
    };
  }

  async #register(n: SimNode): Promise<void> {
    const want = this.#nodeObject(n);
    try {
      await this.#nodesApi.create("", want);
    } catch (err) {
      if (!isStatusError(err, "AlreadyExists")) throw err;
      await this.#reportReady(n);
    }
  }

  /** Posts a Ready status again (after a restart or after the node controller marked it Unknown). */
  async #reportReady(n: SimNode): Promise<void> {
    try {
      await this.#nodesApi.patch("", n.name, "merge", { status: this.#nodeStatus(n, rfc3339()) }, {
        subresource: "status",
      });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  #nodeChanged(node: Obj): void {
    const n = this.#nodes.get(node.metadata?.name ?? "");
    if (!n) return;
    const stopped = node.metadata?.annotations?.[HEARTBEAT_ANNOTATION] === "stopped";
    const wasStopped = n.stopped;
    n.stopped = stopped;
    if (stopped) return;
    const ready = ((node.status?.conditions ?? []) as Array<{ type: string; status: string }>)
      .find((c) => c.type === "Ready");
    if (wasStopped) this.#renewLease(n).catch(() => {});
    if (ready?.status !== "True") this.#reportReady(n).catch(() => {});
  }

  async #renewLease(n: SimNode): Promise<void> {
    if (this.#stopping) return;
    n.lease ??= new NodeLease(this.#leases, this.#nodesApi, n.name, this.#options.leaseDurationSeconds);
    await n.lease.renew();
  }

  #podIP(n: SimNode, key: string): string {
    let ip = this.#podIPs.get(key);
    if (!ip) {
      ip = `${n.podPrefix}${n.nextPodIP}`;
      n.nextPodIP = n.nextPodIP >= 254 ? 2 : n.nextPodIP + 1;
      this.#podIPs.set(key, ip);
    }
    return ip;
  }

  /** The event recorder of one node's kubelet. */
  #recorder(node: string): EventRecorder {
    let r = this.#recorders.get(node);
    if (!r) this.#recorders.set(node, r = this.#events.recorder("kubelet", node));
    return r;
  }

  /** Moves one pod to its next stage, once that stage's delay has passed. */
  async #syncPod(key: string): Promise<{ requeueAfterMs: number } | void> {
    if (this.#stopping) return;
    const pod = this.#podInformer.cache.get(key);
    if (!pod) return;
    const n = this.#nodes.get(String(pod.spec?.nodeName ?? ""));
    if (!n || n.stopped) return;
    const stage = stageFor(pod, this.#options.stages);
    if (!stage) {
      this.#waiting.delete(key);
      return;
    }
    const now = Date.now();
    let wait = this.#waiting.get(key);
    if (!wait || wait.stage !== stage.name) this.#waiting.set(key, wait = { stage: stage.name, since: now });
    const remaining = wait.since + stage.delayMs - now;
    if (remaining > 0) return { requeueAfterMs: remaining };
    this.#waiting.delete(key);
    const { namespace, name } = splitKey(key);
    const uid = pod.metadata?.uid;
    try {
      if (stage.result.delete) {
        // As a kubelet stopping the pod's running containers reports it.
        if (pod.status?.phase === "Running") {
          const recorder = this.#recorder(n.name);
          for (const c of (pod.spec?.containers ?? []) as Array<{ name: string }>) {
            recorder.event(pod as never, "Normal", "Killing", `Stopping container ${c.name}`);
          }
        }
        await this.#podsApi.delete(namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } });
        return;
      }
      const status = statusFor(pod, stage.result, {
        now: rfc3339(),
        hostIP: n.hostIP,
        podIP: this.#podIP(n, key),
      });
      const kept = ((pod.status?.conditions ?? []) as Array<{ type: string }>)
        .filter((c) => !(status.conditions as Array<{ type: string }>).some((s) => s.type === c.type));
      status.conditions = [...(status.conditions as unknown[]), ...kept];
      await this.#podsApi.patch(namespace, name, "merge", { metadata: { uid }, status }, {
        subresource: "status",
      });
    } catch (err) {
      if (isStatusError(err, "NotFound") || isStatusError(err, "Conflict")) return;
      throw err;
    }
  }
}

/** Runs `fn` over `items`, `size` at a time. */
async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        console.error(`kubedeno: simulated node: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
