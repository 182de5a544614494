/**
 * What a StatefulSet's pods and claims are, as upstream's stateful_set_utils has it: a pod's
 * identity (`<set>-<ordinal>`, its pod-name and pod-index labels, hostname and subdomain), its
 * storage (volumes naming the claims `<template>-<set>-<ordinal>`), its revision label, the
 * revision data (a patch replacing `spec.template`), the health predicates the ordering rules
 * use, and which ownerReferences a claim should carry under the retention policy.
 */

import { clone, jsonEqual } from "../../machinery/object_meta.ts";
import { isPodAvailable, isPodReady, ownerRefTo, podFromTemplate } from "../pods.ts";
import type { ControllerRevision, OwnerReference, Pod, StatefulSet } from "../types.ts";
import { newControllerRevision } from "../history/history.ts";

export type PersistentVolumeClaim = NonNullable<
  NonNullable<StatefulSet["spec"]>["volumeClaimTemplates"]
>[number];
export type StatefulSetStatus = NonNullable<StatefulSet["status"]>;

/** The label naming a pod of a StatefulSet (`web-0`), for per-pod Services. */
export const STATEFUL_SET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
/** The label holding the pod's ordinal. */
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";
/** The label holding the name of the revision a pod was made from. */
export const STATEFUL_SET_REVISION_LABEL = "controller-revision-hash";

export const STATEFUL_SET_KIND = { apiVersion: "apps/v1", kind: "StatefulSet" } as const;
const POD_KIND = { apiVersion: "v1", kind: "Pod" } as const;

const STATEFUL_POD = /^(.*)-([0-9]+)$/;

/** The set a pod's name says it belongs to, and its ordinal (-1 when the name has none). */
export function parentNameAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const m = STATEFUL_POD.exec(pod.metadata?.name ?? "");
  if (!m) return { parent: "", ordinal: -1 };
  const ordinal = Number(m[2]);
  return { parent: m[1], ordinal: ordinal <= 0x7fffffff ? ordinal : -1 };
}

export function getOrdinal(pod: Pod): number {
  return parentNameAndOrdinal(pod).ordinal;
}

export function replicasOf(set: StatefulSet): number {
  return set.spec?.replicas ?? 1;
}

/** The first ordinal (`spec.ordinals.start`, else 0). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** The last ordinal, inclusive. */
export function endOrdinal(set: StatefulSet): number {
  return startOrdinal(set) + replicasOf(set) - 1;
}

