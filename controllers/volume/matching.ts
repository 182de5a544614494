/**
 * Which PersistentVolume a claim gets, as upstream's binder chooses: volumes are grouped by
 * their access-mode sets and the groups that cover the claim's modes are tried fewest modes
 * first; within a group a volume pre-bound to the claim wins, else the smallest Available one
 * of the claim's class, volume mode, selector and at least the requested size. Also the class
 * and binding helpers both volume controllers use.
 */

import { matchesLabels, selectorFromLabelSelector } from "../../machinery/labels.ts";
import { parseQuantity } from "../../machinery/quantity.ts";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "../types.ts";

export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
import { ANN_SELECTED_NODE } from "../../machinery/volumes.ts";
export { ANN_SELECTED_NODE };
export const ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by";
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
import { ANN_BETA_STORAGE_CLASS } from "../../machinery/volumes.ts";
export { ANN_BETA_STORAGE_CLASS };
export const ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";
export const ANN_BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class";
export const NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner";

import { claimClass } from "../../machinery/volumes.ts";
export { claimClass };

/** Whether the claim names a class at all (an explicit "" counts). */
export function claimHasClass(claim: PersistentVolumeClaim): boolean {
  return claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] !== undefined ||
    (claim.spec?.storageClassName !== undefined && claim.spec.storageClassName !== null);
}

export function volumeClass(volume: PersistentVolume): string {
  return volume.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] ?? volume.spec?.storageClassName ?? "";
}

/** The default class: marked so by annotation; the newest if several are. */
export function defaultClass(classes: StorageClass[]): StorageClass | undefined {
  const marked = classes.filter((c) => {
    const a = c.metadata?.annotations ?? {};
    return a[ANN_DEFAULT_CLASS] === "true" || a[ANN_BETA_DEFAULT_CLASS] === "true";
  });
  marked.sort((a, b) =>
    Date.parse(b.metadata?.creationTimestamp ?? "") - Date.parse(a.metadata?.creationTimestamp ?? "") ||
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "")
  );
  return marked[0];
}

/** Pre-bound to the claim (name and namespace; the uid too when the volume has one). */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

function storageOf(list: unknown): number {
  return parseQuantity((list as Record<string, unknown> | undefined)?.storage) ?? 0;
}

export function requestedStorage(claim: PersistentVolumeClaim): number {
  return storageOf(claim.spec?.resources?.requests);
}

export function volumeStorage(volume: PersistentVolume): number {
  return storageOf(volume.spec?.capacity);
}

export function volumeModeMismatch(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  return (claim.spec?.volumeMode ?? "Filesystem") !== (volume.spec?.volumeMode ?? "Filesystem");
}

/** The volume offers every access mode the claim asks for. */
export function checkAccessModes(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  const offered = new Set(volume.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** Why a volume the claim names cannot be its volume; undefined when it can. */
export function volumeMismatch(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (volume.metadata?.deletionTimestamp) {
    return `the volume is marked for deletion "${volume.metadata.name}"`;
  }
  if (volumeStorage(volume) < requestedStorage(claim)) return "requested PV is too small";
  if (volumeClass(volume) !== claimClass(claim)) return "storageClassName does not match";
  if (volumeModeMismatch(claim, volume)) return "incompatible volumeMode";
  if (!checkAccessModes(claim, volume)) return "incompatible accessMode";
  return undefined;
}

/** One access-mode group: the smallest matching volume, or the one pre-bound to the claim. */
function findMatchingVolume(
  claim: PersistentVolumeClaim,
  volumes: PersistentVolume[],
  delayBinding: boolean,
): PersistentVolume | undefined {
  const requested = requestedStorage(claim);
  const cls = claimClass(claim);
  const selector = claim.spec?.selector ? selectorFromLabelSelector(claim.spec.selector as never) : undefined;
  let smallest: PersistentVolume | undefined;
  for (const volume of volumes) {
    if (volume.spec?.claimRef && !isVolumeBoundToClaim(volume, claim)) continue;
    const size = volumeStorage(volume);
    if (size < requested) continue;
    if (volumeModeMismatch(claim, volume)) continue;
    if (volume.metadata?.deletionTimestamp) continue;
    if (isVolumeBoundToClaim(volume, claim)) return volume;
    // Delayed binding is the scheduler's to make (it knows the node); only pre-bound ones here.
    if (delayBinding) continue;
    if (volume.status?.phase !== "Available") continue;
    if (selector && !matchesLabels(selector, volume.metadata?.labels ?? {})) continue;
    if (volumeClass(volume) !== cls) continue;
    if (!smallest || volumeStorage(smallest) > size) smallest = volume;
  }
  return smallest;
}

/** The volume the binder would give `claim`, if any. */
export function findBestMatchForClaim(
  claim: PersistentVolumeClaim,
  volumes: PersistentVolume[],
  delayBinding: boolean,
): PersistentVolume | undefined {
  const groups = new Map<string, { modes: string[]; volumes: PersistentVolume[] }>();
  for (const v of volumes) {
    const modes = [...new Set(v.spec?.accessModes ?? [])].sort();
    const key = modes.join(",");
    const g = groups.get(key) ?? { modes, volumes: [] };
    g.volumes.push(v);
    groups.set(key, g);
  }
  const wanted = claim.spec?.accessModes ?? [];
  const candidates = [...groups.values()]
    .filter((g) => wanted.every((m) => g.modes.includes(m)))
    .sort((a, b) => a.modes.length - b.modes.length);
  for (const g of candidates) {
    const found = findMatchingVolume(claim, g.volumes, delayBinding);
    if (found) return found;
  }
  return undefined;
}
