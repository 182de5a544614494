/**
 * Runs one plugin's extension points the way the framework does, for plugin tests: PreFilter
 * then Filter on named nodes, or PreScore, Score and NormalizeScore over named nodes.
 */

import { newCycleContext } from "../framework.ts";
import { type Plugin, type ScheduleInputs, SKIP } from "../interface.ts";
import { ClusterSnapshot } from "../node_info.ts";
import { Code, type Status } from "../status.ts";
import type { Node, Pod } from "../types.ts";

/** A snapshot holding these nodes and (bound) pods. */
export function snapshotOf(nodes: Node[], pods: Pod[] = []): ClusterSnapshot {
  const s = new ClusterSnapshot();
  for (const n of nodes) s.addNode(n);
  for (const p of pods) s.addPod(p);
  return s;
}

export interface FilterOutcome {
  /** The PreFilter status, when it was not plain success. */
  preFilter?: Status;
  /** PreFilter's node names, if it narrowed the search. */
  nodeNames?: ReadonlySet<string>;
  /** Per node: null (fits), or the rejection's reasons joined. */
  nodes: Record<string, string | null>;
  codes: Record<string, Code | null>;
}

/** PreFilter, then Filter on every node of the snapshot (unless PreFilter skipped or rejected). */
export function runFilter(
  plugin: Plugin,
  pod: Pod,
  snapshot: ClusterSnapshot,
  inputs: ScheduleInputs = {},
): FilterOutcome {
  const ctx = newCycleContext(pod, snapshot, inputs);
  const out: FilterOutcome = { nodes: {}, codes: {} };
  let state: unknown;
  if (plugin.preFilter) {
    const r = plugin.preFilter(ctx);
    if (r.status && r.status.code !== Code.Success) {
      out.preFilter = r.status;
      return out;
    }
    state = r.state;
    out.nodeNames = r.nodeNames;
  }
  for (const ni of snapshot.nodeInfos()) {
    const s = plugin.filter!(ctx, state, ni);
    out.nodes[ni.name] = s ? s.reasons.join(", ") : null;
    out.codes[ni.name] = s ? s.code : null;
  }
  return out;
}

/**
 * PreScore, Score and NormalizeScore over `nodeNames` (default: all nodes). Returns the
 * normalized scores by node, or "skip" when PreScore skipped.
 */
export function runScore(
  plugin: Plugin,
  pod: Pod,
  snapshot: ClusterSnapshot,
  nodeNames?: string[],
  inputs: ScheduleInputs = {},
): Record<string, number> | "skip" {
  const ctx = newCycleContext(pod, snapshot, inputs);
  const nodes = nodeNames ? nodeNames.map((n) => snapshot.get(n)!) : [...snapshot.nodeInfos()];
  const state = plugin.preScore ? plugin.preScore(ctx, nodes) : undefined;
  if (state === SKIP) return "skip";
  const scores = new Float64Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score!(ctx, state, nodes[i]);
  plugin.normalizeScore?.(ctx, state, scores, nodes);
  return Object.fromEntries(nodes.map((n, i) => [n.name, scores[i]]));
}
