/**
 * The DefaultTolerationSeconds admission plugin, as upstream's: a new pod that does not already
 * tolerate the `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` NoExecute
 * taints gets a toleration of each for a bounded time (300 s by default), so the taint eviction
 * controller moves it off a node that stops answering after that long, not at once.
 */

import type { AdmissionPlugin } from "./mod.ts";

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";

export interface DefaultTolerationSecondsOptions {
  /** `--default-not-ready-toleration-seconds` (upstream: 300). */
  notReadySeconds?: number;
  /** `--default-unreachable-toleration-seconds` (upstream: 300). */
  unreachableSeconds?: number;
}

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Whether `t` tolerates the NoExecute taint `key` (an empty key or effect matches any). */
function tolerates(t: Toleration, key: string): boolean {
  return (!t.key || t.key === key) && (!t.effect || t.effect === "NoExecute");
}

export function defaultTolerationSeconds(options: DefaultTolerationSecondsOptions = {}): AdmissionPlugin {
  const defaults: Array<[string, number]> = [
    [TAINT_NODE_NOT_READY, options.notReadySeconds ?? 300],
    [TAINT_NODE_UNREACHABLE, options.unreachableSeconds ?? 300],
  ];
  return {
    name: "DefaultTolerationSeconds",
    admit(request) {
      if (request.info.group !== "" || request.info.resource !== "pods" || request.subresource) return;
      const spec = request.object.spec as { tolerations?: Toleration[] } | undefined;
      if (!spec || typeof spec !== "object") return;
      const tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : [];
      const added = defaults
        .filter(([key]) => !tolerations.some((t) => t && typeof t === "object" && tolerates(t, key)))
        .map(([key, seconds]) => ({
          key,
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: seconds,
        }));
      if (added.length) spec.tolerations = [...tolerations, ...added];
    },
  };
}
