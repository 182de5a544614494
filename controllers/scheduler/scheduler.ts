/**
 * The scheduler process loop, in kube-scheduler's model: pending pods wait in a priority
 * queue; one cycle at a time takes the first, runs the plugins over a snapshot of the cluster
 * kept current by informers, assumes the pod on the chosen node (so the next cycle sees it
 * there at once) and binds it through `pods/binding` without waiting. A pod that fits nowhere
 * gets `PodScheduled=False` and a `FailedScheduling` event, waits among the unschedulable, and
 * is tried again after a backoff when the cluster changes (a node added or changed, a pod gone).
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ControllerContext, Runnable } from "../framework/mod.ts";
import { keyOf } from "../framework/cache.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import { ClusterSnapshot } from "./node_info.ts";
import { schedulePod } from "./framework.ts";
import type { Lister, ScheduleInputs } from "./interface.ts";
import type { Node, Pod } from "./types.ts";
import { ANN_SELECTED_NODE, claimClass } from "../../machinery/volumes.ts";

/** How long the scheduling loop runs before letting other work in. */
const SLICE_MS = 10;

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface SchedulerOptions {
  schedulerName?: string;
  /** Backoff of a pod that failed, doubling per attempt. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried at least this often even if nothing changed. */
  unschedulableFlushMs?: number;
  percentageOfNodesToScore?: number;
  /** Binds in flight at once. */
  maxBindsInFlight?: number;
}

interface QueuedPod {
  key: string;
  priority: number;
  /** When it entered the queue (PrioritySort's tie break). */
  timestamp: number;
  attempts: number;
}

/** The active queue: highest priority first, then oldest. A binary heap keyed by pod. */
class ActiveQueue {
  readonly #heap: QueuedPod[] = [];
  readonly #index = new Map<string, QueuedPod>();

