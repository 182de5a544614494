/**
 * The node lifecycle controller, as upstream's: every `nodeMonitorPeriodMs` it checks each
 * node's health signals — its Lease in `kube-node-lease` and its Ready condition's heartbeat.
 * A node silent for longer than `nodeMonitorGracePeriodMs` (`nodeStartupGracePeriodMs` for a
 * node that never posted status) gets Ready, MemoryPressure, DiskPressure and PIDPressure set
 * Unknown (NodeStatusUnknown, "Kubelet stopped posting node status."), a NodeNotReady event,
 * and its pods marked not Ready. Nodes not Ready are queued, per zone and rate-limited, for the
 * `node.kubernetes.io/unreachable` (Unknown) or `node.kubernetes.io/not-ready` (False)
 * NoExecute taint, removed once the node is Ready again; when every zone is fully disrupted
 * no NoExecute taints are placed at all (the control plane is likelier the problem). Node
 * conditions and `spec.unschedulable` are mirrored into NoSchedule taints as nodes change.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import { byNode } from "../framework/cache.ts";
import type { Lease, Node, NodeCondition, Pod, Taint } from "../types.ts";
import { markPodsNotReady, swapNodeTaints } from "./node_updates.ts";
import {
  CONDITION_TAINT_KEYS,
  conditionNoScheduleTaints,
  matchTaint,
  NOT_READY_NO_EXECUTE,
  TAINT_NODE_UNSCHEDULABLE,
  taintExists,
  UNREACHABLE_NO_EXECUTE,
} from "./taints.ts";
import { computeZoneState, TaintQueue, zoneKey, type ZoneState } from "./zones.ts";
import { clone } from "../../machinery/object_meta.ts";

export interface NodeLifecycleOptions {
  /** Grace for a node that never posted a Ready condition (upstream: 60 s). */
  nodeStartupGracePeriodMs?: number;
  /** Nodes tainted per second in a healthy zone (upstream: 0.1). */
  evictionLimiterQPS?: number;
  /** The same in a partially disrupted large zone (upstream: 0.01). */
  secondaryEvictionLimiterQPS?: number;
  /** Above this many nodes a partially disrupted zone keeps tainting, slowly (upstream: 50). */
  largeClusterThreshold?: number;
  /** Share of not-ready nodes that makes a zone partially disrupted (upstream: 0.55). */
  unhealthyZoneThreshold?: number;
  /** How often the queued NoExecute taints are tried (upstream: 100 ms). */
  evictionPeriodMs?: number;
}

export function newNodeLifecycleController(options: NodeLifecycleOptions = {}) {
  return (ctx: ControllerContext): Runnable => new NodeLifecycleController(ctx, options);
}

export const NODE_LEASE_NAMESPACE = "kube-node-lease";
const LABEL_EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption";
const MONITORED_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
/** Stable label → beta label kept equal to it. */
const RECONCILED_LABELS: Array<[string, string]> = [
  ["kubernetes.io/os", "beta.kubernetes.io/os"],
  ["kubernetes.io/arch", "beta.kubernetes.io/arch"],
];
const STATUS_RETRIES = 5;

/** What the controller last saw of a node's health, with its own clock's times. */
interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  conditions: NodeCondition[];
  leaseRenewTime?: number;
}

class NodeLifecycleController implements Runnable {
  readonly name = "nodelifecycle";
  readonly #o: Required<NodeLifecycleOptions>;
  readonly #gracePeriodMs: number;
  readonly #monitorPeriodMs: number;
  readonly #nodes: Informer<Node>;
  readonly #leases: Informer<Lease>;
  readonly #pods: Informer<Pod>;
  readonly #nodeApi: ResourceClient<Node>;
  readonly #podApi: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  /** NoSchedule taints and labels, per node. */
  readonly #nodeUpdates: Controller;
  /** Pods newly bound to a node that is not Ready. */
  readonly #podUpdates: Controller;
  readonly #health = new Map<string, NodeHealth>();
  readonly #known = new Map<string, Node>();
  readonly #retry = new Set<string>();
  readonly #zoneStates = new Map<string, ZoneState>();
  readonly #tainters = new Map<string, TaintQueue>();
  #monitorTimer?: ReturnType<typeof setInterval>;
  #taintTimer?: ReturnType<typeof setInterval>;
  #monitoring = false;
  #tainting = false;

