/**
 * Builders for the pods and nodes the scheduler's tests and benchmark use, after upstream's
 * `st.MakePod()` / `st.MakeNode()` wrappers: short chains instead of nested literals.
 */

import type {
  Container,
  Node,
  Pod,
  PodAffinityTerm,
  Taint,
  Toleration,
  TopologySpreadConstraint,
} from "../types.ts";

let uidCounter = 0;

export class PodWrapper {
  readonly pod: Pod;

  constructor(name: string, namespace = "default") {
    this.pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, uid: `uid-${name}-${++uidCounter}`, labels: {} },
      spec: { containers: [] },
      status: {},
    };
  }

  get #spec() {
    return this.pod.spec!;
  }

  uid(uid: string): this {
    this.pod.metadata!.uid = uid;
    return this;
  }

  label(key: string, value: string): this {
    this.pod.metadata!.labels![key] = value;
    return this;
  }

  labels(labels: Record<string, string>): this {
    Object.assign(this.pod.metadata!.labels!, labels);
    return this;
  }

  /** A container with these requests (`{cpu: "500m", memory: "1Gi"}`); none: no requests. */
  req(requests?: Record<string, string>): this {
    const c: Container = { name: `c${this.#spec.containers.length}`, image: "pause" };
    if (requests) c.resources = { requests };
    this.#spec.containers.push(c);
    return this;
  }

  initReq(requests: Record<string, string>, restartPolicy?: "Always"): this {
    this.#spec.initContainers ??= [];
    const c: Container = {
      name: `i${this.#spec.initContainers.length}`,
      image: "pause",
      resources: { requests },
    };
    if (restartPolicy) c.restartPolicy = restartPolicy;
    this.#spec.initContainers.push(c);
    return this;
  }

  overhead(overhead: Record<string, string>): this {
    this.#spec.overhead = overhead;
    return this;
  }

  hostPort(port: number, protocol = "TCP", hostIP?: string): this {
    const c: Container = {
      name: `p${this.#spec.containers.length}`,
      image: "pause",
      ports: [{ containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) }],
    };
    this.#spec.containers.push(c);
    return this;
  }

  priority(p: number): this {
    this.#spec.priority = p;
    return this;
  }

  preemptionPolicy(p: string): this {
    this.#spec.preemptionPolicy = p;
    return this;
  }

  priorityClassName(name: string): this {
    this.#spec.priorityClassName = name;
    return this;
  }

  node(name: string): this {
    this.#spec.nodeName = name;
    return this;
  }

  nominatedNodeName(name: string): this {
    this.pod.status!.nominatedNodeName = name;
    return this;
  }

  startTime(iso: string): this {
    this.pod.status!.startTime = iso;
    return this;
  }

  terminating(): this {
    this.pod.metadata!.deletionTimestamp = "2024-01-01T00:00:00Z";
    return this;
  }

  phase(phase: string): this {
    this.pod.status!.phase = phase;
    return this;
  }

  nodeSelector(sel: Record<string, string>): this {
    this.#spec.nodeSelector = sel;
    return this;
  }

  toleration(t: Toleration): this {
    (this.#spec.tolerations ??= []).push(t);
    return this;
  }

  /** A required node affinity term of `key op values` (terms added separately are ORed). */
  nodeAffinityIn(key: string, values: string[], operator = "In"): this {
    const na = ((this.#spec.affinity ??= {}).nodeAffinity ??= {});
    const req = (na.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
    req.nodeSelectorTerms.push({ matchExpressions: [{ key, operator, values }] });
    return this;
  }

  nodeAffinityName(names: string[]): this {
    const na = ((this.#spec.affinity ??= {}).nodeAffinity ??= {});
    const req = (na.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
    req.nodeSelectorTerms.push({ matchFields: [{ key: "metadata.name", operator: "In", values: names }] });
    return this;
  }

  preferredNodeAffinity(weight: number, key: string, values: string[]): this {
    const na = ((this.#spec.affinity ??= {}).nodeAffinity ??= {});
    (na.preferredDuringSchedulingIgnoredDuringExecution ??= []).push({
      weight,
      preference: { matchExpressions: [{ key, operator: "In", values }] },
    });
    return this;
  }

  #term(labelKey: string, labelValue: string, topologyKey: string): PodAffinityTerm {
    return { labelSelector: { matchLabels: { [labelKey]: labelValue } }, topologyKey };
  }

  podAffinity(labelKey: string, labelValue: string, topologyKey: string): this {
    const pa = ((this.#spec.affinity ??= {}).podAffinity ??= {});
    (pa.requiredDuringSchedulingIgnoredDuringExecution ??= []).push(
      this.#term(labelKey, labelValue, topologyKey),
    );
    return this;
  }

  podAntiAffinity(labelKey: string, labelValue: string, topologyKey: string): this {
    const pa = ((this.#spec.affinity ??= {}).podAntiAffinity ??= {});
    (pa.requiredDuringSchedulingIgnoredDuringExecution ??= []).push(
      this.#term(labelKey, labelValue, topologyKey),
    );
    return this;
  }

  preferredPodAffinity(weight: number, labelKey: string, labelValue: string, topologyKey: string): this {
    const pa = ((this.#spec.affinity ??= {}).podAffinity ??= {});
    (pa.preferredDuringSchedulingIgnoredDuringExecution ??= []).push({
      weight,
      podAffinityTerm: this.#term(labelKey, labelValue, topologyKey),
    });
    return this;
  }

  preferredPodAntiAffinity(weight: number, labelKey: string, labelValue: string, topologyKey: string): this {
    const pa = ((this.#spec.affinity ??= {}).podAntiAffinity ??= {});
    (pa.preferredDuringSchedulingIgnoredDuringExecution ??= []).push({
      weight,
      podAffinityTerm: this.#term(labelKey, labelValue, topologyKey),
    });
    return this;
  }

  spread(
    maxSkew: number,
    topologyKey: string,
    whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway",
    matchLabels: Record<string, string>,
    extra: Partial<TopologySpreadConstraint> = {},
  ): this {
    (this.#spec.topologySpreadConstraints ??= []).push({
      maxSkew,
      topologyKey,
      whenUnsatisfiable,
      labelSelector: { matchLabels },
      ...extra,
    });
    return this;
  }

  pvc(claimName: string): this {
    (this.#spec.volumes ??= []).push({ name: `v-${claimName}`, persistentVolumeClaim: { claimName } });
    return this;
  }

  owner(kind: string, name: string, apiVersion = "apps/v1"): this {
    this.pod.metadata!.ownerReferences = [{ apiVersion, kind, name, uid: `uid-${name}`, controller: true }];
    return this;
  }

  obj(): Pod {
    return this.pod;
  }
}

export function makePod(name: string, namespace?: string): PodWrapper {
  return new PodWrapper(name, namespace);
}

export class NodeWrapper {
  readonly node: Node;

  constructor(name: string) {
    this.node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name } },
      spec: {},
      status: { allocatable: { cpu: "4", memory: "16Gi", pods: "110" } },
    };
  }

  label(key: string, value: string): this {
    this.node.metadata!.labels![key] = value;
    return this;
  }

  zone(zone: string): this {
    return this.label("topology.kubernetes.io/zone", zone);
  }

  capacity(allocatable: Record<string, string>): this {
    this.node.status!.allocatable = allocatable;
    return this;
  }

  taint(key: string, value: string | undefined, effect: string): this {
    const t: Taint = { key, effect };
    if (value !== undefined) t.value = value;
    (this.node.spec!.taints ??= []).push(t);
    return this;
  }

  unschedulable(): this {
    this.node.spec!.unschedulable = true;
    return this;
  }

  obj(): Node {
    return this.node;
  }
}

export function makeNode(name: string): NodeWrapper {
  return new NodeWrapper(name);
}
