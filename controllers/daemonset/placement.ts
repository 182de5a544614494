/**
 * Which nodes a DaemonSet runs on, as upstream's `NodeShouldRunDaemonPod` decides: the node must
 * satisfy the template's `nodeName` (if any), `nodeSelector` and required node affinity, and have
 * no NoSchedule or NoExecute taint the pod (with the daemon tolerations) does not tolerate. A pod
 * already on a node whose only untolerated taints are NoSchedule may stay there.
 */

import { findMatchingUntoleratedTaint, RequiredNodeAffinity } from "../scheduler/plugins/helper.ts";
import type { DaemonSet, Node, Pod } from "../types.ts";
import { addOrUpdateDaemonPodTolerations } from "./daemon_pods.ts";
import { clone } from "../../machinery/object_meta.ts";

/** The pod the DaemonSet would run on the node, tolerations added (for the checks only). */
export function newPod(ds: DaemonSet, nodeName: string): Pod {
  const template = ds.spec?.template;
  const pod: Pod = {
    metadata: { ...template?.metadata, namespace: ds.metadata?.namespace },
    spec: { ...clone(template?.spec ?? { containers: [] }), nodeName },
  };
  addOrUpdateDaemonPodTolerations(pod.spec!);
  return pod;
}

export interface Placement {
  /** A daemon pod should be made on the node if none is there. */
  shouldRun: boolean;
  /** A daemon pod already on the node may keep running there. */
  shouldContinueRunning: boolean;
}

const NOT_HERE: Placement = { shouldRun: false, shouldContinueRunning: false };

interface DaemonPodConstraints {
  nodeName?: string;
  affinity: RequiredNodeAffinity;
  tolerations: NonNullable<NonNullable<Pod["spec"]>["tolerations"]>;
}

/** Per template object (cached objects are never changed, only replaced): what placement checks. */
const constraintsCache = new WeakMap<object, DaemonPodConstraints>();

function constraintsOf(ds: DaemonSet): DaemonPodConstraints {
  const template = ds.spec?.template;
  const cached = template && constraintsCache.get(template);
  if (cached) return cached;
  const pod = newPod(ds, "");
  const constraints = {
    nodeName: template?.spec?.nodeName,
    affinity: new RequiredNodeAffinity(pod),
    tolerations: pod.spec?.tolerations ?? [],
  };
  if (template) constraintsCache.set(template, constraints);
  return constraints;
}

export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): Placement {
  const name = node.metadata?.name ?? "";
  const { nodeName, affinity, tolerations } = constraintsOf(ds);
  if (nodeName && nodeName !== name) return NOT_HERE;
  if (!affinity.match(name, node.metadata?.labels ?? {})) return NOT_HERE;
  const taints = node.spec?.taints ?? [];
  const untolerated = findMatchingUntoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === "NoExecute" || t.effect === "NoSchedule",
  );
  if (!untolerated) return { shouldRun: true, shouldContinueRunning: true };
  const evicting = findMatchingUntoleratedTaint(taints, tolerations, (t) => t.effect === "NoExecute");
  return { shouldRun: false, shouldContinueRunning: !evicting };
}
