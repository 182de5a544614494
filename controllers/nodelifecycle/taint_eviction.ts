/**
 * The taint eviction controller (upstream's taint-eviction-controller, once the "taint
 * manager"): a pod on a node with NoExecute taints it does not tolerate is deleted at once; a
 * pod tolerating them for `tolerationSeconds` is deleted when the shortest of those runs out,
 * counted from when the controller saw the taint; one tolerating them forever stays. Before
 * deleting it marks the pod with the DisruptionTarget condition (DeletionByTaintManager) and
 * records TaintManagerEviction "Marking for deletion Pod ns/name"; a scheduled deletion that is
 * no longer due (taint gone, pod gone) is cancelled with "Cancelling deletion of Pod ns/name".
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import { byNode } from "../framework/cache.ts";
import type { Node, Pod, Taint, Toleration } from "../types.ts";
import { matchingTolerations, minTolerationMs, noExecuteTaints } from "./taints.ts";

export interface TaintEvictionOptions {
  /** Tries to mark and delete a pod before giving up until its next change (upstream: 5). */
  retries?: number;
}

export function newTaintEvictionController(options: TaintEvictionOptions = {}) {
  return (ctx: ControllerContext): Runnable => new TaintEvictionController(ctx, options);
}

/** A scheduled deletion; `done` once carried out (kept, so the pod is not deleted twice). */
interface Eviction {
  createdAt: number;
  fireAt: number;
  timer?: ReturnType<typeof setTimeout>;
  done: boolean;
}

const NODE = "node:";
const POD = "pod:";

class TaintEvictionController implements Runnable {
  readonly name = "taint-eviction-controller";
  readonly #retries: number;
  readonly #nodes: Informer<Node>;
  readonly #pods: Informer<Pod>;
  readonly #podApi: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #controller: Controller;
  /** Node name → its NoExecute taints, as last handled. */
  readonly #taintedNodes = new Map<string, Taint[]>();
  /** Pod key → its scheduled deletion. */
  readonly #evictions = new Map<string, Eviction>();
  #stopped = false;

