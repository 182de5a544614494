/**
 * NodeResourcesFit: the node must have room for the pod's requests — a pod slot, cpu, memory,
 * ephemeral-storage and every extended resource (filter); emptier nodes score higher by the
 * LeastAllocated strategy over cpu and memory, each weight 1 (plugin weight 1).
 */

import { MAX_NODE_SCORE, type Plugin } from "../interface.ts";
import type { NodeInfo } from "../node_info.ts";
import type { Resource } from "../pod_info.ts";
import { Code, newStatus, type Status } from "../status.ts";

export const NAME = "NodeResourcesFit";

/** One resource the node lacks for the pod. */
export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The pod asks for more than the whole node has: preemption cannot help. */
  unresolvable: boolean;
}

/** Every resource `node` lacks for a pod requesting `req`, in upstream's order. */
export function fitsRequest(req: Resource, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const used = node.requested, alloc = node.allocatable;
  if (node.pods.length + 1 > node.allowedPodNumber) {
    out.push({
      resourceName: "pods",
      reason: "Too many pods",
      requested: 1,
      used: node.pods.length,
      capacity: node.allowedPodNumber,
      unresolvable: false,
    });
  }
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && !req.scalar) return out;
  const check = (name: string, want: number, have: number, capacity: number) => {
    if (want > 0 && want > capacity - have) {
      out.push({
        resourceName: name,
        reason: `Insufficient ${name}`,
        requested: want,
        used: have,
        capacity,
        unresolvable: want > capacity,
      });
    }
  };
  check("cpu", req.milliCPU, used.milliCPU, alloc.milliCPU);
  check("memory", req.memory, used.memory, alloc.memory);
  check("ephemeral-storage", req.ephemeralStorage, used.ephemeralStorage, alloc.ephemeralStorage);
  if (req.scalar) {
    for (const [name, want] of req.scalar) {
      check(name, want, used.scalar?.get(name) ?? 0, alloc.scalar?.get(name) ?? 0);
    }
  }
  return out;
}

/** The filter's verdict for a list of insufficient resources. */
export function insufficientStatus(insufficient: InsufficientResource[]): Status | null {
  if (insufficient.length === 0) return null;
  const code = insufficient.some((r) => r.unresolvable)
    ? Code.UnschedulableAndUnresolvable
    : Code.Unschedulable;
  return newStatus(code, NAME, ...insufficient.map((r) => r.reason));
}

/** LeastAllocated for one resource: the share left free, 0..100. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** The pod's non-zero cpu and memory requests, for scoring. */
interface ScoreState {
  cpu: number;
  memory: number;
}

export const nodeResourcesFit: Plugin<Resource, ScoreState> = {
  name: NAME,
  weight: 1,
  preFilter(ctx) {
    return { state: ctx.podInfo.requests };
  },
  filter(_ctx, req, node) {
    const alloc = node.allocatable, used = node.requested;
    // Fast path: everything fits (the common case) without building a list.
    if (
      node.pods.length < node.allowedPodNumber &&
      req.milliCPU <= alloc.milliCPU - used.milliCPU &&
      req.memory <= alloc.memory - used.memory &&
      req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage &&
      !req.scalar
    ) return null;
    return insufficientStatus(fitsRequest(req, node));
  },
  preScore(ctx) {
    return { cpu: ctx.podInfo.nonZeroCPU, memory: ctx.podInfo.nonZeroMemory };
  },
  score(_ctx, s, node) {
    let sum = 0, weights = 0;
    const alloc = node.allocatable, used = node.nonZeroRequested;
    if (alloc.milliCPU !== 0) {
      sum += leastRequestedScore(used.milliCPU + s.cpu, alloc.milliCPU);
      weights++;
    }
    if (alloc.memory !== 0) {
      sum += leastRequestedScore(used.memory + s.memory, alloc.memory);
      weights++;
    }
    return weights === 0 ? 0 : Math.trunc(sum / weights);
  },
};
