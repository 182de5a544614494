/**
 * PodTopologySpread: `whenUnsatisfiable: DoNotSchedule` constraints are hard (filter: placing
 * the pod must keep `matching + self − global minimum ≤ maxSkew`, the minimum taken as 0 while
 * fewer than `minDomains` domains exist); `ScheduleAnyway` ones score (weight 2), domains with
 * fewer matching pods scoring higher. `nodeAffinityPolicy` defaults to Honor and
 * `nodeTaintsPolicy` to Ignore; `matchLabelKeys` adds the pod's own values to the selector.
 * Pods without constraints that belong to a Service, ReplicationController, ReplicaSet or
 * StatefulSet get the system defaults (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) when
 * the caller supplies those listers.
 */

import type { LabelSelector } from "../../../machinery/labels.ts";
import { type CycleContext, type Plugin, SKIP } from "../interface.ts";
import { MAX_NODE_SCORE } from "../interface.ts";
import type { NodeInfo } from "../node_info.ts";
import { parseSelector, type PodInfo, selects } from "../pod_info.ts";
import { Code, newStatus } from "../status.ts";
import { LABEL_HOSTNAME, LABEL_TOPOLOGY_ZONE, type Pod, type TopologySpreadConstraint } from "../types.ts";
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint, requiredNodeAffinityOf } from "./helper.ts";

export const NAME = "PodTopologySpread";
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)";

const REJECTED = newStatus(Code.Unschedulable, NAME, ERR_REASON_CONSTRAINTS_NOT_MATCH);
const MISSING_LABEL = newStatus(Code.UnschedulableAndUnresolvable, NAME, ERR_REASON_NODE_LABEL_NOT_MATCH);
const SKIP_STATUS = newStatus(Code.Skip, NAME);

/** The system default constraints (applied when a pod has none and a selector can be derived). */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = [
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: "ScheduleAnyway", maxSkew: 3 },
  { topologyKey: LABEL_TOPOLOGY_ZONE, whenUnsatisfiable: "ScheduleAnyway", maxSkew: 5 },
];

/** A constraint with its selector parsed and defaults applied. */
export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  /** null selects no pod. */
  selector: LabelSelector | null;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

function toConstraints(
  list: readonly TopologySpreadConstraint[],
  podLabels: Record<string, string>,
  action: string,
  selectorOverride?: LabelSelector,
): Constraint[] {
  const out: Constraint[] = [];
  for (const c of list) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = selectorOverride ?? parseSelector(c.labelSelector);
    if (selector && c.matchLabelKeys?.length) {
      const extra = c.matchLabelKeys.filter((k) => Object.hasOwn(podLabels, k))
        .map((key) => ({ key, operator: "=" as const, values: [podLabels[key]] }));
      if (extra.length) selector = { requirements: [...extra, ...selector.requirements] };
    }
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
      honorNodeTaints: (c.nodeTaintsPolicy ?? "Ignore") === "Honor",
    });
  }
  return out;
}

/**
 * The selector the system defaults spread by: the union of the selectors of the Services
 * selecting the pod, plus its controlling ReplicationController's, ReplicaSet's or
 * StatefulSet's. Null when nothing is known (no listers, no owner, no service).
 */
export function defaultSelector(pod: Pod, ctx: CycleContext): LabelSelector | null {
  const { inputs } = ctx;
  const ns = ctx.podInfo.namespace, podLabels = ctx.podInfo.labels;
  const set = new Map<string, string>();
  for (const svc of inputs.services?.list() ?? []) {
    if ((svc.metadata?.namespace || "default") !== ns) continue;
    const sel = svc.spec?.selector;
    if (!sel) continue;
    if (Object.entries(sel).every(([k, v]) => podLabels[k] === v)) {
      for (const [k, v] of Object.entries(sel)) set.set(k, v);
    }
  }
  let extra: LabelSelector["requirements"] = [];
  const owner = pod.metadata?.ownerReferences?.find((r) => r.controller);
  if (owner) {
    const key = `${ns}/${owner.name}`;
    if (owner.kind === "ReplicationController" && owner.apiVersion === "v1") {
      const rc = inputs.replicationControllers?.get(key);
      for (const [k, v] of Object.entries(rc?.spec?.selector ?? {})) set.set(k, v);
    } else if (
      (owner.kind === "ReplicaSet" || owner.kind === "StatefulSet") && owner.apiVersion === "apps/v1"
    ) {
      const obj = owner.kind === "ReplicaSet" ? inputs.replicaSets?.get(key) : inputs.statefulSets?.get(key);
      if (obj) extra = parseSelector(obj.spec?.selector)?.requirements ?? [];
    }
  }
  const requirements = [
    ...[...set].map(([key, v]) => ({ key, operator: "=" as const, values: [v] })),
    ...extra,
  ];
  return requirements.length ? { requirements } : null;
}

