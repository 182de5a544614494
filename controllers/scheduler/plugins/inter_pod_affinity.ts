/**
 * InterPodAffinity: required pod affinity and anti-affinity in both directions (filter) — the
 * incoming pod's affinity terms need matching pods in the node's topology domain (the first
 * pod of a self-affine group may go anywhere), its anti-affinity terms none, and no existing
 * pod's anti-affinity may select it; preferred terms of both sides score (weight 2), existing
 * pods' required affinity terms counting with weight 1. Only nodes holding pods with affinity
 * are visited unless the incoming pod has terms of its own.
 */

import { type CycleContext, MAX_NODE_SCORE, type Plugin, SKIP } from "../interface.ts";
import type { NodeInfo } from "../node_info.ts";
import { type AffinityTerm, type PodInfo, termMatches, type WeightedAffinityTerm } from "../pod_info.ts";
import { Code, newStatus } from "../status.ts";

export const NAME = "InterPodAffinity";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH =
  "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";

/** The weight existing pods' required affinity terms score with (upstream's default). */
export const HARD_POD_AFFINITY_WEIGHT = 1;

const AFFINITY_REJECTED = newStatus(
  Code.UnschedulableAndUnresolvable,
  NAME,
  ERR_REASON_AFFINITY_RULES_NOT_MATCH,
);
const ANTI_AFFINITY_REJECTED = newStatus(Code.Unschedulable, NAME, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
const EXISTING_REJECTED = newStatus(
  Code.Unschedulable,
  NAME,
  ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
);
const SKIP_STATUS = newStatus(Code.Skip, NAME);

/** topology key → topology value → count (entries at zero are removed). */
export type TopologyCounts = Map<string, Map<string, number>>;

function addCount(m: TopologyCounts, key: string, value: string, delta: number): void {
  let inner = m.get(key);
  if (!inner) m.set(key, inner = new Map());
  const n = (inner.get(value) ?? 0) + delta;
  if (n !== 0) inner.set(value, n);
  else {
    inner.delete(value);
    if (inner.size === 0) m.delete(key);
  }
}

function countOf(m: TopologyCounts, key: string, value: string): number {
  return m.get(key)?.get(value) ?? 0;
}

/** Labels of a namespace from the inputs, memoized for the cycle. */
function namespaceLabelsLookup(ctx: CycleContext): (ns: string) => Record<string, string> {
  const memo = new Map<string, Record<string, string>>();
  return (ns) => {
    let l = memo.get(ns);
    if (!l) memo.set(ns, l = ctx.inputs.namespaces?.get(ns)?.metadata?.labels ?? {});
    return l;
  };
}

/** Whether `target` matches every term (false for no terms). */
function matchesAllTerms(
  terms: readonly AffinityTerm[],
  target: PodInfo,
  nsLabels: (ns: string) => Record<string, string>,
): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!matches(t, target, nsLabels)) return false;
  return true;
}

function matches(
  t: AffinityTerm,
  target: PodInfo,
  nsLabels: (ns: string) => Record<string, string>,
): boolean {
  // Look the namespace's labels up only when the term selects namespaces by label.
  if (!t.namespaces.has(target.namespace) && t.namespaceSelector) {
    return termMatches(t, target, nsLabels(target.namespace));
  }
  return termMatches(t, target);
}

function updateWithAffinityTerms(
  m: TopologyCounts,
  target: PodInfo,
  node: NodeInfo,
  terms: readonly AffinityTerm[],
  nsLabels: (ns: string) => Record<string, string>,
  delta: number,
): void {
  if (!matchesAllTerms(terms, target, nsLabels)) return;
  for (const t of terms) {
    const v = node.labels[t.topologyKey];
    if (v !== undefined) addCount(m, t.topologyKey, v, delta);
  }
}

function updateWithAntiAffinityTerms(
  m: TopologyCounts,
  target: PodInfo,
  node: NodeInfo,
  terms: readonly AffinityTerm[],
  nsLabels: (ns: string) => Record<string, string>,
  delta: number,
): void {
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    if (!matches(t, target, nsLabels)) continue;
    const v = node.labels[t.topologyKey];
    if (v !== undefined) addCount(m, t.topologyKey, v, delta);
  }
}