  constructor(ctx: ControllerContext, options: TaintEvictionOptions) {
    this.#retries = options.retries ?? 5;
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#pods = ctx.informers.informer<Pod>("", "pods", { indexers: { node: byNode } });
    this.#podApi = ctx.client.resource<Pod>("", "pods");
    this.#recorder = ctx.events.recorder("taint-eviction-controller");
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => Promise.resolve(this.#sync(key)),
    });
    this.#nodes.addEventHandler({
      add: (n) => this.#controller.enqueue(NODE + keyOf(n)),
      update: (old, n) => {
        if (!jsonEqual(noExecuteTaints(old), noExecuteTaints(n))) this.#controller.enqueue(NODE + keyOf(n));
      },
      delete: (n) => this.#controller.enqueue(NODE + keyOf(n)),
    });
    this.#pods.addEventHandler({
      add: (p) => this.#controller.enqueue(POD + keyOf(p)),
      update: (old, p) => {
        if (
          old.spec?.nodeName === p.spec?.nodeName && jsonEqual(old.spec?.tolerations, p.spec?.tolerations)
        ) return;
        this.#controller.enqueue(POD + keyOf(p));
      },
      delete: (p) => this.#controller.enqueue(POD + keyOf(p)),
    });
  }

  run(): void {
    this.#controller.run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const e of this.#evictions.values()) clearTimeout(e.timer);
    await this.#controller.stop();
  }

  #sync(key: string): void {
    if (key.startsWith(NODE)) this.#handleNode(key.slice(NODE.length));
    else this.#handlePod(key.slice(POD.length));
  }

  #handleNode(name: string): void {
    const node = this.#nodes.cache.get(name);
    if (!node) {
      this.#taintedNodes.delete(name);
      return;
    }
    const taints = noExecuteTaints(node);
    if (taints.length === 0) this.#taintedNodes.delete(name);
    else this.#taintedNodes.set(name, taints);
    const pods = this.#pods.cache.byIndex("node", name);
    if (taints.length === 0) {
      for (const pod of pods) this.#cancel(keyOf(pod));
      return;
    }
    const now = Date.now();
    for (const pod of pods) this.#processPod(keyOf(pod), pod.spec?.tolerations ?? [], taints, now);
  }

  #handlePod(key: string): void {
    const pod = this.#pods.cache.get(key);
    if (!pod) {
      this.#cancel(key);
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const taints = this.#taintedNodes.get(nodeName);
    if (!taints) return;
    this.#processPod(key, pod.spec?.tolerations ?? [], taints, Date.now());
  }

  #processPod(key: string, tolerations: Toleration[], taints: Taint[], now: number): void {
    if (taints.length === 0) {
      this.#cancel(key);
      return;
    }
    const { allTolerated, used } = matchingTolerations(taints, tolerations);
    if (!allTolerated) {
      // Not tolerated: any later deletion gives way to one now.
      this.#cancel(key);
      this.#schedule(key, now, now);
      return;
    }
    const wait = minTolerationMs(used);
    if (wait < 0) {
      this.#cancel(key);
      return;
    }
    let start = now;
    const existing = this.#evictions.get(key);
    if (existing && !existing.done) {
      start = existing.createdAt;
      if (start + wait < now + wait) return; // scheduled earlier: keep it
      this.#cancel(key);
    }
    this.#schedule(key, start, start + wait);
  }

  #schedule(key: string, createdAt: number, fireAt: number): void {
    if (this.#evictions.has(key)) return;
    const eviction: Eviction = { createdAt, fireAt, done: false };
    this.#evictions.set(key, eviction);
    eviction.timer = setTimeout(() => this.#fire(key, eviction), Math.max(0, fireAt - Date.now()));
  }

  /** Drops a scheduled deletion; one not yet carried out is reported cancelled. */
  #cancel(key: string): void {
    const eviction = this.#evictions.get(key);
    if (!eviction) return;
    this.#evictions.delete(key);
    if (eviction.done) return;
    clearTimeout(eviction.timer);
    this.#podEvent(key, "TaintManagerEviction", `Cancelling deletion of Pod ${key}`);
  }

  async #fire(key: string, eviction: Eviction): Promise<void> {
    if (this.#stopped || this.#evictions.get(key) !== eviction) return;
    this.#podEvent(key, "TaintManagerEviction", `Marking for deletion Pod ${key}`);
    let failure: unknown;
    for (let i = 0; i < this.#retries; i++) {
      try {
        await this.#markAndDelete(key);
        failure = undefined;
        break;
      } catch (err) {
        failure = err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    if (this.#evictions.get(key) !== eviction) return;
    if (failure === undefined) eviction.done = true;
    else {
      this.#evictions.delete(key);
      console.error(`kubedeno: taint-eviction-controller: deleting ${key}: ${(failure as Error).message}`);
    }
  }

  /** Adds the DisruptionTarget condition (once), then deletes the pod. */
  async #markAndDelete(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    let pod: Pod;
    try {
      pod = await this.#podApi.get(namespace, name);
    } catch (err) {
      if (isStatusError(err, "NotFound")) return;
      throw err;
    }
    const cond = pod.status?.conditions?.find((c) => c.type === "DisruptionTarget");
    const reason = "DeletionByTaintManager";
    const message = "Taint manager: deleting due to NoExecute taint";
    if (cond?.status !== "True" || cond.reason !== reason || cond.message !== message) {
      await this.#podApi.patch(namespace, name, "strategic", {
        status: {
          conditions: [{
            type: "DisruptionTarget",
            status: "True",
            reason,
            message,
            lastTransitionTime: cond?.status === "True" ? cond.lastTransitionTime : rfc3339(),
          }],
        },
      }, { subresource: "status" });
    }
    try {
      await this.#podApi.delete(namespace, name, { preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  #podEvent(key: string, reason: string, message: string): void {
    const { namespace, name } = splitKey(key);
    const uid = this.#pods.cache.get(key)?.metadata?.uid;
    this.#recorder.event(
      { apiVersion: "v1", kind: "Pod", metadata: { name, namespace, uid } },
      "Normal",
      reason,
      message,
    );
  }
}