/** The pod's constraints for one action (its own, else the system defaults). */
function constraintsFor(ctx: CycleContext, action: "DoNotSchedule" | "ScheduleAnyway"): Constraint[] {
  const own = ctx.pod.spec?.topologySpreadConstraints;
  if (own && own.length > 0) return toConstraints(own, ctx.podInfo.labels, action);
  if (!SYSTEM_DEFAULT_CONSTRAINTS.some((c) => c.whenUnsatisfiable === action)) return [];
  const selector = defaultSelector(ctx.pod, ctx);
  return selector ? toConstraints(SYSTEM_DEFAULT_CONSTRAINTS, ctx.podInfo.labels, action, selector) : [];
}

function hasAllKeys(labels: Record<string, string>, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) if (typeof labels[c.topologyKey] !== "string") return false;
  return true;
}

/** Whether a node counts for a constraint under its node inclusion policies. */
function included(ctx: CycleContext, c: Constraint, node: NodeInfo): boolean {
  if (c.honorNodeAffinity) {
    const required = requiredNodeAffinityOf(ctx.pod);
    if (!required.isEmpty && !required.matchNode(node)) return false;
  }
  if (c.honorNodeTaints) {
    const tolerations = ctx.pod.spec?.tolerations ?? [];
    if (findMatchingUntoleratedTaint(node.taints, tolerations, isDoNotScheduleTaint)) return false;
  }
  return true;
}

/** Per constraint: whether every node passes its inclusion policies (nothing to check). */
function everyNodeIncluded(ctx: CycleContext, constraints: readonly Constraint[]): boolean[] {
  const noAffinity = requiredNodeAffinityOf(ctx.pod).isEmpty;
  return constraints.map((c) => (!c.honorNodeAffinity || noAffinity) && !c.honorNodeTaints);
}

/** Pods on the node in `namespace`, not terminating, that `selector` selects. */
export function countPodsMatchSelector(
  pods: readonly PodInfo[],
  selector: LabelSelector | null,
  namespace: string,
): number {
  if (!selector || selector.requirements.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < pods.length; i++) {
    const p = pods[i];
    if (p.terminating || p.namespace !== namespace) continue;
    if (selects(selector, p.labels)) n++;
  }
  return n;
}

const selectorKeys = new WeakMap<LabelSelector, string>();
const nodeCounts = new WeakMap<NodeInfo, { generation: number; counts: Map<string, number> }>();

/**
 * {@linkcode countPodsMatchSelector} on a node's pods, remembered per node until its pods change
 * (its generation moves): pods of one workload are scheduled one after another with the same
 * selector, so most nodes are counted once rather than once per pod.
 */
export function countOnNode(node: NodeInfo, selector: LabelSelector | null, namespace: string): number {
  if (!selector || selector.requirements.length === 0) return 0;
  let sk = selectorKeys.get(selector);
  if (sk === undefined) selectorKeys.set(selector, sk = JSON.stringify(selector.requirements));
  const key = `${namespace}\0${sk}`;
  let entry = nodeCounts.get(node);
  if (!entry || entry.generation !== node.generation) {
    nodeCounts.set(node, entry = { generation: node.generation, counts: new Map() });
  }
  let n = entry.counts.get(key);
  if (n === undefined) entry.counts.set(key, n = countPodsMatchSelector(node.pods, selector, namespace));
  return n;
}

/** PreFilter state: per constraint, matching pods per topology value, and the global minimum. */
export interface SpreadFilterState {
  constraints: Constraint[];
  /** Whether the incoming pod itself matches each constraint. */
  selfMatch: number[];
  tpValueToMatchNum: Map<string, number>[];
  /** Per constraint: the smallest count; recomputed when `dirty`. */
  minMatchNum: number[];
  dirty: boolean;
}

function computeMin(s: SpreadFilterState): void {
  for (let i = 0; i < s.constraints.length; i++) {
    let min = Infinity;
    for (const n of s.tpValueToMatchNum[i].values()) if (n < min) min = n;
    s.minMatchNum[i] = min;
  }
  s.dirty = false;
}

function updateWithPod(
  ctx: CycleContext,
  s: SpreadFilterState,
  pod: PodInfo,
  node: NodeInfo,
  delta: number,
): void {
  if (pod.namespace !== ctx.podInfo.namespace || !hasAllKeys(node.labels, s.constraints)) return;
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i];
    if (!c.selector || !selects(c.selector, pod.labels) || !included(ctx, c, node)) continue;
    const v = node.labels[c.topologyKey];
    const m = s.tpValueToMatchNum[i];
    m.set(v, (m.get(v) ?? 0) + delta);
    s.dirty = true;
  }
}

/** PreScore state. */
export interface SpreadScoreState {
  constraints: Constraint[];
  ignoredNodes: Set<string>;
  /** Per constraint (hostname ones excepted): matching pods per topology value. */
  tpValueToPodCounts: Map<string, number>[];
  normalizingWeight: number[];
}

