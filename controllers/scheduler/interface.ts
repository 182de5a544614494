/**
 * The contract between the framework and its plugins: what a plugin may implement at each
 * extension point (PreFilter, Filter, the PreFilter extensions AddPod/RemovePod, PreScore,
 * Score, NormalizeScore), the per-cycle context, and the read-only inputs a cycle takes from
 * the caller (listers for the objects the plugins look up), so plugins stay pure.
 */

import { keyOf } from "../framework/cache.ts";
import type { ClusterSnapshot, NodeInfo } from "./node_info.ts";
import type { PodInfo } from "./pod_info.ts";
import type { Status } from "./status.ts";
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
} from "./types.ts";
import type { Schema } from "../../openapi/generated/types.ts";

/** Read access to one kind, keyed `namespace/name` (or `name` when cluster-scoped). */
export interface Lister<T> {
  get(key: string): T | undefined;
  list(): T[];
}

/** A lister over a fixed set of objects (tests, one-off calls). */
export function listerOf<T extends { metadata?: { name?: string; namespace?: string } }>(
  items: Iterable<T>,
): Lister<T> {
  const byKey = new Map<string, T>();
  for (const o of items) byKey.set(keyOf(o as never), o);
  return { get: (k) => byKey.get(k), list: () => [...byKey.values()] };
}

/** What a scheduling cycle reads besides the snapshot. Everything is optional. */
export interface ScheduleInputs {
  pvcs?: Lister<PersistentVolumeClaim>;
  pvs?: Lister<PersistentVolume>;
  storageClasses?: Lister<StorageClass>;
  /** Namespaces, for pod affinity terms with a `namespaceSelector`. */
  namespaces?: Lister<Schema<"io.k8s.api.core.v1.Namespace">>;
  /** Owners and services of pods, for the system default topology spreading. */
  services?: Lister<Service>;
  replicationControllers?: Lister<ReplicationController>;
  replicaSets?: Lister<ReplicaSet>;
  statefulSets?: Lister<StatefulSet>;
  /** PodDisruptionBudgets preemption tries not to violate. */
  pdbs?: Lister<PodDisruptionBudget>;
  /** PriorityClasses, for the preemption policy of pods that don't carry it. */
  priorityClasses?: Lister<PriorityClass>;
  /** Percentage of nodes to find feasible before scoring; 0 or absent: adaptive. */
  percentageOfNodesToScore?: number;
  /** Random source in [0, 1) for tie breaks and preemption's offset; default Math.random. */
  random?: () => number;
  /** The current time in ms (pods without a start time count as starting now). */
  now?: number;
  /** Run DefaultPreemption when the pod fits nowhere (default true). */
  preemption?: boolean;
}

/** The per-cycle context every plugin gets. */
export interface CycleContext {
  readonly pod: Pod;
  readonly podInfo: PodInfo;
  readonly snapshot: ClusterSnapshot;
  readonly inputs: ScheduleInputs;
  /** Labels of the pod's own namespace (affinity terms of other pods select on them). */
  readonly namespaceLabels: Record<string, string>;
}

/** What PreFilter returns: state for Filter, a status (Skip or a rejection), nodes to limit to. */
export interface PreFilterOutcome<F> {
  state?: F;
  status?: Status;
  /** Only these nodes can fit (upstream's PreFilterResult). */
  nodeNames?: ReadonlySet<string>;
}

/** Returned by PreScore to leave the plugin out of this cycle's scoring. */
export const SKIP: unique symbol = Symbol("Skip");

/**
 * A scheduling plugin: any subset of the extension points. `F` is its PreFilter state, `S` its
 * PreScore state. Filter returns null for "fits".
 */
export interface Plugin<F = unknown, S = unknown> {
  readonly name: string;
  /** Score weight in the default profile; a plugin without it has no score. */
  readonly weight?: number;
  preFilter?(ctx: CycleContext): PreFilterOutcome<F>;
  filter?(ctx: CycleContext, state: F, node: NodeInfo): Status | null;
  /** PreFilter extension: `pod` now counts on `node` (preemption's what-if). */
  addPod?(ctx: CycleContext, state: F, pod: PodInfo, node: NodeInfo): void;
  /** PreFilter extension: `pod` no longer counts on `node`. */
  removePod?(ctx: CycleContext, state: F, pod: PodInfo, node: NodeInfo): void;
  /** A copy of the PreFilter state that addPod/removePod may change. */
  cloneState?(state: F): F;
  preScore?(ctx: CycleContext, nodes: readonly NodeInfo[]): S | typeof SKIP;
  score?(ctx: CycleContext, state: S, node: NodeInfo): number;
  /** Rewrites `scores` (parallel to `nodes`) into 0..100. */
  normalizeScore?(ctx: CycleContext, state: S, scores: Float64Array, nodes: readonly NodeInfo[]): void;
}

/** The highest score a plugin gives a node. */
export const MAX_NODE_SCORE = 100;
