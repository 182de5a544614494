/**
 * Pod garbage collection, as upstream's PodGC controller: pods bound to a node that no longer
 * exists are deleted (after the node has been gone for a moment — a node may be re-registering);
 * terminated pods (Succeeded/Failed) beyond `terminatedPodThreshold` are deleted oldest first;
 * unscheduled pods being deleted are removed at once, since no node will ever finish them.
 * Before deleting a running orphan it marks it Failed with the DisruptionTarget condition.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ControllerContext, Runnable } from "../framework/mod.ts";
import type { Informer } from "../framework/informer.ts";
import { byNode, keyOf } from "../framework/cache.ts";
import type { Node, Pod } from "../types.ts";

export interface PodGCOptions {
  /** How often to look (upstream: 20 s). */
  periodMs?: number;
  /** Terminated pods kept at most (upstream: 12,500). */
  terminatedPodThreshold?: number;
  /** How long a node must have been missing before its pods are collected. */
  quarantineMs?: number;
}

export function newPodGCController(options: PodGCOptions = {}) {
  return (ctx: ControllerContext): Runnable => new PodGC(ctx, options);
}

class PodGC implements Runnable {
  readonly name = "podgc";
  readonly #o: Required<PodGCOptions>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #api: ResourceClient<Pod>;
  readonly #missingSince = new Map<string, number>();
  #timer?: ReturnType<typeof setInterval>;
  #busy = false;

  constructor(ctx: ControllerContext, options: PodGCOptions) {
    this.#o = { periodMs: 20_000, terminatedPodThreshold: 12_500, quarantineMs: 40_000, ...options };
    this.#pods = ctx.informers.informer<Pod>("", "pods", { indexers: { node: byNode } });
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#api = ctx.client.resource<Pod>("", "pods");
  }

  run(): void {
    this.#timer = setInterval(() => this.sweep().catch(() => {}), this.#o.periodMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** One pass: orphans, unscheduled terminating pods, terminated pods over the threshold. */
  async sweep(now = Date.now()): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const pods = this.#pods.cache.list();
      const terminated = pods.filter((p) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed");
      const excess = terminated.length - this.#o.terminatedPodThreshold;
      if (excess > 0) {
        terminated.sort((a, b) =>
          Date.parse(a.metadata?.creationTimestamp ?? "") - Date.parse(b.metadata?.creationTimestamp ?? "")
        );
        for (const pod of terminated.slice(0, excess)) await this.#delete(pod, false);
      }
      const seen = new Set<string>();
      for (const pod of pods) {
        const node = pod.spec?.nodeName;
        if (!node) {
          if (pod.metadata?.deletionTimestamp) await this.#delete(pod, false);
          continue;
        }
        if (this.#nodes.cache.get(node)) continue;
        seen.add(node);
        const since = this.#missingSince.get(node) ?? now;
        this.#missingSince.set(node, since);
        if (now - since >= this.#o.quarantineMs) await this.#delete(pod, true);
      }
      for (const node of [...this.#missingSince.keys()]) if (!seen.has(node)) this.#missingSince.delete(node);
    } finally {
      this.#busy = false;
    }
  }

  async #delete(pod: Pod, orphaned: boolean): Promise<void> {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    try {
      if (orphaned && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed") {
        await this.#api.patch(namespace, name, "strategic", {
          status: {
            phase: "Failed",
            conditions: [{
              type: "DisruptionTarget",
              status: "True",
              reason: "DeletionByPodGC",
              message: "PodGC: node no longer exists",
              lastTransitionTime: rfc3339(),
            }],
          },
        }, { subresource: "status" });
      }
      await this.#api.delete(namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } });
    } catch (err) {
      if (!isStatusError(err, "NotFound") && !isStatusError(err, "Conflict")) {
        console.error(`kubedeno: podgc: ${keyOf(pod)}: ${(err as Error).message}`);
      }
    }
  }
}
