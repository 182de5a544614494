/**
 * Node IPAM, as kube-controller-manager's node-ipam-controller with the range allocator: each
 * Node without `spec.podCIDR` gets the next free /24 of the cluster CIDR (10.244.0.0/16), written
 * to `spec.podCIDR` and `spec.podCIDRs`. Ranges already on nodes are taken; a deleted node's range
 * is free again.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { isStatusError } from "../../machinery/status.ts";
import { Controller } from "../framework/controller.ts";
import type { ControllerContext, Runnable } from "../framework/mod.ts";
import type { Informer } from "../framework/informer.ts";
import type { Node } from "../types.ts";

export const CLUSTER_CIDR = "10.244.0.0/16";

export interface NodeIpamOptions {
  /** The cluster's pod network (a /16 cut into /24s). */
  clusterCIDR?: string;
}

/** The /24 ranges of a /16: `10.244.0.0/24` … `10.244.255.0/24`. */
export function subnetsOf(clusterCIDR: string): string[] {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+\/16$/.exec(clusterCIDR);
  if (!m) throw new Error(`cluster CIDR ${clusterCIDR} is not a /16`);
  return Array.from({ length: 256 }, (_, i) => `${m[1]}.${m[2]}.${i}.0/24`);
}

export function newNodeIpamController(options: NodeIpamOptions = {}) {
  return (ctx: ControllerContext): Runnable => new NodeIpam(ctx, options);
}

class NodeIpam implements Runnable {
  readonly name = "node-ipam-controller";
  readonly #nodes: Informer<Node>;
  readonly #api: ResourceClient<Node>;
  readonly #subnets: string[];
  readonly #worker: Controller;

  constructor(ctx: ControllerContext, options: NodeIpamOptions) {
    this.#subnets = subnetsOf(options.clusterCIDR ?? CLUSTER_CIDR);
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#api = ctx.client.resource<Node>("", "nodes");
    // One worker: allocations must not race each other.
    this.#worker = new Controller({ name: this.name, workers: 1, reconcile: (key) => this.#sync(key) });
    const enqueue = (n: Node) => {
      if (!n.spec?.podCIDR) this.#worker.enqueue(n.metadata?.name ?? "");
    };
    this.#nodes.addEventHandler({ add: enqueue, update: (_, n) => enqueue(n) });
  }

  run(): void {
    this.#worker.run();
  }

  async stop(): Promise<void> {
    await this.#worker.stop();
  }

  async #sync(name: string): Promise<void> {
    const node = this.#nodes.cache.get(name);
    if (!node || node.spec?.podCIDR) return;
    const taken = new Set(
      this.#nodes.cache.list().flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])),
    );
    const free = this.#subnets.find((s) => !taken.has(s));
    if (!free) throw new Error(`no pod range left in the cluster CIDR for node ${name}`);
    try {
      await this.#api.patch("", name, "merge", { spec: { podCIDR: free, podCIDRs: [free] } });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }
}
