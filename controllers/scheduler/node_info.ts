/**
 * The scheduler's view of the cluster: a `NodeInfo` per node (the node, the pods on it, their
 * summed requests and non-zero requests, used host ports, allocatable) and the
 * `ClusterSnapshot` that keeps them current from informer events, including pods "assumed" on a
 * node before their binding is confirmed. Nodes are listed zone by zone in turn, as upstream's
 * node tree lists them, so a partial search still spreads across zones.
 */

import {
  emptyResource,
  type HostPort,
  isScalarResourceName,
  type PodInfo,
  podInfoFor,
  podInfoOf,
  quantityValue,
  type Resource,
} from "./pod_info.ts";
import {
  LABEL_FAILURE_DOMAIN_REGION,
  LABEL_FAILURE_DOMAIN_ZONE,
  LABEL_TOPOLOGY_REGION,
  LABEL_TOPOLOGY_ZONE,
  type Node,
  type Pod,
  type Taint,
} from "./types.ts";

const NO_TAINTS: readonly Taint[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Node-level aggregate of everything the plugins read. */
export class NodeInfo {
  /** The node; undefined while pods name a node the snapshot has not seen (or that was removed). */
  node: Node | undefined;
  readonly name: string;
  labels: Readonly<Record<string, string>> = NO_LABELS;
  taints: readonly Taint[] = NO_TAINTS;
  unschedulable = false;
  /** Pods on the node, assumed ones included. */
  pods: PodInfo[] = [];
  /** The subset with pod affinity or anti-affinity. */
  podsWithAffinity: PodInfo[] = [];
  /** The subset with required anti-affinity. */
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** Sum of the pods' requests. */
  requested: Resource = emptyResource();
  /** Sum of the pods' cpu and memory requests with the scoring defaults applied. */
  nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  allowedPodNumber = 0;
  /** Used host ports: ip → `protocol/port` → how many pods bind it. */
  usedPorts = new Map<string, Map<string, number>>();
  /** The node-tree zone the node is listed under. */
  zoneKey = "";
  /** Bumped on every change. */
  generation = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Sets (or replaces) the node object and what is derived from it. */
  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? NO_LABELS;
    this.taints = node.spec?.taints ?? NO_TAINTS;
    this.unschedulable = !!node.spec?.unschedulable;
    const list = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, unknown>;
    const alloc = emptyResource();
    let pods = 0;
    for (const name in list) {
      const v = quantityValue(name, list[name]);
      if (name === "pods") pods = v;
      else if (name === "cpu") alloc.milliCPU = v;
      else if (name === "memory") alloc.memory = v;
      else if (name === "ephemeral-storage") alloc.ephemeralStorage = v;
      else if (isScalarResourceName(name)) {
        alloc.scalar ??= new Map();
        alloc.scalar.set(name, v);
      }
    }
    this.allocatable = alloc;
    this.allowedPodNumber = pods;
    this.zoneKey = zoneKeyOf(node);
    this.generation++;
  }

  addPodInfo(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity) this.podsWithAffinity.push(pi);
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(pi);
    this.#update(pi, 1);
  }

  /** Removes the pod with `key`; returns it, or undefined when it is not here. */
  removePod(key: string): PodInfo | undefined {
    const removed = removeByKey(this.pods, key);
    if (!removed) return undefined;
    if (removed.hasAffinity) removeByKey(this.podsWithAffinity, key);
    if (removed.hasRequiredAntiAffinity) removeByKey(this.podsWithRequiredAntiAffinity, key);
    this.#update(removed, -1);
    return removed;
  }

  #update(pi: PodInfo, sign: 1 | -1): void {
    const r = this.requested, q = pi.requests;
    r.milliCPU += sign * q.milliCPU;
    r.memory += sign * q.memory;
    r.ephemeralStorage += sign * q.ephemeralStorage;
    if (q.scalar) {
      r.scalar ??= new Map();
      for (const [k, v] of q.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + sign * v);
    }
    this.nonZeroRequested.milliCPU += sign * pi.nonZeroCPU;
    this.nonZeroRequested.memory += sign * pi.nonZeroMemory;
    for (const hp of pi.hostPorts) {
      let m = this.usedPorts.get(hp.ip);
      if (!m) this.usedPorts.set(hp.ip, m = new Map());
      const pp = `${hp.protocol}/${hp.port}`;
      const n = (m.get(pp) ?? 0) + sign;
      if (n > 0) m.set(pp, n);
      else {
        m.delete(pp);
        if (m.size === 0) this.usedPorts.delete(hp.ip);
      }
    }
    this.generation++;
  }

  /**
   * Whether binding `hp` would clash with a used port: 0.0.0.0 clashes with the same
   * protocol/port on any address, a specific address with itself and 0.0.0.0.
   */
  portConflicts(hp: HostPort): boolean {
    if (hp.port <= 0 || this.usedPorts.size === 0) return false;
    const pp = `${hp.protocol}/${hp.port}`;
    if (hp.ip === "0.0.0.0") {
      for (const m of this.usedPorts.values()) if (m.has(pp)) return true;
      return false;
    }
    return !!(this.usedPorts.get("0.0.0.0")?.has(pp) || this.usedPorts.get(hp.ip)?.has(pp));
  }

  /** A copy whose pod lists and sums can be changed (preemption's what-if). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.allocatable = this.allocatable;
    c.allowedPodNumber = this.allowedPodNumber;
    c.usedPorts = new Map([...this.usedPorts].map(([ip, m]) => [ip, new Map(m)]));
    c.zoneKey = this.zoneKey;
    c.generation = this.generation;
    return c;
  }
}

function cloneResource(r: Resource): Resource {
  return { ...r, scalar: r.scalar ? new Map(r.scalar) : undefined };
}

/** Removes by swapping in the last element, as upstream does. */
function removeByKey(list: PodInfo[], key: string): PodInfo | undefined {
  for (let i = 0; i < list.length; i++) {
    if (list[i].key === key) {
      const found = list[i];
      list[i] = list[list.length - 1];
      list.pop();
      return found;
    }
  }
  return undefined;
}