export function podInOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const ordinal = getOrdinal(pod);
  return ordinal >= startOrdinal(set) && ordinal <= endOrdinal(set);
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name}-${ordinal}`;
}

/** `<claim template>-<set>-<ordinal>`. */
export function claimName(set: StatefulSet, claim: PersistentVolumeClaim, ordinal: number): string {
  return `${claim.metadata?.name}-${set.metadata?.name}-${ordinal}`;
}

export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentNameAndOrdinal(pod).parent === set.metadata?.name;
}

/** Whether the pod's name, namespace and pod-name label are those of a member of the set. */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentNameAndOrdinal(pod);
  return ordinal >= 0 &&
    parent === set.metadata?.name &&
    pod.metadata?.name === podName(set, ordinal) &&
    pod.metadata?.namespace === set.metadata?.namespace &&
    pod.metadata?.labels?.[STATEFUL_SET_POD_NAME_LABEL] === pod.metadata?.name;
}

/** Whether the pod has a volume for every claim template, naming its claim. */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const claim of set.spec?.volumeClaimTemplates ?? []) {
    const volume = volumes.get(claim.metadata?.name ?? "");
    if (volume?.persistentVolumeClaim?.claimName !== claimName(set, claim, ordinal)) return false;
  }
  return true;
}

/** The claims of a pod, by template name: each template named for the pod, with the selector's labels. */
export function persistentVolumeClaims(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = getOrdinal(pod);
  const claims = new Map<string, PersistentVolumeClaim>();
  for (const template of set.spec?.volumeClaimTemplates ?? []) {
    const claim = clone(template);
    claim.apiVersion = "v1";
    claim.kind = "PersistentVolumeClaim";
    claim.metadata = {
      ...claim.metadata,
      name: claimName(set, template, ordinal),
      namespace: set.metadata?.namespace,
      labels: { ...claim.metadata?.labels, ...set.spec?.selector?.matchLabels },
    };
    delete claim.status;
    claims.set(template.metadata?.name ?? "", claim);
  }
  return claims;
}

/** Makes the pod's volumes name its claims, replacing local volumes of the same names. */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = persistentVolumeClaims(set, pod);
  const volumes: NonNullable<NonNullable<Pod["spec"]>["volumes"]> = [...claims].map(([name, claim]) => ({
    name,
    persistentVolumeClaim: { claimName: claim.metadata!.name!, readOnly: false },
  }));
  for (const v of pod.spec?.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec!.volumes = volumes;
}

/** Name, namespace and the pod-name and pod-index labels, from the pod's ordinal. */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = getOrdinal(pod);
  const meta = pod.metadata ??= {};
  meta.name = podName(set, ordinal);
  meta.namespace = set.metadata?.namespace;
  meta.labels = {
    ...meta.labels,
    [STATEFUL_SET_POD_NAME_LABEL]: meta.name,
    [POD_INDEX_LABEL]: String(ordinal),
  };
}

/** The identity, plus hostname and subdomain, which are set only when the pod is made. */
export function initIdentity(set: StatefulSet, pod: Pod): void {
  updateIdentity(set, pod);
  pod.spec!.hostname = pod.metadata!.name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
}

export function isCreated(pod: Pod): boolean {
  return !!pod.status?.phase;
}

export function isPending(pod: Pod): boolean {
  return pod.status?.phase === "Pending";
}

export function isFailed(pod: Pod): boolean {
  return pod.status?.phase === "Failed";
}

export function isSucceeded(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded";
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" && isPodReady(pod);
}

export function isRunningAndAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): boolean {
  return isPodAvailable(pod, minReadySeconds, now);
}

/** Running, ready and not being deleted. */
export function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

/** `Parallel` pod management: pods made and removed without waiting on each other. */
export function allowsBurst(set: StatefulSet): boolean {
  return set.spec?.podManagementPolicy === "Parallel";
}

export function podRevision(pod: Pod): string {
  return pod.metadata?.labels?.[STATEFUL_SET_REVISION_LABEL] ?? "";
}

export function setPodRevision(pod: Pod, revision: string): void {
  const meta = pod.metadata ??= {};
  meta.labels = { ...meta.labels, [STATEFUL_SET_REVISION_LABEL]: revision };
}

/** A new pod of the set at `ordinal`, from its template, owned by it. */
export function newStatefulSetPod(set: StatefulSet, ordinal: number): Pod {
  const ref = ownerRefTo({ ...set, ...STATEFUL_SET_KIND });
  const pod = podFromTemplate(set.spec!.template, set.metadata!.namespace!, "", ref);
  delete pod.metadata!.generateName;
  pod.metadata!.name = podName(set, ordinal);
  initIdentity(set, pod);
  updateStorage(set, pod);
  return pod;
}

/**
 * A new pod at `ordinal`, at the current revision when the update strategy keeps it there
 * (below the partition, or below the count of current replicas without a rollingUpdate), else
 * at the update revision.
 */
export function newVersionedStatefulSetPod(
  currentSet: StatefulSet,
  updateSet: StatefulSet,
  currentRevision: string,
  updateRevision: string,
  ordinal: number,
): Pod {
  const strategy = currentSet.spec?.updateStrategy;
  const start = startOrdinal(currentSet);
  const keepCurrent = (strategy?.type === "RollingUpdate" && !strategy.rollingUpdate &&
    ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (!!strategy?.rollingUpdate && ordinal < start + (strategy.rollingUpdate.partition ?? 0));
  const pod = newStatefulSetPod(keepCurrent ? currentSet : updateSet, ordinal);
  setPodRevision(pod, keepCurrent ? currentRevision : updateRevision);
  return pod;
}

/** The revision data of a set: a strategic-merge patch replacing `spec.template`. */
export function revisionData(set: StatefulSet): Record<string, unknown> {
  return { spec: { template: { ...clone(set.spec!.template), $patch: "replace" } } };
}

/** A new revision of the set numbered `revision`, with the set's annotations. */
export function newRevision(set: StatefulSet, revision: number, collisionCount: number): ControllerRevision {
  const cr = newControllerRevision(
    { ...set, ...STATEFUL_SET_KIND },
    set.spec?.template?.metadata?.labels,
    revisionData(set),
    revision,
    collisionCount,
  );
  if (set.metadata?.annotations) cr.metadata!.annotations = { ...set.metadata.annotations };
  return cr;
}

/** The set as it was at `revision`: its template restored. */
export function applyRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const restored = clone(set);
  const spec = (revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec;
  if (spec?.template) {
    const { $patch: _, ...template } = clone(spec.template);
    restored.spec!.template = template as NonNullable<StatefulSet["spec"]>["template"];
  }
  return restored;
}

/** Whether the status computed differs from the set's in anything upstream writes for. */
export function inconsistentStatus(set: StatefulSet, status: StatefulSetStatus): boolean {
  const old: Partial<StatefulSetStatus> = set.status ?? {};
  return (status.observedGeneration ?? 0) > (old.observedGeneration ?? 0) ||
    status.replicas !== (old.replicas ?? 0) ||
    (status.currentReplicas ?? 0) !== (old.currentReplicas ?? 0) ||
    (status.readyReplicas ?? 0) !== (old.readyReplicas ?? 0) ||
    (status.updatedReplicas ?? 0) !== (old.updatedReplicas ?? 0) ||
    (status.currentRevision ?? "") !== (old.currentRevision ?? "") ||
    (status.availableReplicas ?? 0) !== (old.availableReplicas ?? 0) ||
    (status.updateRevision ?? "") !== (old.updateRevision ?? "") ||
    (status.collisionCount ?? 0) !== (old.collisionCount ?? 0);
}

/** A rolling update is complete when every replica is updated and ready: current becomes update. */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  const replicas = replicasOf(set);
  if (
    set.spec?.updateStrategy?.type === "RollingUpdate" &&
    status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas
  ) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

// ---- Claim ownership under the retention policy ----

export interface RetentionPolicy {
  whenDeleted: string;
  whenScaled: string;
}

/** `spec.persistentVolumeClaimRetentionPolicy`, Retain for what is unset. */
export function retentionPolicy(set: StatefulSet): RetentionPolicy {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted || "Retain", whenScaled: p?.whenScaled || "Retain" };
}

interface Referent {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; uid?: string };
}

function setReferent(set: StatefulSet): Referent {
  return { ...STATEFUL_SET_KIND, metadata: set.metadata };
}

function podReferent(pod: Pod): Referent {
  return { ...POD_KIND, metadata: pod.metadata };
}

/** Whether the reference names the object (kind and name; not uid). */
function matchesRef(ref: OwnerReference, obj: Referent): boolean {
  return ref.apiVersion === obj.apiVersion && ref.kind === obj.kind && ref.name === obj.metadata?.name;
}

function hasOwnerRef(claim: PersistentVolumeClaim, owner: Referent): boolean {
  const uid = owner.metadata?.uid;
  return (claim.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
}

/** A reference naming the object but with another uid: left by an earlier object of that name. */
export function hasStaleOwnerRef(claim: PersistentVolumeClaim, owner: Referent): boolean {
  const ref = (claim.metadata?.ownerReferences ?? []).find((r) => matchesRef(r, owner));
  return !!ref && ref.uid !== owner.metadata?.uid;
}

/** Under a policy that deletes, a controller of the claim other than the set or the pod. */
export function hasUnexpectedController(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const policy = retentionPolicy(set);
  if (policy.whenScaled === "Retain" && policy.whenDeleted === "Retain") return false;
  const s = setReferent(set);
  const p = podReferent(pod);
  for (const ref of claim.metadata?.ownerReferences ?? []) {
    if (matchesRef(ref, s)) {
      if (ref.uid !== s.metadata?.uid) return true;
      continue;
    }
    if (matchesRef(ref, p)) {
      if (ref.uid !== p.metadata?.uid) return true;
      continue;
    }
    if (ref.controller) return true;
  }
  return false;
}

function hasNonControllerOwner(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  return (claim.metadata?.ownerReferences ?? []).some((r) =>
    (r.uid === set.metadata?.uid || r.uid === pod.metadata?.uid) && !r.controller
  );
}

/**
 * Whether the claim's references already fit the policy: Retain/Retain none; Delete on set
 * deletion a reference to the set; Delete on scale down a reference to the pod once it is out
 * of range (and to the set while it is in range, when both delete). Claims with stale
 * references or someone else's controller are left alone.
 */
export function isClaimOwnerUpToDate(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const s = setReferent(set);
  const p = podReferent(pod);
  if (hasStaleOwnerRef(claim, s) || hasStaleOwnerRef(claim, p)) return true;
  if (hasUnexpectedController(claim, set, pod)) return !(hasOwnerRef(claim, s) || hasOwnerRef(claim, p));
  if (hasNonControllerOwner(claim, set, pod)) return false;
  const { whenScaled, whenDeleted } = retentionPolicy(set);
  const scaledDown = !podInOrdinalRange(pod, set);
  if (whenScaled === "Delete" && whenDeleted === "Delete") {
    return scaledDown !== hasOwnerRef(claim, s) && scaledDown === hasOwnerRef(claim, p);
  }
  if (whenScaled === "Delete") return !hasOwnerRef(claim, s) && scaledDown === hasOwnerRef(claim, p);
  if (whenDeleted === "Delete") return hasOwnerRef(claim, s) && !hasOwnerRef(claim, p);
  return !hasOwnerRef(claim, s) && !hasOwnerRef(claim, p);
}

/** Sets the claim's references to the set and the pod as the policy asks (see above). */
export function updateClaimOwnerRefForSetAndPod(
  claim: PersistentVolumeClaim,
  set: StatefulSet,
  pod: Pod,
): void {
  const s = setReferent(set);
  const p = podReferent(pod);
  const unexpected = hasUnexpectedController(claim, set, pod);
  let refs = (claim.metadata?.ownerReferences ?? []).filter((r) => !matchesRef(r, s) && !matchesRef(r, p));
  if (!unexpected) {
    const { whenScaled, whenDeleted } = retentionPolicy(set);
    const scaledDown = !podInOrdinalRange(pod, set);
    const add = (owner: Referent) => {
      if (!refs.some((r) => r.uid === owner.metadata?.uid)) refs = [...refs, ownerRefTo(owner)];
    };
    if (whenScaled === "Delete" && scaledDown) add(p);
    if (whenDeleted === "Delete" && !(whenScaled === "Delete" && scaledDown)) add(s);
  }
  claim.metadata = { ...claim.metadata, ownerReferences: refs.length ? refs : undefined };
}

/** Whether two claims' references are the same. */
export function sameOwnerRefs(a: PersistentVolumeClaim, b: PersistentVolumeClaim): boolean {
  return jsonEqual(a.metadata?.ownerReferences ?? [], b.metadata?.ownerReferences ?? []);
}