/** PreFilter state. */
export interface InterPodFilterState {
  /** Pairs where existing pods' required anti-affinity selects the incoming pod. */
  existingAntiAffinityCounts: TopologyCounts;
  /** Pairs holding pods that match all the incoming pod's affinity terms. */
  affinityCounts: TopologyCounts;
  /** Pairs holding pods its anti-affinity terms select. */
  antiAffinityCounts: TopologyCounts;
  nsLabels: (ns: string) => Record<string, string>;
}

function updateWithPod(
  ctx: CycleContext,
  s: InterPodFilterState,
  pod: PodInfo,
  node: NodeInfo,
  delta: number,
): void {
  const own = () => ctx.namespaceLabels;
  updateWithAntiAffinityTerms(
    s.existingAntiAffinityCounts,
    ctx.podInfo,
    node,
    pod.requiredAntiAffinityTerms,
    own,
    delta,
  );
  updateWithAffinityTerms(s.affinityCounts, pod, node, ctx.podInfo.requiredAffinityTerms, s.nsLabels, delta);
  updateWithAntiAffinityTerms(
    s.antiAffinityCounts,
    pod,
    node,
    ctx.podInfo.requiredAntiAffinityTerms,
    s.nsLabels,
    delta,
  );
}

function cloneCounts(m: TopologyCounts): TopologyCounts {
  return new Map([...m].map(([k, inner]) => [k, new Map(inner)]));
}

/** PreScore state: topology key → value → summed weight. */
export type InterPodScoreState = TopologyCounts;

function processTerm(
  m: TopologyCounts,
  t: AffinityTerm,
  weight: number,
  target: PodInfo,
  nsLabels: (ns: string) => Record<string, string>,
  node: NodeInfo,
): boolean {
  if (!matches(t, target, nsLabels)) return false;
  const v = node.labels[t.topologyKey];
  if (v === undefined) return false;
  let inner = m.get(t.topologyKey);
  if (!inner) m.set(t.topologyKey, inner = new Map());
  inner.set(v, (inner.get(v) ?? 0) + weight);
  return true;
}

function processTerms(
  m: TopologyCounts,
  terms: readonly WeightedAffinityTerm[],
  sign: number,
  target: PodInfo,
  nsLabels: (ns: string) => Record<string, string>,
  node: NodeInfo,
): boolean {
  let any = false;
  for (const t of terms) any = processTerm(m, t, t.weight * sign, target, nsLabels, node) || any;
  return any;
}

function hasLabels(node: NodeInfo): boolean {
  for (const _ in node.labels) return true;
  return false;
}

