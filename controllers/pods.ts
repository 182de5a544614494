/**
 * What the workload controllers ask of pods, as upstream answers it: is it active, ready,
 * available; which to delete first when scaling down; and a new pod from a template.
 */

import type { OwnerReference, Pod, PodCondition, PodTemplateSpec } from "./types.ts";
import { clone } from "../machinery/object_meta.ts";

/** Not terminal and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata?.deletionTimestamp;
}

export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, "Ready")?.status === "True";
}

/** Ready for at least `minReadySeconds` at `now`. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): boolean {
  const ready = podCondition(pod, "Ready");
  if (ready?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod becomes available; undefined if it is not ready. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): number | undefined {
  const ready = podCondition(pod, "Ready");
  if (ready?.status !== "True" || minReadySeconds <= 0) return undefined;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : now;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

/** The owner reference marked `controller`. */
export function controllerRef(
  obj: { metadata?: { ownerReferences?: OwnerReference[] } },
): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller);
}

/** The reference a controller puts on what it makes. */
export function ownerRefTo(
  owner: { apiVersion?: string; kind?: string; metadata?: { name?: string; uid?: string } },
): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A pod from a template, named `<prefix>` + a random suffix by the server, owned by `owner`. */
export function podFromTemplate(
  template: PodTemplateSpec,
  namespace: string,
  generateName: string,
  owner: OwnerReference,
): Pod {
  const meta = template.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName,
      namespace,
      labels: { ...meta.labels },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [owner],
    },
    spec: clone(template.spec!),
  };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => Math.max(n, c.restartCount ?? 0), 0);
}

function time(s: string | undefined | null): number {
  return s ? Date.parse(s) : 0;
}

/**
 * Orders pods so the ones to delete first come first, as upstream ranks them: unassigned before
 * assigned; Pending before Unknown before Running; not ready before ready; (ranked by how many
 * of their pods share the node, more first, when `related` counts are given); ready for less
 * time first; more restarts first; newer first.
 */
export function comparePodsForDeletion(a: Pod, b: Pod, sameNodeCount?: Map<string, number>): number {
  const assignedA = a.spec?.nodeName ? 1 : 0;
  const assignedB = b.spec?.nodeName ? 1 : 0;
  if (assignedA !== assignedB) return assignedA - assignedB;
  const phaseA = PHASE_RANK[a.status?.phase ?? "Pending"] ?? 0;
  const phaseB = PHASE_RANK[b.status?.phase ?? "Pending"] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  if (sameNodeCount) {
    const na = sameNodeCount.get(a.spec?.nodeName ?? "") ?? 0;
    const nb = sameNodeCount.get(b.spec?.nodeName ?? "") ?? 0;
    if (na !== nb) return nb - na;
  }
  if (readyA && readyB) {
    const ta = time(podCondition(a, "Ready")?.lastTransitionTime);
    const tb = time(podCondition(b, "Ready")?.lastTransitionTime);
    if (ta !== tb) return tb - ta;
  }
  const ra = restarts(a);
  const rb = restarts(b);
  if (ra !== rb) return rb - ra;
  return time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp);
}