  constructor(ctx: ControllerContext, options: NodeLifecycleOptions) {
    this.#o = {
      nodeStartupGracePeriodMs: 60_000,
      evictionLimiterQPS: 0.1,
      secondaryEvictionLimiterQPS: 0.01,
      largeClusterThreshold: 50,
      unhealthyZoneThreshold: 0.55,
      evictionPeriodMs: 100,
      ...options,
    };
    this.#gracePeriodMs = ctx.options.nodeMonitorGracePeriodMs;
    this.#monitorPeriodMs = ctx.options.nodeMonitorPeriodMs;
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#leases = ctx.informers.informer<Lease>("coordination.k8s.io", "leases");
    this.#pods = ctx.informers.informer<Pod>("", "pods", { indexers: { node: byNode } });
    this.#nodeApi = ctx.client.resource<Node>("", "nodes");
    this.#podApi = ctx.client.resource<Pod>("", "pods");
    this.#recorder = ctx.events.recorder("node-controller");
    this.#nodeUpdates = new Controller({
      name: "nodelifecycle-nodes",
      workers: ctx.options.workers,
      reconcile: (name) => this.#syncNode(name),
    });
    this.#podUpdates = new Controller({
      name: "nodelifecycle-pods",
      workers: ctx.options.workers,
      reconcile: (key) => this.#syncPod(key),
    });
    this.#nodes.addEventHandler({
      add: (n) => this.#nodeUpdates.enqueue(keyOf(n)),
      update: (_, n) => this.#nodeUpdates.enqueue(keyOf(n)),
      delete: (n) => this.#retry.delete(keyOf(n)),
    });
    this.#pods.addEventHandler({
      add: (p) => {
        if (p.spec?.nodeName) this.#podUpdates.enqueue(keyOf(p));
      },
      update: (old, p) => {
        if (p.spec?.nodeName && p.spec.nodeName !== old.spec?.nodeName) this.#podUpdates.enqueue(keyOf(p));
      },
    });
  }

  run(): void {
    this.#nodeUpdates.run();
    this.#podUpdates.run();
    this.#taintTimer = setInterval(() => this.#noExecuteTaintingPass(), this.#o.evictionPeriodMs);
    const monitor = () => this.monitorNodeHealth().catch((err) => logError("monitoring node health", err));
    this.#monitorTimer = setInterval(monitor, this.#monitorPeriodMs);
    monitor();
  }

  async stop(): Promise<void> {
    clearInterval(this.#monitorTimer);
    clearInterval(this.#taintTimer);
    await Promise.all([this.#nodeUpdates.stop(), this.#podUpdates.stop()]);
  }

  // ---- node health ----

  /** One pass over every node: health, NoExecute tainting decisions, pods, zone states. */
  async monitorNodeHealth(): Promise<void> {
    if (this.#monitoring) return;
    this.#monitoring = true;
    try {
      const nodes = this.#nodes.cache.list();
      this.#classify(nodes);
      const zoneReady = new Map<string, Array<string | undefined>>();
      await Promise.all(nodes.map(async (node) => {
        const current = await this.#updateNodeHealth(node);
        if (current === null) return;
        if (node.metadata?.labels?.[LABEL_EXCLUDE_DISRUPTION] === undefined) {
          const zone = zoneKey(node);
          zoneReady.set(zone, [...(zoneReady.get(zone) ?? []), current?.status]);
        }
      }));
      await this.#handleDisruption(zoneReady, nodes);
    } finally {
      this.#monitoring = false;
    }
  }

  /** Notes nodes added (RegisteredNode) and removed (RemovingNode) since the last pass. */
  #classify(nodes: Node[]): void {
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = keyOf(node);
      seen.add(name);
      const zone = zoneKey(node);
      if (!this.#zoneStates.has(zone)) {
        this.#zoneStates.set(zone, "Initial");
        this.#tainters.set(zone, new TaintQueue(this.#o.evictionLimiterQPS));
      }
      if (this.#known.has(name)) continue;
      this.#known.set(name, node);
      this.#nodeEvent(
        node,
        "Normal",
        "RegisteredNode",
        `Node ${name} event: Registered Node ${name} in Controller`,
      );
      this.#markNodeAsReachable(node).catch((err) => logError(`untainting node ${name}`, err));
    }
    for (const [name, node] of this.#known) {
      if (seen.has(name)) continue;
      this.#known.delete(name);
      this.#health.delete(name);
      for (const q of this.#tainters.values()) q.remove(name);
      this.#nodeEvent(
        node,
        "Normal",
        "RemovingNode",
        `Node ${name} event: Removing Node ${name} from Controller`,
      );
    }
  }

  /**
   * Brings one node's health up to date and acts on it; answers its current Ready condition
   * (undefined when it has none yet), or null when the update failed.
   */
  async #updateNodeHealth(node: Node): Promise<NodeCondition | undefined | null> {
    let observed: NodeCondition | undefined;
    let current: NodeCondition | undefined;
    for (let attempt = 0;; attempt++) {
      try {
        ({ observed, current } = await this.#tryUpdateNodeHealth(node));
        break;
      } catch (err) {
        if (attempt + 1 >= STATUS_RETRIES) {
          logError(`updating health of node ${keyOf(node)}`, err);
          return null;
        }
        try {
          node = await this.#nodeApi.get("", keyOf(node));
        } catch {
          return null; // deleted meanwhile
        }
      }
    }
    if (!current) return current;
    const name = keyOf(node);
    const pods = this.#pods.cache.byIndex("node", name);
    try {
      await this.#processTaintBasedEviction(node, observed!);
    } catch (err) {
      logError(`tainting node ${name}`, err); // the next pass tries again
    }
    const becameNotReady = current.status !== "True" && observed!.status === "True";
    if (becameNotReady) {
      this.#nodeEvent(node, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
    }
    if (becameNotReady || (this.#retry.has(name) && observed!.status !== "True")) {
      try {
        await markPodsNotReady(this.#podApi, this.#recorder, pods, name);
      } catch (err) {
        logError(`marking pods of node ${name} not ready`, err);
        this.#retry.add(name);
        return current;
      }
    }
    this.#retry.delete(name);
    return current;
  }

  /**
   * Compares the node's signals with what was last seen; past the grace period sets its
   * conditions Unknown. Answers the Ready condition as observed and as it is now.
   */
  async #tryUpdateNodeHealth(
    node: Node,
  ): Promise<{ observed: NodeCondition; current: NodeCondition | undefined }> {
    const name = keyOf(node);
    const now = Date.now();
    const created = Date.parse(node.metadata?.creationTimestamp ?? "") || now;
    const conditions = node.status?.conditions ?? [];
    const ready = conditions.find((c) => c.type === "Ready");
    let health = this.#health.get(name);
    let observed: NodeCondition;
    let grace: number;
    if (!ready) {
      // Never posted: pretend an Unknown condition as old as the node.
      const createdAt = node.metadata?.creationTimestamp ?? undefined;
      observed = {
        type: "Ready",
        status: "Unknown",
        lastHeartbeatTime: createdAt,
        lastTransitionTime: createdAt,
      };
      grace = this.#o.nodeStartupGracePeriodMs;
      if (health) health = { ...health, conditions };
      else health = { conditions, probeTimestamp: created, readyTransitionTimestamp: created };
    } else {
      observed = { ...ready };
      grace = this.#gracePeriodMs;
    }
    const saved = health?.conditions.find((c) => c.type === "Ready");
    const savedLease = health?.leaseRenewTime;
    if (!health) {
      health = { conditions, probeTimestamp: now, readyTransitionTimestamp: now };
    } else if ((!saved && ready) || (saved && !ready)) {
      health = { conditions, probeTimestamp: now, readyTransitionTimestamp: now };
    } else if (saved && ready && saved.lastHeartbeatTime !== ready.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== ready.lastTransitionTime
        ? now
        : health.readyTransitionTimestamp;
      health = {
        conditions,
        probeTimestamp: now,
        readyTransitionTimestamp: transition,
        leaseRenewTime: savedLease,
      };
    }
    // A renewed lease is a heartbeat too.
    const lease = this.#leases.cache.getByName(NODE_LEASE_NAMESPACE, name);
    const renewed = lease?.spec?.renewTime ? Date.parse(lease.spec.renewTime) : undefined;
    if (renewed !== undefined && (savedLease === undefined || savedLease < renewed)) {
      health = { ...health, leaseRenewTime: renewed, probeTimestamp: now };
    }
    this.#health.set(name, health);

    let current = ready;
    if (now > health.probeTimestamp + grace) {
      const updated = clone(node);
      const list = updated.status?.conditions ?? [];
      const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
      for (const type of MONITORED_CONDITIONS) {
        const c = list.find((x) => x.type === type);
        if (!c) {
          list.push({
            type,
            status: "Unknown",
            reason: "NodeStatusNeverUpdated",
            message: "Kubelet never posted node status.",
            lastHeartbeatTime: node.metadata?.creationTimestamp ?? undefined,
            lastTransitionTime: stamp,
          });
        } else if (c.status !== "Unknown") {
          c.status = "Unknown";
          c.reason = "NodeStatusUnknown";
          c.message = "Kubelet stopped posting node status.";
          c.lastTransitionTime = stamp;
        }
      }
      updated.status = { ...updated.status, conditions: list };
      current = list.find((x) => x.type === "Ready");
      if (JSON.stringify(current) !== JSON.stringify(observed)) {
        await this.#nodeApi.updateStatus("", updated);
        this.#health.set(name, {
          conditions: list,
          probeTimestamp: health.probeTimestamp,
          readyTransitionTimestamp: now,
          leaseRenewTime: health.leaseRenewTime,
        });
      }
    }
    return { observed, current };
  }

  // ---- NoExecute taints ----

  async #processTaintBasedEviction(node: Node, observed: NodeCondition): Promise<void> {
    const taints = node.spec?.taints;
    const name = keyOf(node);
    switch (observed.status) {
      case "False":
        // Already unreachable: say not-ready at once rather than waiting in the queue.
        if (taintExists(taints, UNREACHABLE_NO_EXECUTE)) {
          await swapNodeTaints(this.#nodeApi, name, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE]);
        } else this.#markNodeForTainting(node, "False");
        break;
      case "Unknown":
        if (taintExists(taints, NOT_READY_NO_EXECUTE)) {
          await swapNodeTaints(this.#nodeApi, name, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE]);
        } else this.#markNodeForTainting(node, "Unknown");
        break;
      case "True":
        await this.#markNodeAsReachable(node);
        break;
    }
  }

  #markNodeForTainting(node: Node, status: "False" | "Unknown"): void {
    const queue = this.#tainters.get(zoneKey(node));
    if (!queue) return;
    const wanted = status === "False" ? NOT_READY_NO_EXECUTE : UNREACHABLE_NO_EXECUTE;
    if (!taintExists(node.spec?.taints, wanted)) queue.remove(keyOf(node));
    queue.add(keyOf(node));
  }

  async #markNodeAsReachable(node: Node): Promise<void> {
    const taints = node.spec?.taints;
    if (taintExists(taints, UNREACHABLE_NO_EXECUTE) || taintExists(taints, NOT_READY_NO_EXECUTE)) {
      const ok = await swapNodeTaints(this.#nodeApi, keyOf(node), [], [
        UNREACHABLE_NO_EXECUTE,
        NOT_READY_NO_EXECUTE,
      ]);
      if (!ok) return;
    }
    this.#tainters.get(zoneKey(node))?.remove(keyOf(node));
  }

  /** Places the queued NoExecute taints the zones' rate limits allow. */
  async #noExecuteTaintingPass(): Promise<void> {
    if (this.#tainting) return;
    this.#tainting = true;
    try {
      for (const queue of this.#tainters.values()) {
        await queue.try(async (name) => {
          const node = this.#nodes.cache.get(name);
          if (!node) return true;
          const ready = node.status?.conditions?.find((c) => c.type === "Ready");
          if (!ready) return 50;
          // Unreachable and not-ready mirror Ready's status, so they exclude each other.
          let add: Taint, remove: Taint;
          if (ready.status === "False") [add, remove] = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE];
          else if (ready.status === "Unknown") [add, remove] = [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE];
          else return true;
          try {
            return (await swapNodeTaints(this.#nodeApi, name, [add], [remove])) ? true : 0;
          } catch (err) {
            logError(`tainting node ${name}`, err);
            return 0;
          }
        });
      }
    } finally {
      this.#tainting = false;
    }
  }

  /** Zone states and their eviction rates; with every zone down, no NoExecute taints at all. */
  async #handleDisruption(zoneReady: Map<string, Array<string | undefined>>, nodes: Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, statuses] of zoneReady) {
      const { state } = computeZoneState(statuses, this.#o.unhealthyZoneThreshold);
      if (state !== "FullDisruption") allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.#zoneStates.has(zone)) this.#zoneStates.set(zone, "Initial");
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.#zoneStates]) {
      if (!zoneReady.has(zone)) {
        this.#zoneStates.delete(zone);
        continue;
      }
      if (state !== "FullDisruption") {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      // Entering master disruption mode: take the taints back and stop placing them.
      for (const node of nodes) {
        await this.#markNodeAsReachable(node).catch((err) => logError(`untainting node ${keyOf(node)}`, err));
      }
      for (const zone of this.#zoneStates.keys()) {
        this.#tainters.get(zone)?.limiter.setQps(0);
        this.#zoneStates.set(zone, "FullDisruption");
      }
      return;
    }
    if (allWasFullyDisrupted) {
      // Leaving it: every node starts its grace period afresh.
      const now = Date.now();
      for (const node of nodes) {
        const h = this.#health.get(keyOf(node));
        if (h) this.#health.set(keyOf(node), { ...h, probeTimestamp: now, readyTransitionTimestamp: now });
      }
      for (const zone of this.#zoneStates.keys()) {
        const state = newStates.get(zone) ?? "Normal";
        this.#setLimiter(zone, zoneReady.get(zone)?.length ?? 0, state);
        this.#zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of this.#zoneStates) {
      const next = newStates.get(zone);
      if (!next || next === state) continue;
      this.#setLimiter(zone, zoneReady.get(zone)?.length ?? 0, next);
      this.#zoneStates.set(zone, next);
    }
  }

  #setLimiter(zone: string, size: number, state: ZoneState): void {
    const limiter = this.#tainters.get(zone)?.limiter;
    if (!limiter) return;
    if (state === "PartialDisruption") {
      limiter.setQps(size > this.#o.largeClusterThreshold ? this.#o.secondaryEvictionLimiterQPS : 0);
    } else limiter.setQps(this.#o.evictionLimiterQPS);
  }

  // ---- NoSchedule taints and labels ----

  async #syncNode(name: string): Promise<void> {
    const node = this.#nodes.cache.get(name);
    if (!node) return;
    const wanted = conditionNoScheduleTaints(node);
    const have = (node.spec?.taints ?? []).filter((t) =>
      t.effect === "NoSchedule" && (t.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key))
    );
    const add = wanted.filter((t) => !have.some((h) => matchTaint(h, t)));
    const remove = have.filter((h) => !wanted.some((t) => matchTaint(h, t)));
    if (add.length || remove.length) {
      if (!(await swapNodeTaints(this.#nodeApi, name, add, remove)) && this.#nodes.cache.get(name)) {
        throw new Error(`failed to swap taints of node ${name}`);
      }
    }
    await this.#reconcileLabels(node);
  }

  /** Keeps the beta os/arch labels equal to the stable ones. */
  async #reconcileLabels(node: Node): Promise<void> {
    const labels = node.metadata?.labels;
    if (!labels) return;
    const patch: Record<string, string> = {};
    for (const [primary, secondary] of RECONCILED_LABELS) {
      if (labels[primary] !== undefined && labels[secondary] !== labels[primary]) {
        patch[secondary] = labels[primary];
      }
    }
    if (Object.keys(patch).length === 0) return;
    try {
      await this.#nodeApi.patch("", keyOf(node), "merge", { metadata: { labels: patch } });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  // ---- pods bound to not-ready nodes ----

  async #syncPod(key: string): Promise<void> {
    const pod = this.#pods.cache.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const health = this.#health.get(nodeName);
    if (!health || !this.#nodes.cache.get(nodeName)) return;
    const ready = health.conditions.find((c) => c.type === "Ready");
    if (!ready || ready.status === "True") return;
    await markPodsNotReady(this.#podApi, this.#recorder, [pod], nodeName);
  }

  #nodeEvent(node: Node, type: "Normal" | "Warning", reason: string, message: string): void {
    const ref: KubeObject = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: node.metadata?.name, uid: node.metadata?.uid },
    };
    this.#recorder.event(ref, type, reason, message);
  }
}

function logError(what: string, err: unknown): void {
  console.error(`kubedeno: nodelifecycle: ${what}: ${(err as Error)?.message ?? err}`);
}