export const interPodAffinity: Plugin<InterPodFilterState, InterPodScoreState> = {
  name: NAME,
  weight: 2,
  preFilter(ctx) {
    const pi = ctx.podInfo;
    const s: InterPodFilterState = {
      existingAntiAffinityCounts: new Map(),
      affinityCounts: new Map(),
      antiAffinityCounts: new Map(),
      nsLabels: namespaceLabelsLookup(ctx),
    };
    const own = () => ctx.namespaceLabels;
    for (const node of ctx.snapshot.nodesWithPodsWithRequiredAntiAffinity) {
      if (!node.node) continue;
      for (const existing of node.podsWithRequiredAntiAffinity) {
        updateWithAntiAffinityTerms(
          s.existingAntiAffinityCounts,
          pi,
          node,
          existing.requiredAntiAffinityTerms,
          own,
          1,
        );
      }
    }
    const hasTerms = pi.requiredAffinityTerms.length > 0 || pi.requiredAntiAffinityTerms.length > 0;
    if (hasTerms) {
      const nodes = ctx.snapshot.nodeInfos();
      const { requiredAffinityTerms: affinity, requiredAntiAffinityTerms: anti } = pi;
      for (let n = 0; n < nodes.length; n++) {
        const node = nodes[n], pods = node.pods;
        for (let i = 0; i < pods.length; i++) {
          if (affinity.length) {
            updateWithAffinityTerms(s.affinityCounts, pods[i], node, affinity, s.nsLabels, 1);
          }
          if (anti.length) {
            updateWithAntiAffinityTerms(s.antiAffinityCounts, pods[i], node, anti, s.nsLabels, 1);
          }
        }
      }
    }
    if (s.existingAntiAffinityCounts.size === 0 && !hasTerms) return { status: SKIP_STATUS };
    return { state: s };
  },
  filter(ctx, s, node) {
    const pi = ctx.podInfo;
    const labels = node.labels;
    if (pi.requiredAffinityTerms.length > 0) {
      let podsExist = true;
      for (const t of pi.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        // Every topology label must exist on the node.
        if (v === undefined) return AFFINITY_REJECTED;
        if (countOf(s.affinityCounts, t.topologyKey, v) <= 0) podsExist = false;
      }
      // The first pod of a group with affinity to itself may go anywhere.
      if (
        !podsExist &&
        !(s.affinityCounts.size === 0 &&
          matchesAllTerms(pi.requiredAffinityTerms, pi, () => ctx.namespaceLabels))
      ) return AFFINITY_REJECTED;
    }
    for (const t of pi.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && countOf(s.antiAffinityCounts, t.topologyKey, v) > 0) {
        return ANTI_AFFINITY_REJECTED;
      }
    }
    for (const [key, values] of s.existingAntiAffinityCounts) {
      const v = labels[key];
      if (v !== undefined && (values.get(v) ?? 0) > 0) return EXISTING_REJECTED;
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
      existingAntiAffinityCounts: cloneCounts(s.existingAntiAffinityCounts),
      affinityCounts: cloneCounts(s.affinityCounts),
      antiAffinityCounts: cloneCounts(s.antiAffinityCounts),
      nsLabels: s.nsLabels,
    };
  },
  preScore(ctx) {
    const pi = ctx.podInfo;
    const hasPreferred = pi.preferredAffinityTerms.length > 0 || pi.preferredAntiAffinityTerms.length > 0;
    const nsLabels = namespaceLabelsLookup(ctx);
    const own = () => ctx.namespaceLabels;
    const m: InterPodScoreState = new Map();
    let any = false;
    const visit = (node: NodeInfo, existing: PodInfo) => {
      if (hasPreferred) {
        any = processTerms(m, pi.preferredAffinityTerms, 1, existing, nsLabels, node) || any;
        any = processTerms(m, pi.preferredAntiAffinityTerms, -1, existing, nsLabels, node) || any;
      }
      if (!existing.hasScoringTerms) return;
      for (const t of existing.requiredAffinityTerms) {
        any = processTerm(m, t, HARD_POD_AFFINITY_WEIGHT, pi, own, node) || any;
      }
      any = processTerms(m, existing.preferredAffinityTerms, 1, pi, own, node) || any;
      any = processTerms(m, existing.preferredAntiAffinityTerms, -1, pi, own, node) || any;
    };
    if (hasPreferred) {
      for (const node of ctx.snapshot.nodeInfos()) {
        if (!hasLabels(node)) continue;
        for (const existing of node.pods) visit(node, existing);
      }
    } else {
      for (const node of ctx.snapshot.nodesWithPodsWithAffinity) {
        if (!node.node || !hasLabels(node)) continue;
        for (const existing of node.podsWithAffinity) visit(node, existing);
      }
    }
    return any ? m : SKIP;
  },
  score(_ctx, m, node) {
    let score = 0;
    for (const [key, values] of m) {
      const v = node.labels[key];
      if (v !== undefined) score += values.get(v) ?? 0;
    }
    return score;
  },
  normalizeScore(_ctx, _m, scores) {
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] > max) max = scores[i];
      if (scores[i] < min) min = scores[i];
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) {
      scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((scores[i] - min) / diff)) : 0;
    }
  },
};
