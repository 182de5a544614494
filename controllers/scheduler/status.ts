/**
 * The framework's plugin status: a code, the reasons shown to users, and the plugin that said
 * so. Also `NodeToStatus`, the per-node verdicts a failed cycle collects (nodes not in the map
 * share one "absent nodes" status).
 */

/** A plugin's verdict, as kube-scheduler's framework codes it. */
export enum Code {
  Success = 0,
  Error = 1,
  /** The node does not fit now; preempting pods may help. */
  Unschedulable = 2,
  /** The node does not fit and preemption cannot change that. */
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
  Pending = 6,
}

export interface Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  /** The plugin that returned it (set for rejections). */
  readonly plugin: string;
}

/** A status; pass reasons as they should read in the event message. */
export function newStatus(code: Code, plugin: string, ...reasons: string[]): Status {
  return { code, reasons, plugin };
}

/** Whether a status rejects the pod (Unschedulable or UnschedulableAndUnresolvable). */
export function isRejected(s: Status | null | undefined): boolean {
  return !!s && (s.code === Code.Unschedulable || s.code === Code.UnschedulableAndUnresolvable);
}

/** The reasons joined as upstream's `Status.Message()` joins them. */
export function statusMessage(s: Status): string {
  return s.reasons.join(", ");
}

/**
 * The filter verdicts of a cycle: explicit per-node statuses, and one status that every node
 * without an entry (not evaluated, or excluded by a PreFilter result) shares.
 */
export class NodeToStatus {
  readonly #nodes = new Map<string, Status>();
  absentNodesStatus: Status;

  constructor(absent?: Status) {
    this.absentNodesStatus = absent ?? newStatus(Code.UnschedulableAndUnresolvable, "");
  }

  set(nodeName: string, status: Status): void {
    this.#nodes.set(nodeName, status);
  }

  /** The node's status: its own, or the absent nodes' one. */
  get(nodeName: string): Status {
    return this.#nodes.get(nodeName) ?? this.absentNodesStatus;
  }

  has(nodeName: string): boolean {
    return this.#nodes.has(nodeName);
  }

  /** How many nodes have an explicit status. */
  get size(): number {
    return this.#nodes.size;
  }

  /** The explicit entries, in insertion order. */
  entries(): IterableIterator<[string, Status]> {
    return this.#nodes.entries();
  }
}