  get size(): number {
    return this.#heap.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  push(item: QueuedPod): void {
    if (this.#index.has(item.key)) return;
    this.#index.set(item.key, item);
    this.#heap.push(item);
    this.#up(this.#heap.length - 1);
  }

  pop(): QueuedPod | undefined {
    const top = this.#heap[0];
    if (!top) return undefined;
    const last = this.#heap.pop()!;
    if (this.#heap.length) {
      this.#heap[0] = last;
      this.#down(0);
    }
    this.#index.delete(top.key);
    return top;
  }

  delete(key: string): void {
    const item = this.#index.get(key);
    if (!item) return;
    const i = this.#heap.indexOf(item);
    const last = this.#heap.pop()!;
    if (i < this.#heap.length) {
      this.#heap[i] = last;
      this.#down(i);
      this.#up(i);
    }
    this.#index.delete(key);
  }

  #less(a: QueuedPod, b: QueuedPod): boolean {
    return a.priority !== b.priority ? a.priority > b.priority : a.timestamp < b.timestamp;
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l], h[m])) m = l;
      if (r < h.length && this.#less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function listerFrom<T>(informer: Informer<never>): Lister<T> {
  const cache = informer.cache as unknown as { get(k: string): T | undefined; list(): T[] };
  return { get: (k) => cache.get(k), list: () => cache.list() };
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export class Scheduler implements Runnable {
  readonly name = "scheduler";
  readonly snapshot = new ClusterSnapshot();
  readonly #o: Required<SchedulerOptions>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #podApi: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #inputs: ScheduleInputs;
  readonly #active = new ActiveQueue();
  /** Failed pods waiting for a cluster change (and their backoff). */
  readonly #unschedulable = new Map<string, QueuedPod>();
  /** Pods waiting out a backoff before going back to the active queue. */
  readonly #backoff = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #attempts = new Map<string, number>();
  /** Pods being bound (assumed, binding not yet confirmed). */
  readonly #binding = new Set<string>();
  #bindsInFlight = 0;
  readonly #claimApi: ResourceClient;
  #bindWaiters: Array<() => void> = [];
  #running = false;
  #wake?: () => void;
  #flushTimer?: ReturnType<typeof setInterval>;
  /** Pods bound since start (for benchmarks). */
  scheduled = 0;

  constructor(ctx: ControllerContext, options: SchedulerOptions = {}) {
    this.#o = {
      schedulerName: DEFAULT_SCHEDULER_NAME,
      initialBackoffMs: 1000,
      maxBackoffMs: 10_000,
      unschedulableFlushMs: 30_000,
      percentageOfNodesToScore: 0,
      maxBindsInFlight: 256,
      ...options,
    };
    const inf = ctx.informers;
    this.#pods = inf.informer<Pod>("", "pods");
    this.#nodes = inf.informer<Node>("", "nodes");
    this.#podApi = ctx.client.resource<Pod>("", "pods");
    this.#claimApi = ctx.client.resource("", "persistentvolumeclaims");
    this.#recorder = ctx.events.recorder(this.#o.schedulerName);
    const l = <T>(group: string, resource: string) => listerFrom<T>(inf.informer(group, resource) as never);
    this.#inputs = {
      pvcs: l("", "persistentvolumeclaims"),
      pvs: l("", "persistentvolumes"),
      storageClasses: l("storage.k8s.io", "storageclasses"),
      namespaces: l("", "namespaces"),
      services: l("", "services"),
      replicationControllers: l("", "replicationcontrollers"),
      replicaSets: l("apps", "replicasets"),
      statefulSets: l("apps", "statefulsets"),
      pdbs: l("policy", "poddisruptionbudgets"),
      priorityClasses: l("scheduling.k8s.io", "priorityclasses"),
      percentageOfNodesToScore: this.#o.percentageOfNodesToScore,
    };
    this.#nodes.addEventHandler({
      add: (n) => {
        this.snapshot.addNode(n);
        this.#clusterChanged();
      },
      update: (_, n) => {
        this.snapshot.updateNode(n);
        this.#clusterChanged();
      },
      delete: (n) => this.snapshot.removeNode(n),
    });
    this.#pods.addEventHandler({
      add: (p) => this.#podSeen(p),
      update: (_, p) => this.#podSeen(p),
      delete: (p) => this.#podGone(p),
    });
    // Volumes and other inputs change what fits too.
    for (const [g, r] of [["", "persistentvolumeclaims"], ["", "persistentvolumes"]]) {
      inf.informer(g, r).addEventHandler({
        add: () => this.#clusterChanged(),
        update: () => this.#clusterChanged(),
      });
    }
  }

  #mine(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.#o.schedulerName;
  }

  #podSeen(pod: Pod): void {
    const key = keyOf(pod);
    if (pod.spec?.nodeName) {
      this.#dequeue(key);
      if (isTerminal(pod)) {
        this.snapshot.removePod(pod);
        this.#clusterChanged();
      } else if (this.snapshot.nodeOfPod(pod) !== undefined) {
        this.snapshot.updatePod(pod);
      } else {
        this.snapshot.addPod(pod);
      }
      return;
    }
    if (!this.#mine(pod) || pod.metadata?.deletionTimestamp || isTerminal(pod)) {
      this.#dequeue(key);
      return;
    }
    if (this.#binding.has(key) || this.#active.has(key) || this.#backoff.has(key)) return;
    if (this.#unschedulable.has(key)) return;
    this.#active.push(this.#queued(pod));
    this.#kick();
  }

  #podGone(pod: Pod): void {
    const key = keyOf(pod);
    this.#dequeue(key);
    this.#attempts.delete(key);
    if (this.snapshot.nodeOfPod(pod) !== undefined) {
      this.snapshot.removePod(pod);
      this.#clusterChanged();
    }
  }

  #dequeue(key: string): void {
    this.#active.delete(key);
    this.#unschedulable.delete(key);
    const t = this.#backoff.get(key);
    if (t !== undefined) {
      clearTimeout(t);
      this.#backoff.delete(key);
    }
  }

  #queued(pod: Pod): QueuedPod {
    const key = keyOf(pod);
    return {
      key,
      priority: pod.spec?.priority ?? 0,
      timestamp: Date.parse(pod.metadata?.creationTimestamp ?? "") || Date.now(),
      attempts: this.#attempts.get(key) ?? 0,
    };
  }

  /** Something changed that may let unschedulable pods fit: move them to backoff. */
  #clusterChanged(): void {
    if (this.#unschedulable.size === 0) return;
    for (const [key, item] of this.#unschedulable) {
      this.#unschedulable.delete(key);
      this.#toBackoff(key, item);
    }
  }

  #toBackoff(key: string, item: QueuedPod): void {
    if (this.#backoff.has(key)) return;
    const wait = Math.min(
      this.#o.initialBackoffMs * 2 ** Math.max(0, item.attempts - 1),
      this.#o.maxBackoffMs,
    );
    this.#backoff.set(
      key,
      setTimeout(() => {
        this.#backoff.delete(key);
        const pod = this.#pods.cache.get(key);
        if (pod && !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp) {
          this.#active.push(this.#queued(pod));
          this.#kick();
        }
      }, wait),
    );
  }

  #kick(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  run(): void {
    if (this.#running) return;
    this.#running = true;
    this.#flushTimer = setInterval(() => {
      for (const [key, item] of this.#unschedulable) {
        this.#unschedulable.delete(key);
        this.#toBackoff(key, item);
      }
    }, this.#o.unschedulableFlushMs);
    this.#loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#flushTimer !== undefined) clearInterval(this.#flushTimer);
    for (const t of this.#backoff.values()) clearTimeout(t);
    this.#backoff.clear();
    this.#kick();
    while (this.#bindsInFlight > 0) await new Promise<void>((r) => this.#bindWaiters.push(r));
  }

  async #loop(): Promise<void> {
    let sliceStart = performance.now();
    while (this.#running) {
      const item = this.#active.pop();
      if (!item) {
        await new Promise<void>((r) => this.#wake = r);
        sliceStart = performance.now();
        continue;
      }
      this.#scheduleOne(item);
      // Let informer events and binding answers in every few milliseconds: a time slice, not a
      // pod count, so that a busy process (everything in one, under load) still gives the
      // scheduler its share rather than a handful of pods per turn of the event loop.
      if (performance.now() - sliceStart >= SLICE_MS || this.#bindsInFlight >= this.#o.maxBindsInFlight) {
        await new Promise((r) => setTimeout(r, 0));
        while (this.#bindsInFlight >= this.#o.maxBindsInFlight) {
          await new Promise<void>((r) => this.#bindWaiters.push(r));
        }
        sliceStart = performance.now();
      }
    }
  }

  #scheduleOne(item: QueuedPod): void {
    const pod = this.#pods.cache.get(item.key);
    if (!pod || pod.spec?.nodeName || pod.metadata?.deletionTimestamp || !this.#mine(pod)) return;
    const result = schedulePod(pod, this.snapshot, { ...this.#inputs, now: Date.now() });
    if (result.kind === "scheduled") {
      this.snapshot.assumePod(pod, result.nodeName);
      this.#binding.add(item.key);
      this.#bind(pod, result.nodeName);
      return;
    }
    const attempts = (this.#attempts.get(item.key) ?? 0) + 1;
    this.#attempts.set(item.key, attempts);
    this.#unschedulable.set(item.key, { ...item, attempts });
    if (result.kind === "unschedulable") {
      this.#recorder.event(pod as never, "Warning", "FailedScheduling", result.message);
      this.#markUnschedulable(pod, result.message, result.nominatedNodeName).catch(() => {});
      if (result.victims?.length && result.nominatedNodeName) {
        this.#preempt(pod, result.nominatedNodeName, result.victims);
      }
    } else {
      this.#recorder.event(pod as never, "Warning", "FailedScheduling", result.message);
    }
  }

  async #bind(pod: Pod, nodeName: string): Promise<void> {
    const key = keyOf(pod);
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    this.#bindsInFlight++;
    try {
      await this.#selectNodeForClaims(pod, nodeName);
      await this.#podApi.createSubresource(namespace, name, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name, namespace, uid },
        target: { apiVersion: "v1", kind: "Node", name: nodeName },
      });
      this.scheduled++;
      this.#attempts.delete(key);
      this.#recorder.event(
        pod as never,
        "Normal",
        "Scheduled",
        `Successfully assigned ${namespace}/${name} to ${nodeName}`,
      );
    } catch (err) {
      this.snapshot.forgetPod(pod);
      if (!isStatusError(err, "NotFound")) {
        const attempts = (this.#attempts.get(key) ?? 0) + 1;
        this.#attempts.set(key, attempts);
        const message = `Binding rejected: ${(err as Error).message}`;
        this.#recorder.event(pod as never, "Warning", "FailedScheduling", message);
        this.#toBackoff(key, { ...this.#queued(pod), attempts });
      }
    } finally {
      this.#binding.delete(key);
      this.#bindsInFlight--;
      const w = this.#bindWaiters.shift();
      w?.();
    }
  }

  /**
   * VolumeBinding's PreBind, the basics: each unbound claim of a WaitForFirstConsumer class the
   * pod mounts is annotated with the chosen node (`volume.kubernetes.io/selected-node`), which
   * is what provisioners and the PV binder wait for. Upstream also waits for the claims to bind;
   * the pod is bound at once here and its node waits for the volume.
   */
  async #selectNodeForClaims(pod: Pod, nodeName: string): Promise<void> {
    const volumes = pod.spec?.volumes;
    if (!volumes?.length) return;
    const ns = pod.metadata?.namespace ?? "";
    for (const v of volumes) {
      const claimName = v.persistentVolumeClaim?.claimName ??
        (v.ephemeral ? `${pod.metadata?.name}-${v.name}` : "");
      if (!claimName) continue;
      const pvc = this.#inputs.pvcs?.get(`${ns}/${claimName}`);
      if (!pvc || pvc.spec?.volumeName || pvc.metadata?.annotations?.[ANN_SELECTED_NODE]) continue;
      const sc = this.#inputs.storageClasses?.get(claimClass(pvc));
      if (sc?.volumeBindingMode !== "WaitForFirstConsumer") continue;
      await this.#claimApi.patch(ns, claimName, "merge", {
        metadata: { annotations: { [ANN_SELECTED_NODE]: nodeName } },
      });
    }
  }

  /** PodScheduled=False (Unschedulable) with the message, and the nominated node if preemption chose one. */
  async #markUnschedulable(pod: Pod, message: string, nominatedNodeName?: string): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (old?.status === "False" && old.message === message && nominatedNodeName === undefined) return;
    const condition = {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message,
      lastProbeTime: null,
      lastTransitionTime: old?.status === "False" ? old.lastTransitionTime : rfc3339(),
    };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominatedNodeName !== undefined) status.nominatedNodeName = nominatedNodeName || null;
    const { namespace, name } = pod.metadata as { namespace: string; name: string };
    try {
      await this.#podApi.patch(namespace, name, "strategic", { status }, { subresource: "status" });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  /** Evicts the victims preemption chose so `pod` fits on `nodeName` later. */
  #preempt(pod: Pod, nodeName: string, victims: Pod[]): void {
    for (const victim of victims) {
      const { namespace, name, uid } = victim.metadata as { namespace: string; name: string; uid: string };
      (async () => {
        try {
          await this.#podApi.patch(namespace, name, "strategic", {
            status: {
              conditions: [{
                type: "DisruptionTarget",
                status: "True",
                reason: "PreemptionByScheduler",
                message: `${this.#o.schedulerName}: preempting to accommodate a higher priority pod`,
                lastTransitionTime: rfc3339(),
              }],
            },
          }, { subresource: "status" });
          await this.#podApi.delete(namespace, name, { preconditions: { uid } });
          this.#recorder.event(
            victim as never,
            "Normal",
            "Preempted",
            `Preempted by pod ${pod.metadata?.uid} on node ${nodeName}`,
          );
        } catch (err) {
          if (!isStatusError(err, "NotFound") && !isStatusError(err, "Conflict")) {
            console.error(`kubedeno: scheduler: preempting ${namespace}/${name}: ${(err as Error).message}`);
          }
        }
      })();
    }
  }
}

export function newScheduler(options: SchedulerOptions = {}) {
  return (ctx: ControllerContext): Scheduler => new Scheduler(ctx, options);
}
