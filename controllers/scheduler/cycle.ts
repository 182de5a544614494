/**
 * One scheduling cycle's state and the two extension points that both the framework and
 * preemption run: PreFilter (with upstream's rules for Skip, rejections and narrowing the node
 * set) and Filter (plugins in order, the first rejection wins). A cycle state can be cloned and
 * told that pods were added to or removed from a node, for preemption's what-ifs.
 */

import type { CycleContext, Plugin } from "./interface.ts";
import type { NodeInfo } from "./node_info.ts";
import type { PodInfo } from "./pod_info.ts";
import { Code, newStatus, type Status, statusMessage } from "./status.ts";

/** The PreFilter outcome of a cycle. */
export interface PreFilterResult {
  /** A rejection (or Error) that ends the cycle before Filter. */
  status?: Status;
  /** Only these nodes can fit, when some plugin said so. */
  nodeNames?: Set<string>;
  /** Plugins that narrowed the node set. */
  pluginsWithNodes: string[];
}

export class CycleState {
  readonly ctx: CycleContext;
  /** Filter plugins not skipped, with their PreFilter states (parallel arrays). */
  readonly filters: Plugin[];
  readonly states: unknown[];

  constructor(ctx: CycleContext, filters: Plugin[], states: unknown[]) {
    this.ctx = ctx;
    this.filters = filters;
    this.states = states;
  }

  /** A copy whose plugin states can be changed by addPod/removePod. */
  clone(): CycleState {
    const states = this.filters.map((p, i) => p.cloneState ? p.cloneState(this.states[i]) : this.states[i]);
    return new CycleState(this.ctx, this.filters, states);
  }

  /** PreFilter extensions: `pod` now counts on `node`. */
  addPod(pod: PodInfo, node: NodeInfo): void {
    for (let i = 0; i < this.filters.length; i++) {
      this.filters[i].addPod?.(this.ctx, this.states[i], pod, node);
    }
  }

  /** PreFilter extensions: `pod` no longer counts on `node`. */
  removePod(pod: PodInfo, node: NodeInfo): void {
    for (let i = 0; i < this.filters.length; i++) {
      this.filters[i].removePod?.(this.ctx, this.states[i], pod, node);
    }
  }
}

function intersect(a: Set<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

/** Go's `%v` of a string slice: `[a b]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/**
 * Runs PreFilter of every plugin. Skip drops the plugin's Filter; UnschedulableAndUnresolvable
 * ends at once; Unschedulable is remembered while the rest still run; Error ends the cycle.
 */
export function runPreFilterPlugins(ctx: CycleContext, plugins: readonly Plugin[]): {
  result: PreFilterResult;
  state: CycleState;
} {
  const filters: Plugin[] = [];
  const states: unknown[] = [];
  const result: PreFilterResult = { pluginsWithNodes: [] };
  const done = () => ({ result, state: new CycleState(ctx, filters, states) });
  for (const p of plugins) {
    if (!p.filter) continue;
    if (!p.preFilter) {
      filters.push(p);
      states.push(undefined);
      continue;
    }
    const out = p.preFilter(ctx);
    const s = out.status;
    if (s && s.code === Code.Skip) continue;
    if (s && s.code !== Code.Success) {
      if (s.code === Code.UnschedulableAndUnresolvable) {
        result.status = s;
        return done();
      }
      if (s.code === Code.Unschedulable) {
        result.status = s;
      } else {
        result.status = newStatus(
          Code.Error,
          p.name,
          `running PreFilter plugin "${p.name}": ${statusMessage(s)}`,
        );
        return done();
      }
    }
    filters.push(p);
    states.push(out.state);
    if (out.nodeNames) {
      result.pluginsWithNodes.push(p.name);
      result.nodeNames = result.nodeNames
        ? intersect(result.nodeNames, out.nodeNames)
        : new Set(out.nodeNames);
      if (result.nodeNames.size === 0) {
        const names = [...result.pluginsWithNodes].sort();
        const msg = names.length === 1
          ? `node(s) didn't satisfy plugin ${names[0]}`
          : `node(s) didn't satisfy plugin(s) ${goList(names)} simultaneously`;
        result.status = newStatus(Code.UnschedulableAndUnresolvable, "", msg);
        return done();
      }
    }
  }
  return done();
}

/** Runs the cycle's filters on a node: null when it fits, else the first rejection. */
export function runFilterPlugins(cs: CycleState, node: NodeInfo): Status | null {
  const { filters, states, ctx } = cs;
  for (let i = 0; i < filters.length; i++) {
    const s = filters[i].filter!(ctx, states[i], node);
    if (s) return s;
  }
  return null;
}