export const podTopologySpread: Plugin<SpreadFilterState, SpreadScoreState> = {
  name: NAME,
  weight: 2,
  preFilter(ctx) {
    const constraints = constraintsFor(ctx, "DoNotSchedule");
    if (constraints.length === 0) return { status: SKIP_STATUS };
    const s: SpreadFilterState = {
      constraints,
      selfMatch: constraints.map((c) => c.selector && selects(c.selector, ctx.podInfo.labels) ? 1 : 0),
      tpValueToMatchNum: constraints.map(() => new Map()),
      minMatchNum: [],
      dirty: true,
    };
    const ns = ctx.podInfo.namespace;
    const all = everyNodeIncluded(ctx, constraints);
    const nodes = ctx.snapshot.nodeInfos();
    for (let n = 0; n < nodes.length; n++) {
      const node = nodes[n];
      if (!hasAllKeys(node.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (!all[i] && !included(ctx, c, node)) continue;
        const v = node.labels[c.topologyKey];
        const m = s.tpValueToMatchNum[i];
        m.set(v, (m.get(v) ?? 0) + countOnNode(node, c.selector, ns));
      }
    }
    computeMin(s);
    return { state: s };
  },
  filter(_ctx, s, node) {
    if (s.dirty) computeMin(s);
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) return MISSING_LABEL;
      const m = s.tpValueToMatchNum[i];
      const min = m.size < c.minDomains ? 0 : s.minMatchNum[i];
      if ((m.get(v) ?? 0) + s.selfMatch[i] - min > c.maxSkew) return REJECTED;
    }
    return null;
  },
  addPod(ctx, s, pod, node) {
    updateWithPod(ctx, s, pod, node, 1);
  },
  removePod(ctx, s, pod, node) {
    updateWithPod(ctx, s, pod, node, -1);
  },
  cloneState(s) {
    return {
      ...s,
      tpValueToMatchNum: s.tpValueToMatchNum.map((m) => new Map(m)),
      minMatchNum: [...s.minMatchNum],
    };
  },
  preScore(ctx, filtered) {
    const all = ctx.snapshot.nodeInfos();
    if (all.length === 0) return SKIP;
    const constraints = constraintsFor(ctx, "ScheduleAnyway");
    if (constraints.length === 0) return SKIP;
    // Only the pod's own constraints require every topology label on a node; with the
    // system defaults a node without a zone still spreads by hostname.
    const requireAll = (ctx.pod.spec?.topologySpreadConstraints?.length ?? 0) > 0;
    const s: SpreadScoreState = {
      constraints,
      ignoredNodes: new Set(),
      tpValueToPodCounts: constraints.map(() => new Map()),
      normalizingWeight: [],
    };
    const sizes = constraints.map(() => 0);
    for (const node of filtered) {
      if (requireAll && !hasAllKeys(node.labels, constraints)) {
        s.ignoredNodes.add(node.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (c.topologyKey === LABEL_HOSTNAME) continue;
        const v = node.labels[c.topologyKey] ?? "";
        if (!s.tpValueToPodCounts[i].has(v)) {
          s.tpValueToPodCounts[i].set(v, 0);
          sizes[i]++;
        }
      }
    }
    s.normalizingWeight = constraints.map((c, i) =>
      Math.log((c.topologyKey === LABEL_HOSTNAME ? filtered.length - s.ignoredNodes.size : sizes[i]) + 2)
    );
    const ns = ctx.podInfo.namespace;
    const counted = constraints.map((c) => c.topologyKey !== LABEL_HOSTNAME);
    if (!counted.some((x) => x)) return s;
    const everyIncluded = everyNodeIncluded(ctx, constraints);
    for (const node of all) {
      if (requireAll && !hasAllKeys(node.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (!counted[i] || (!everyIncluded[i] && !included(ctx, c, node))) continue;
        const v = node.labels[c.topologyKey] ?? "";
        const counts = s.tpValueToPodCounts[i];
        const cur = counts.get(v);
        if (cur === undefined) continue;
        counts.set(v, cur + countOnNode(node, c.selector, ns));
      }
    }
    return s;
  },
  score(ctx, s, node) {
    if (s.ignoredNodes.has(node.name)) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) continue;
      const cnt = c.topologyKey === LABEL_HOSTNAME
        ? countOnNode(node, c.selector, ctx.podInfo.namespace)
        : s.tpValueToPodCounts[i].get(v) ?? 0;
      score += cnt * s.normalizingWeight[i] + (c.maxSkew - 1);
    }
    return Math.round(score);
  },
  normalizeScore(_ctx, s, scores, nodes) {
    let min = Infinity, max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (s.ignoredNodes.has(nodes[i].name)) continue;
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    }
    for (let i = 0; i < scores.length; i++) {
      if (s.ignoredNodes.has(nodes[i].name)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
    }
  },
};
