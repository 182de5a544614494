/**
 * TaintToleration: a node's NoSchedule and NoExecute taints must be tolerated (filter); nodes
 * with fewer untolerated PreferNoSchedule taints score higher (weight 3).
 */

import type { Plugin } from "../interface.ts";
import { Code, newStatus } from "../status.ts";
import type { Toleration } from "../types.ts";
import {
  defaultNormalizeScore,
  findMatchingUntoleratedTaint,
  isDoNotScheduleTaint,
  tolerationsTolerateTaint,
} from "./helper.ts";

export const NAME = "TaintToleration";

/** The filter reason for an untolerated taint, as upstream words it. */
export function errReasonUntoleratedTaint(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ""}}`;
}

const NONE: readonly Toleration[] = [];

export const taintToleration: Plugin<unknown, readonly Toleration[]> = {
  name: NAME,
  weight: 3,
  filter(ctx, _state, node) {
    if (node.taints.length === 0) return null;
    const taint = findMatchingUntoleratedTaint(
      node.taints,
      ctx.pod.spec?.tolerations ?? NONE,
      isDoNotScheduleTaint,
    );
    if (!taint) return null;
    return newStatus(
      Code.UnschedulableAndUnresolvable,
      NAME,
      errReasonUntoleratedTaint(taint.key, taint.value),
    );
  },
  preScore(ctx) {
    // Tolerations that can tolerate PreferNoSchedule: that effect, or any effect.
    return (ctx.pod.spec?.tolerations ?? NONE).filter((t) => !t.effect || t.effect === "PreferNoSchedule");
  },
  score(_ctx, tolerations, node) {
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect === "PreferNoSchedule" && !tolerationsTolerateTaint(tolerations, taint)) n++;
    }
    return n;
  },
  normalizeScore(_ctx, _state, scores) {
    defaultNormalizeScore(scores, true);
  },
};
