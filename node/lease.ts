/**
 * A node's heartbeat: its Lease in `kube-node-lease`, held by the node and renewed every 10 s (the
 * node lifecycle controller reads `renewTime`). Shared by the node agent and simulated nodes.
 */

import type { ResourceClient } from "../machinery/client.ts";
import { type KubeObject, rfc3339Micro } from "../machinery/object_meta.ts";
import { isStatusError } from "../machinery/status.ts";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

type Obj = KubeObject & { spec?: Record<string, unknown> };

/** One node's Lease, as last read or written (so renewals are updates, not gets). */
export class NodeLease {
  readonly #leases: ResourceClient<Obj>;
  readonly #nodes: ResourceClient<Obj>;
  readonly #name: string;
  readonly #durationSeconds: number;
  #lease?: Obj;

  constructor(
    leases: ResourceClient<Obj>,
    nodes: ResourceClient<Obj>,
    name: string,
    durationSeconds = 40,
  ) {
    this.#leases = leases;
    this.#nodes = nodes;
    this.#name = name;
    this.#durationSeconds = durationSeconds;
  }

  /** Creates or renews the Lease with renewTime now; retries once on a conflicting writer. */
  async renew(): Promise<void> {
    const now = rfc3339Micro();
    const spec = { holderIdentity: this.#name, leaseDurationSeconds: this.#durationSeconds, renewTime: now };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.#lease) {
          try {
            this.#lease = await this.#leases.get(NODE_LEASE_NAMESPACE, this.#name);
          } catch (err) {
            if (!isStatusError(err, "NotFound")) throw err;
            this.#lease = await this.#leases.create(NODE_LEASE_NAMESPACE, {
              metadata: {
                name: this.#name,
                namespace: NODE_LEASE_NAMESPACE,
                ownerReferences: await this.#ownerRef(),
              },
              spec,
            });
            return;
          }
        }
        this.#lease = await this.#leases.update(NODE_LEASE_NAMESPACE, {
          ...this.#lease,
          spec: { ...this.#lease.spec, ...spec },
        });
        return;
      } catch (err) {
        this.#lease = undefined;
        if (!isStatusError(err, "Conflict") && !isStatusError(err, "NotFound")) throw err;
      }
    }
  }

  /** The Lease belongs to its Node, so deleting the Node deletes it. */
  async #ownerRef() {
    try {
      const node = await this.#nodes.get("", this.#name);
      return [{ apiVersion: "v1", kind: "Node", name: this.#name, uid: node.metadata!.uid! }];
    } catch {
      return undefined;
    }
  }
}
