/**
 * NodeAffinity: the pod's `nodeSelector` and required node affinity must match the node
 * (filter; PreFilter narrows the search to the nodes named by `metadata.name` field terms);
 * nodes matching more preferred terms score higher (weight 2).
 */

import { type Plugin, SKIP as SKIP_SCORE } from "../interface.ts";
import { Code, newStatus } from "../status.ts";
import type { Pod } from "../types.ts";
import {
  type CompiledTerm,
  defaultNormalizeScore,
  preferredSchedulingTerms,
  type RequiredNodeAffinity,
  requiredNodeAffinityOf,
  termMatchesNode,
} from "./helper.ts";

export const NAME = "NodeAffinity";
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = "pod affinity terms conflict";

const SKIP_STATUS = newStatus(Code.Skip, NAME);
const REJECTED = newStatus(Code.UnschedulableAndUnresolvable, NAME, ERR_REASON_POD);

/**
 * The node names a pod's required terms pin it to: undefined when some term names no node by
 * `metadata.name In` (terms are ORed), else the union over terms of each term's intersection.
 */
export function nodeNamesFromAffinity(pod: Pod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms;
  if (!terms) return undefined;
  let names: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const f of t.matchFields ?? []) {
      if (f.key !== "metadata.name" || f.operator !== "In") continue;
      const s = new Set(f.values ?? []);
      termNames = termNames ? new Set([...termNames].filter((n) => s.has(n))) : s;
    }
    if (!termNames) return undefined;
    names ??= new Set();
    for (const n of termNames) names.add(n);
  }
  return names;
}

export const nodeAffinity: Plugin<RequiredNodeAffinity, { weight: number; term: CompiledTerm }[]> = {
  name: NAME,
  weight: 2,
  preFilter(ctx) {
    const required = requiredNodeAffinityOf(ctx.pod);
    if (required.isEmpty) return { status: SKIP_STATUS };
    const names = nodeNamesFromAffinity(ctx.pod);
    if (names && names.size === 0) {
      return { status: newStatus(Code.UnschedulableAndUnresolvable, NAME, ERR_REASON_CONFLICT) };
    }
    return { state: required, nodeNames: names };
  },
  filter(_ctx, required, node) {
    return required.matchNode(node) ? null : REJECTED;
  },
  preScore(ctx) {
    const terms = preferredSchedulingTerms(ctx.pod);
    return terms.length === 0 ? SKIP_SCORE : terms;
  },
  score(_ctx, terms, node) {
    let sum = 0;
    for (const { weight, term } of terms) if (termMatchesNode(term, node.name, node.labels)) sum += weight;
    return sum;
  },
  normalizeScore(_ctx, _terms, scores) {
    defaultNormalizeScore(scores, false);
  },
};
