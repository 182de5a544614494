/**
 * The writes the node lifecycle controller makes, as upstream's node utilities make them:
 * swapping taints on a node (stamping `timeAdded` on the ones added, retrying on conflicts from
 * a fresh read), and marking a node's pods not Ready.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Node, Pod, Taint } from "../types.ts";
import { matchTaint } from "./taints.ts";

const RETRIES = 5;

/**
 * Adds `add` (replacing taints of the same key and effect) and removes `remove` on node `name`.
 * Answers false when the node is gone or the write kept failing.
 */
export async function swapNodeTaints(
  nodes: ResourceClient<Node>,
  name: string,
  add: Taint[],
  remove: Taint[],
): Promise<boolean> {
  const stamped = add.map((t) => ({ ...t, timeAdded: rfc3339() }));
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    let node: Node;
    try {
      node = await nodes.get("", name);
    } catch (err) {
      if (isStatusError(err, "NotFound")) return false;
      throw err;
    }
    const old = node.spec?.taints ?? [];
    let taints = old.filter((t) => !remove.some((r) => matchTaint(r, t)));
    for (const t of stamped) {
      const have = taints.find((x) => matchTaint(x, t));
      if (have && (have.value ?? "") === (t.value ?? "")) continue;
      taints = [...taints.filter((x) => !matchTaint(x, t)), t];
    }
    if (taints.length === old.length && taints.every((t, i) => t === old[i])) return true;
    try {
      await nodes.update("", { ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
      return true;
    } catch (err) {
      if (isStatusError(err, "NotFound")) return false;
      if (!isStatusError(err, "Conflict")) throw err;
    }
  }
  return false;
}

/** Sets the Ready condition of the node's pods to False, with a NodeNotReady event on each. */
export async function markPodsNotReady(
  pods: ResourceClient<Pod>,
  recorder: EventRecorder,
  podsOnNode: Pod[],
  nodeName: string,
): Promise<void> {
  const errors: string[] = [];
  for (const pod of podsOnNode) {
    if (pod.spec?.nodeName !== nodeName) continue;
    const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
    if (!ready || ready.status === "False") continue;
    try {
      await pods.patch(pod.metadata!.namespace!, pod.metadata!.name!, "strategic", {
        status: { conditions: [{ type: "Ready", status: "False", lastTransitionTime: rfc3339() }] },
      }, { subresource: "status" });
    } catch (err) {
      if (isStatusError(err, "NotFound")) continue;
      errors.push((err as Error).message);
      continue;
    }
    recorder.event(
      { apiVersion: "v1", kind: "Pod", metadata: pod.metadata },
      "Warning",
      "NodeNotReady",
      "Node is not ready",
    );
  }
  if (errors.length) throw new Error(errors.join("; "));
}
