/**
 * Defaults of the smaller groups: rbac.authorization.k8s.io, storage.k8s.io,
 * scheduling.k8s.io and flowcontrol.apiserver.k8s.io. (policy, node, coordination and
 * certificates have no defaults of their own.)
 */

import {
  child,
  eachObject,
  type Obj,
  setDefault,
  setDefaultArray,
  setDefaultNumber,
  setDefaultString,
  structChild,
} from "./util.ts";

// ---- rbac.authorization.k8s.io ----

export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** A User or Group subject belongs to the RBAC group unless it names another. */
export function defaultSubject(subject: Obj): void {
  if (subject.kind === "User" || subject.kind === "Group") setDefaultString(subject, "apiGroup", RBAC_GROUP);
}

/** A RoleBinding or ClusterRoleBinding: the role is an RBAC role; its subjects' groups. */
export function defaultRoleBinding(binding: Obj): void {
  const roleRef = structChild(binding, "roleRef");
  if (roleRef) setDefaultString(roleRef, "apiGroup", RBAC_GROUP);
  eachObject(binding, "subjects", defaultSubject);
}

// ---- storage.k8s.io ----

/** A StorageClass: provisioned volumes are deleted when released and bound at once. */
export function defaultStorageClass(storageClass: Obj): void {
  setDefault(storageClass, "reclaimPolicy", "Delete");
  setDefault(storageClass, "volumeBindingMode", "Immediate");
}

/**
 * A CSIDriver: volumes need attaching; no pod info, capacity tracking, republishing or SELinux
 * mount options; fsGroup applied to ReadWriteOnce volumes with a filesystem type; persistent
 * volumes only.
 */
export function defaultCSIDriver(driver: Obj): void {
  const spec = structChild(driver, "spec");
  if (!spec) return;
  setDefault(spec, "attachRequired", true);
  setDefault(spec, "podInfoOnMount", false);
  setDefault(spec, "storageCapacity", false);
  setDefault(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType");
  setDefaultArray(spec, "volumeLifecycleModes", ["Persistent"]);
  setDefault(spec, "requiresRepublish", false);
  setDefault(spec, "seLinuxMount", false);
}

// ---- scheduling.k8s.io ----

/** A PriorityClass's pods may preempt lower-priority pods unless said otherwise. */
export function defaultPriorityClass(priorityClass: Obj): void {
  setDefault(priorityClass, "preemptionPolicy", "PreemptLowerPriority");
}

// ---- flowcontrol.apiserver.k8s.io ----

export const DEFAULT_MATCHING_PRECEDENCE = 1000;
export const DEFAULT_NOMINAL_CONCURRENCY_SHARES = 30;
export const DEFAULT_HAND_SIZE = 8;
export const DEFAULT_QUEUES = 64;
export const DEFAULT_QUEUE_LENGTH_LIMIT = 50;

export function defaultFlowSchema(flowSchema: Obj): void {
  const spec = structChild(flowSchema, "spec");
  if (spec) setDefaultNumber(spec, "matchingPrecedence", DEFAULT_MATCHING_PRECEDENCE);
}

export function defaultQueuingConfiguration(queuing: Obj): void {
  setDefaultNumber(queuing, "handSize", DEFAULT_HAND_SIZE);
  setDefaultNumber(queuing, "queues", DEFAULT_QUEUES);
  setDefaultNumber(queuing, "queueLengthLimit", DEFAULT_QUEUE_LENGTH_LIMIT);
}

/** A limited level: 30 shares (zero is allowed and kept), nothing lent, queuing defaults. */
export function defaultLimitedPriorityLevelConfiguration(limited: Obj): void {
  setDefault(limited, "nominalConcurrencyShares", DEFAULT_NOMINAL_CONCURRENCY_SHARES);
  setDefault(limited, "lendablePercent", 0);
  const limitResponse = child(limited, "limitResponse");
  const queuing = limitResponse && child(limitResponse, "queuing");
  if (queuing) defaultQueuingConfiguration(queuing);
}

/** An exempt level: no shares, nothing lent. */
export function defaultExemptPriorityLevelConfiguration(exempt: Obj): void {
  setDefault(exempt, "nominalConcurrencyShares", 0);
  setDefault(exempt, "lendablePercent", 0);
}

export function defaultPriorityLevelConfiguration(level: Obj): void {
  const spec = structChild(level, "spec");
  if (!spec) return;
  const limited = child(spec, "limited");
  if (limited) defaultLimitedPriorityLevelConfiguration(limited);
  const exempt = child(spec, "exempt");
  if (exempt) defaultExemptPriorityLevelConfiguration(exempt);
}
