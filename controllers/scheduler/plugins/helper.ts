/**
 * Helpers several plugins share, after upstream's `plugins/helper` and `component-helpers`:
 * the default score normalization, taint toleration, and node selectors (a pod's required
 * node affinity with its `nodeSelector`, preferred terms, a PV's node affinity).
 */

import type { LabelOperator, LabelRequirement } from "../../../machinery/labels.ts";
import { MAX_NODE_SCORE } from "../interface.ts";
import type { NodeInfo } from "../node_info.ts";
import { requirementHolds } from "../pod_info.ts";
import type { NodeSelector, NodeSelectorTerm, Pod, Taint, Toleration } from "../types.ts";

/**
 * Scales scores to 0..100 by the highest one; `reverse` flips them (fewer is better). All
 * zero: 100 each when reversed, else unchanged.
 */
export function defaultNormalizeScore(scores: Float64Array, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((MAX_NODE_SCORE * scores[i]) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}

/** Whether one toleration tolerates the taint (empty effect or key match any; `Exists` any value). */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? "") {
    case "":
    case "Equal":
      return (t.value ?? "") === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** Taints a pod must tolerate to be scheduled (NoSchedule, NoExecute). */
export function isDoNotScheduleTaint(t: Taint): boolean {
  return t.effect === "NoSchedule" || t.effect === "NoExecute";
}

/** The first taint passing `filter` that no toleration tolerates. */
export function findMatchingUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  filter: (t: Taint) => boolean,
): Taint | undefined {
  for (const taint of taints) {
    if (filter(taint) && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

const NODE_OPERATORS: Record<string, LabelOperator> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
  Gt: "gt",
  Lt: "lt",
};

/** A node selector term, parsed; a term that fails to parse or is empty matches no node. */
export interface CompiledTerm {
  labels: LabelRequirement[];
  /** `metadata.name` requirements. */
  names: { notIn: boolean; value: string }[];
  matchesNothing: boolean;
}

function compileTerm(t: NodeSelectorTerm): CompiledTerm {
  const labels: LabelRequirement[] = [];
  const names: { notIn: boolean; value: string }[] = [];
  let matchesNothing = (t.matchExpressions?.length ?? 0) === 0 && (t.matchFields?.length ?? 0) === 0;
  for (const e of t.matchExpressions ?? []) {
    const operator = NODE_OPERATORS[e.operator];
    const values = e.values ?? [];
    const ok = operator === "in" || operator === "notin"
      ? values.length > 0
      : operator === "exists" || operator === "!"
      ? values.length === 0
      : operator === "gt" || operator === "lt"
      ? values.length === 1 && /^[+-]?\d+$/.test(values[0])
      : false;
    if (!ok) matchesNothing = true;
    else labels.push({ key: e.key, operator, values });
  }
  for (const f of t.matchFields ?? []) {
    const values = f.values ?? [];
    if (f.key !== "metadata.name" || (f.operator !== "In" && f.operator !== "NotIn") || values.length !== 1) {
      matchesNothing = true;
    } else names.push({ notIn: f.operator === "NotIn", value: values[0] });
  }
  return { labels, names, matchesNothing };
}

/** Whether a node (its name and labels) satisfies a compiled term. */
export function termMatchesNode(t: CompiledTerm, name: string, labels: Record<string, string>): boolean {
  if (t.matchesNothing) return false;
  for (const r of t.labels) if (!requirementHolds(r, labels)) return false;
  for (const n of t.names) if ((name === n.value) === n.notIn) return false;
  return true;
}

/** A node selector: its terms are ORed. */
export function compileNodeSelector(ns: NodeSelector): CompiledTerm[] {
  return (ns.nodeSelectorTerms ?? []).map(compileTerm);
}

export function nodeSelectorMatches(
  terms: readonly CompiledTerm[],
  name: string,
  labels: Record<string, string>,
): boolean {
  for (const t of terms) if (termMatchesNode(t, name, labels)) return true;
  return false;
}

/** A pod's `nodeSelector` and required node affinity together. */
export class RequiredNodeAffinity {
  readonly #selector: [string, string][] | null;
  readonly #terms: CompiledTerm[] | null;

  constructor(pod: Pod) {
    const sel = pod.spec?.nodeSelector;
    this.#selector = sel && Object.keys(sel).length > 0 ? Object.entries(sel) : null;
    const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.#terms = req ? compileNodeSelector(req) : null;
  }

  /** Whether the pod constrains nodes at all. */
  get isEmpty(): boolean {
    return !this.#selector && !this.#terms;
  }

  match(name: string, labels: Record<string, string>): boolean {
    if (this.#selector) {
      for (const [k, v] of this.#selector) if (labels[k] !== v) return false;
    }
    return !this.#terms || nodeSelectorMatches(this.#terms, name, labels);
  }

  matchNode(ni: NodeInfo): boolean {
    return this.match(ni.name, ni.labels);
  }
}

const requiredCache = new WeakMap<Pod, RequiredNodeAffinity>();

/** The pod's `RequiredNodeAffinity`, built once per pod object. */
export function requiredNodeAffinityOf(pod: Pod): RequiredNodeAffinity {
  let r = requiredCache.get(pod);
  if (!r) requiredCache.set(pod, r = new RequiredNodeAffinity(pod));
  return r;
}

/** Preferred node affinity terms with their weights (weight 0 dropped). */
export function preferredSchedulingTerms(pod: Pod): { weight: number; term: CompiledTerm }[] {
  const terms = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return terms.filter((t) => t.weight !== 0).map((t) => ({
    weight: t.weight,
    term: compileTerm(t.preference),
  }));
}
