/**
 * NodeResourcesBalancedAllocation: nodes whose cpu and memory would be used in similar
 * proportions score higher (weight 1). Best-effort pods (no requests) are not scored.
 */

import { MAX_NODE_SCORE, type Plugin, SKIP } from "../interface.ts";
import type { Resource } from "../pod_info.ts";

export const NAME = "NodeResourcesBalancedAllocation";

/** 100 × (1 − standard deviation of the used fractions), fractions capped at 1. */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(requested[i] / allocatable[i], 1);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0] - fractions[1]) / 2);
  else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export const balancedAllocation: Plugin<unknown, Resource> = {
  name: NAME,
  weight: 1,
  preScore(ctx) {
    const r = ctx.podInfo.requests;
    return r.milliCPU === 0 && r.memory === 0 ? SKIP : r;
  },
  score(_ctx, req, node) {
    const alloc = node.allocatable, used = node.requested;
    const cpuAlloc = alloc.milliCPU, memAlloc = alloc.memory;
    // Two resources: the closed form of the general score above.
    if (cpuAlloc !== 0 && memAlloc !== 0) {
      const fc = Math.min((used.milliCPU + req.milliCPU) / cpuAlloc, 1);
      const fm = Math.min((used.memory + req.memory) / memAlloc, 1);
      return Math.trunc((1 - Math.abs((fc - fm) / 2)) * MAX_NODE_SCORE);
    }
    return balancedResourceScore(
      [used.milliCPU + req.milliCPU, used.memory + req.memory],
      [cpuAlloc, memAlloc],
    );
  },
};