/** The node tree's zone of a node: region and zone labels, "" when neither is set. */
export function zoneKeyOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  const region = l[LABEL_TOPOLOGY_REGION] ?? l[LABEL_FAILURE_DOMAIN_REGION] ?? "";
  const zone = l[LABEL_TOPOLOGY_ZONE] ?? l[LABEL_FAILURE_DOMAIN_ZONE] ?? "";
  return region === "" && zone === "" ? "" : `${region}:\x00:${zone}`;
}

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

function podKey(pod: Pod): string {
  return podInfoOf(pod).key;
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/**
 * The scheduler's cache of nodes and the pods bound (or assumed) to them, updated one event
 * at a time. Pods count against `spec.nodeName`; terminal pods (Succeeded/Failed) count
 * against nothing.
 */
export class ClusterSnapshot {
  readonly #nodeInfos = new Map<string, NodeInfo>();
  readonly #pods = new Map<string, PodState>();
  /** zone → its nodes, in the order zones and nodes were added (the node tree). */
  readonly #zones = new Map<string, NodeInfo[]>();
  #list: NodeInfo[] | null = null;
  /** Nodes hosting at least one pod with pod (anti-)affinity. */
  readonly nodesWithPodsWithAffinity = new Set<NodeInfo>();
  /** Nodes hosting at least one pod with required anti-affinity. */
  readonly nodesWithPodsWithRequiredAntiAffinity = new Set<NodeInfo>();
  /** Where the next cycle starts its search through the node list (round robin). */
  nextStartNodeIndex = 0;

  /** The nodes, zone by zone in turn; only nodes whose object is known. */
  nodeInfos(): readonly NodeInfo[] {
    if (!this.#list) this.#list = this.#buildList();
    return this.#list;
  }

  get numNodes(): number {
    return this.nodeInfos().length;
  }

  /** The node's info, if the node is known. */
  get(nodeName: string): NodeInfo | undefined {
    const ni = this.#nodeInfos.get(nodeName);
    return ni?.node ? ni : undefined;
  }

  /** How many pods with pod (anti-)affinity the snapshot holds. */
  get podsWithAffinityCount(): number {
    let n = 0;
    for (const ni of this.nodesWithPodsWithAffinity) n += ni.podsWithAffinity.length;
    return n;
  }

  #buildList(): NodeInfo[] {
    const out: NodeInfo[] = [];
    const zones = [...this.#zones.values()];
    for (let i = 0;; i++) {
      let any = false;
      for (const z of zones) {
        if (i < z.length) {
          out.push(z[i]);
          any = true;
        }
      }
      if (!any) return out;
    }
  }

  #treeAdd(ni: NodeInfo): void {
    let z = this.#zones.get(ni.zoneKey);
    if (!z) this.#zones.set(ni.zoneKey, z = []);
    z.push(ni);
    this.#list = null;
  }

  #treeRemove(ni: NodeInfo, zoneKey: string): void {
    const z = this.#zones.get(zoneKey);
    if (!z) return;
    const i = z.indexOf(ni);
    if (i >= 0) z.splice(i, 1);
    if (z.length === 0) this.#zones.delete(zoneKey);
    this.#list = null;
  }

  #infoFor(nodeName: string): NodeInfo {
    let ni = this.#nodeInfos.get(nodeName);
    if (!ni) this.#nodeInfos.set(nodeName, ni = new NodeInfo(nodeName));
    return ni;
  }

  addNode(node: Node): void {
    const name = node.metadata?.name ?? "";
    const ni = this.#infoFor(name);
    const known = !!ni.node;
    const oldZone = ni.zoneKey;
    ni.setNode(node);
    if (!known) this.#treeAdd(ni);
    else if (oldZone !== ni.zoneKey) {
      this.#treeRemove(ni, oldZone);
      this.#treeAdd(ni);
    }
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  /** Forgets the node; its pods stay accounted until they are removed. */
  removeNode(node: Node | string): void {
    const name = typeof node === "string" ? node : node.metadata?.name ?? "";
    const ni = this.#nodeInfos.get(name);
    if (!ni?.node) return;
    this.#treeRemove(ni, ni.zoneKey);
    ni.node = undefined;
    ni.generation++;
    if (ni.pods.length === 0) this.#nodeInfos.delete(name);
  }

  #place(info: PodInfo, nodeName: string, assumed: boolean): void {
    const ni = this.#infoFor(nodeName);
    ni.addPodInfo(info);
    if (info.hasAffinity) this.nodesWithPodsWithAffinity.add(ni);
    if (info.hasRequiredAntiAffinity) this.nodesWithPodsWithRequiredAntiAffinity.add(ni);
    this.#pods.set(info.key, { info, nodeName, assumed });
  }

  #unplace(key: string): PodState | undefined {
    const state = this.#pods.get(key);
    if (!state) return undefined;
    this.#pods.delete(key);
    const ni = this.#nodeInfos.get(state.nodeName);
    if (!ni) return state;
    ni.removePod(key);
    if (ni.podsWithAffinity.length === 0) this.nodesWithPodsWithAffinity.delete(ni);
    if (ni.podsWithRequiredAntiAffinity.length === 0) this.nodesWithPodsWithRequiredAntiAffinity.delete(ni);
    if (!ni.node && ni.pods.length === 0) this.#nodeInfos.delete(state.nodeName);
    return state;
  }

  /**
   * A pod from the informer. One without `spec.nodeName` is ignored; a terminal one is
   * removed. An assumed pod is confirmed (moved if it landed elsewhere).
   */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isTerminal(pod)) {
      this.#unplace(key);
      return;
    }
    this.#unplace(key);
    this.#place(podInfoOf(pod), nodeName, false);
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod | string): void {
    this.#unplace(typeof pod === "string" ? pod : podKey(pod));
  }

  /**
   * Counts `pod` on `nodeName` before its binding is confirmed, so the next cycles see it.
   * Returns the assumed copy (with `spec.nodeName` set). Throws if the pod is already cached.
   */
  assumePod(pod: Pod, nodeName: string): Pod {
    const info = podInfoOf(pod);
    if (this.#pods.has(info.key)) {
      throw new Error(
        `Pod ${info.namespace}/${info.name} is already in the scheduler cache and can't be assumed`,
      );
    }
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName } };
    this.#place(podInfoFor(assumed, info), nodeName, true);
    return assumed;
  }

  /** Drops an assumed pod (its binding failed). Returns whether it was assumed here. */
  forgetPod(pod: Pod | string): boolean {
    const key = typeof pod === "string" ? pod : podKey(pod);
    if (!this.#pods.get(key)?.assumed) return false;
    this.#unplace(key);
    return true;
  }

  isAssumed(pod: Pod | string): boolean {
    const key = typeof pod === "string" ? pod : podKey(pod);
    return !!this.#pods.get(key)?.assumed;
  }

  /** The node a cached pod counts against. */
  nodeOfPod(pod: Pod | string): string | undefined {
    return this.#pods.get(typeof pod === "string" ? pod : podKey(pod))?.nodeName;
  }

  get numPods(): number {
    return this.#pods.size;
  }
}
