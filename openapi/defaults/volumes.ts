/**
 * Defaults of volumes and their sources: pod volumes, the in-tree sources a PersistentVolume
 * shares with them, and PersistentVolumeClaim specs (which also appear inside pods' ephemeral
 * volumes and StatefulSets' claim templates).
 */

import { defaultPullPolicy } from "./image.ts";
import { child, eachObject, isUnset, type Obj, setDefault, setDefaultString, structChild } from "./util.ts";

/** Permission bits (0644) that secret, configMap, downwardAPI and projected volumes default to. */
export const DEFAULT_VOLUME_MODE = 0o644;

/** Lifetime (one hour) of a projected service account token that names none. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

/** The keys of a pod volume that name its source. */
export const VOLUME_SOURCES: readonly string[] = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "gitRepo",
  "glusterfs",
  "hostPath",
  "image",
  "iscsi",
  "nfs",
  "persistentVolumeClaim",
  "photonPersistentDisk",
  "portworxVolume",
  "projected",
  "quobyte",
  "rbd",
  "scaleIO",
  "secret",
  "storageos",
  "vsphereVolume",
];

/** `fieldRef.apiVersion` is v1 unless named (env vars and downward API files alike). */
export function defaultObjectFieldSelector(fieldRef: Obj): void {
  setDefaultString(fieldRef, "apiVersion", "v1");
}

/** A hostPath's type is the empty string ("no check") when unset. */
export function defaultHostPathVolumeSource(source: Obj): void {
  setDefault(source, "type", "");
}

export function defaultSecretVolumeSource(source: Obj): void {
  setDefault(source, "defaultMode", DEFAULT_VOLUME_MODE);
}

export function defaultConfigMapVolumeSource(source: Obj): void {
  setDefault(source, "defaultMode", DEFAULT_VOLUME_MODE);
}

export function defaultDownwardAPIVolumeSource(source: Obj): void {
  setDefault(source, "defaultMode", DEFAULT_VOLUME_MODE);
  defaultDownwardAPIFiles(source);
}

function defaultDownwardAPIFiles(source: Obj): void {
  eachObject(source, "items", (file) => {
    const fieldRef = child(file, "fieldRef");
    if (fieldRef) defaultObjectFieldSelector(fieldRef);
  });
}

export function defaultServiceAccountTokenProjection(projection: Obj): void {
  setDefault(projection, "expirationSeconds", DEFAULT_TOKEN_EXPIRATION_SECONDS);
}

export function defaultProjectedVolumeSource(source: Obj): void {
  setDefault(source, "defaultMode", DEFAULT_VOLUME_MODE);
  eachObject(source, "sources", (projection) => {
    const downwardAPI = child(projection, "downwardAPI");
    if (downwardAPI) defaultDownwardAPIFiles(downwardAPI);
    const token = child(projection, "serviceAccountToken");
    if (token) defaultServiceAccountTokenProjection(token);
  });
}

/** iSCSI (pod volume or PersistentVolume): the iface is `default`. */
export function defaultISCSIVolumeSource(source: Obj): void {
  setDefaultString(source, "iscsiInterface", "default");
}

/** Ceph RBD (pod volume or PersistentVolume): pool, user and keyring of a stock Ceph install. */
export function defaultRBDVolumeSource(source: Obj): void {
  setDefaultString(source, "pool", "rbd");
  setDefaultString(source, "user", "admin");
  setDefaultString(source, "keyring", "/etc/ceph/keyring");
}

/** Azure Disk (pod volume or PersistentVolume). */
export function defaultAzureDiskVolumeSource(source: Obj): void {
  setDefault(source, "cachingMode", "ReadWrite");
  setDefault(source, "fsType", "ext4");
  setDefault(source, "readOnly", false);
  setDefault(source, "kind", "Shared");
}

/** ScaleIO (pod volume or PersistentVolume). */
export function defaultScaleIOVolumeSource(source: Obj): void {
  setDefaultString(source, "storageMode", "ThinProvisioned");
  setDefaultString(source, "fsType", "xfs");
}

/** An image volume's pull policy follows its reference's tag, as a container's does. */
export function defaultImageVolumeSource(source: Obj): void {
  setDefaultString(source, "pullPolicy", defaultPullPolicy(source.reference));
}

/** A claim spec's volume mode is Filesystem when unset. */
export function defaultPersistentVolumeClaimSpec(spec: Obj): void {
  setDefault(spec, "volumeMode", "Filesystem");
}

/**
 * A claim as embedded in a StatefulSet's `volumeClaimTemplates`: its spec, and a status phase
 * of Pending. (A stored PersistentVolumeClaim's status belongs to its strategy: see core.ts.)
 */
export function defaultPersistentVolumeClaimTemplate(claim: Obj): void {
  const spec = structChild(claim, "spec");
  if (spec) defaultPersistentVolumeClaimSpec(spec);
  const status = structChild(claim, "status");
  if (status) setDefaultString(status, "phase", "Pending");
}

/** A pod volume that names no source is an emptyDir; then each source's own defaults. */
export function defaultVolume(volume: Obj): void {
  if (VOLUME_SOURCES.every((key) => isUnset(volume[key]))) volume.emptyDir = {};
  const source = (key: string, fn: (s: Obj) => void) => {
    const s = child(volume, key);
    if (s) fn(s);
  };
  source("hostPath", defaultHostPathVolumeSource);
  source("secret", defaultSecretVolumeSource);
  source("iscsi", defaultISCSIVolumeSource);
  source("rbd", defaultRBDVolumeSource);
  source("downwardAPI", defaultDownwardAPIVolumeSource);
  source("configMap", defaultConfigMapVolumeSource);
  source("azureDisk", defaultAzureDiskVolumeSource);
  source("projected", defaultProjectedVolumeSource);
  source("scaleIO", defaultScaleIOVolumeSource);
  source("image", defaultImageVolumeSource);
  source("ephemeral", (ephemeral) => {
    const template = child(ephemeral, "volumeClaimTemplate");
    const spec = template && structChild(template, "spec");
    if (spec) defaultPersistentVolumeClaimSpec(spec);
  });
}

/** The in-tree sources of a PersistentVolume spec that have defaults. */
export function defaultPersistentVolumeSource(spec: Obj): void {
  const source = (key: string, fn: (s: Obj) => void) => {
    const s = child(spec, key);
    if (s) fn(s);
  };
  source("hostPath", defaultHostPathVolumeSource);
  source("rbd", defaultRBDVolumeSource);
  source("iscsi", defaultISCSIVolumeSource);
  source("azureDisk", defaultAzureDiskVolumeSource);
  source("scaleIO", defaultScaleIOVolumeSource);
}
