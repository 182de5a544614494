/**
 * What the DaemonSet's manage loop does on each node, as upstream's `podsShouldBeOnNode`
 * decides: a node that should run the daemon and has no pod gets one; on a node where it may
 * keep running, failed pods are deleted (with a backoff per node, since a kubelet may be
 * rejecting them) and succeeded ones too, and surplus pods go (all but the oldest; when surging,
 * the oldest new pod and — until that one is available — the oldest old one stay); a node that
 * must not run it loses its pods. Unbound pods of nodes that are gone are deleted as well: no
 * node will ever run them and Pod GC does not collect unbound pods.
 */

import type { EventType } from "../framework/events.ts";
import { isPodAvailable, isPodReady } from "../pods.ts";
import type { DaemonSet, Node, Pod } from "../types.ts";
import { allowsSurge, DAEMON_SET_UNIQUE_LABEL } from "./daemon_pods.ts";
import { nodeShouldRunDaemonPod } from "./placement.ts";
import type { NodeToDaemonPods } from "./update.ts";

/** Scheduled pods first, then oldest, then by name. */
export function byCreationTimestampAndPhase(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Per key, a delay doubling from 1 s up to 15 min, as upstream's failed-pods backoff. */
export class FailedPodsBackoff {
  readonly #entries = new Map<string, { delay: number; last: number }>();
  constructor(readonly initialMs = 1000, readonly maxMs = 15 * 60_000) {}

  inBackoffSinceUpdate(key: string, now: number): boolean {
    const e = this.#entries.get(key);
    return !!e && now - e.last < e.delay;
  }

  get(key: string): number {
    return this.#entries.get(key)?.delay ?? 0;
  }

  next(key: string, now: number): void {
    const e = this.#entries.get(key);
    if (!e || now - e.last > 2 * this.maxMs) this.#entries.set(key, { delay: this.initialMs, last: now });
    else this.#entries.set(key, { delay: Math.min(e.delay * 2, this.maxMs), last: now });
    if (this.#entries.size > 10_000) this.#gc(now);
  }

  #gc(now: number): void {
    for (const [k, e] of this.#entries) if (now - e.last > 2 * this.maxMs) this.#entries.delete(k);
  }
}

export interface ManagePlan {
  nodesNeeding: string[];
  podsToDelete: Pod[];
  /** Events to record on the DaemonSet. */
  events: { type: EventType; reason: string; message: string }[];
  /** When a failed pod is waiting out its backoff: look again after this long. */
  requeueAfterMs?: number;
}

/** The pods to make and delete across the nodes; advances the backoff of failed pods it deletes. */
export function planManage(
  ds: DaemonSet,
  nodes: Node[],
  nodeToDaemonPods: NodeToDaemonPods,
  hash: string,
  backoff: FailedPodsBackoff,
  now = Date.now(),
): ManagePlan {
  const plan: ManagePlan = { nodesNeeding: [], podsToDelete: [], events: [] };
  const { nodesNeeding, podsToDelete, events } = plan;
  for (const node of nodes) {
    const nodeName = node.metadata?.name ?? "";
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const daemonPods = nodeToDaemonPods.get(nodeName);
    if (shouldRun && !daemonPods) {
      nodesNeeding.push(nodeName);
    } else if (shouldContinueRunning) {
      const running: Pod[] = [];
      for (const pod of daemonPods ?? []) {
        if (pod.metadata?.deletionTimestamp) continue;
        const where = `${pod.metadata?.namespace}/${pod.metadata?.name} on node ${nodeName}`;
        if (pod.status?.phase === "Failed") {
          const key = `${ds.metadata?.uid}/${ds.status?.observedGeneration ?? 0}/${nodeName}`;
          if (backoff.inBackoffSinceUpdate(key, now)) {
            plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, backoff.get(key));
            continue;
          }
          backoff.next(key, now);
          events.push({
            type: "Warning",
            reason: "FailedDaemonPod",
            message: `Found failed daemon pod ${where}, will try to kill it`,
          });
          podsToDelete.push(pod);
        } else if (pod.status?.phase === "Succeeded") {
          events.push({
            type: "Normal",
            reason: "SucceededDaemonPod",
            message: `Found succeeded daemon pod ${where}, will try to delete it`,
          });
          podsToDelete.push(pod);
        } else running.push(pod);
      }
      running.sort(byCreationTimestampAndPhase);
      if (!allowsSurge(ds)) {
        podsToDelete.push(...running.slice(1));
      } else if (running.length <= 1) {
        if (running.length === 0 && shouldRun) nodesNeeding.push(nodeName);
      } else {
        let oldestNew: Pod | undefined;
        let oldestOld: Pod | undefined;
        for (const pod of running) {
          if (pod.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL] === hash) {
            if (!oldestNew) {
              oldestNew = pod;
              continue;
            }
          } else if (!oldestOld) {
            oldestOld = pod;
            continue;
          }
          podsToDelete.push(pod);
        }
        if (oldestNew && oldestOld) {
          if (!isPodReady(oldestOld)) podsToDelete.push(oldestOld);
          else if (isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now)) {
            podsToDelete.push(oldestOld);
          }
        }
      }
    } else if (daemonPods) {
      for (const pod of daemonPods) if (!pod.metadata?.deletionTimestamp) podsToDelete.push(pod);
    }
  }
  const existing = new Set(nodes.map((n) => n.metadata?.name));
  for (const [nodeName, daemonPods] of nodeToDaemonPods) {
    if (existing.has(nodeName)) continue;
    for (const pod of daemonPods) if (!pod.spec?.nodeName) podsToDelete.push(pod);
  }
  return plan;
}
