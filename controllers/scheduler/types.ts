/**
 * The API objects the scheduler reads, as the generated OpenAPI types name them, and the
 * well-known label keys it uses. Objects are treated as immutable: the snapshot caches what it
 * derives from a pod or node by object identity.
 */

import type { Schema } from "../../openapi/generated/types.ts";

export type Pod = Schema<"io.k8s.api.core.v1.Pod">;
export type PodSpec = Schema<"io.k8s.api.core.v1.PodSpec">;
export type Container = Schema<"io.k8s.api.core.v1.Container">;
export type Node = Schema<"io.k8s.api.core.v1.Node">;
export type Taint = Schema<"io.k8s.api.core.v1.Taint">;
export type Toleration = Schema<"io.k8s.api.core.v1.Toleration">;
export type NodeSelector = Schema<"io.k8s.api.core.v1.NodeSelector">;
export type NodeSelectorTerm = Schema<"io.k8s.api.core.v1.NodeSelectorTerm">;
export type PodAffinityTerm = Schema<"io.k8s.api.core.v1.PodAffinityTerm">;
export type TopologySpreadConstraint = Schema<"io.k8s.api.core.v1.TopologySpreadConstraint">;
export type PersistentVolumeClaim = Schema<"io.k8s.api.core.v1.PersistentVolumeClaim">;
export type PersistentVolume = Schema<"io.k8s.api.core.v1.PersistentVolume">;
export type StorageClass = Schema<"io.k8s.api.storage.v1.StorageClass">;
export type PodDisruptionBudget = Schema<"io.k8s.api.policy.v1.PodDisruptionBudget">;
export type PriorityClass = Schema<"io.k8s.api.scheduling.v1.PriorityClass">;
export type Service = Schema<"io.k8s.api.core.v1.Service">;
export type ReplicationController = Schema<"io.k8s.api.core.v1.ReplicationController">;
export type ReplicaSet = Schema<"io.k8s.api.apps.v1.ReplicaSet">;
export type StatefulSet = Schema<"io.k8s.api.apps.v1.StatefulSet">;
export type LabelSelectorObject = Schema<"io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector">;

/** `kubernetes.io/hostname`: the per-node topology key. */
export const LABEL_HOSTNAME = "kubernetes.io/hostname";
/** `topology.kubernetes.io/zone`. */
export const LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone";
/** `topology.kubernetes.io/region`. */
export const LABEL_TOPOLOGY_REGION = "topology.kubernetes.io/region";
/** The deprecated zone and region labels the node tree still reads. */
export const LABEL_FAILURE_DOMAIN_ZONE = "failure-domain.beta.kubernetes.io/zone";
export const LABEL_FAILURE_DOMAIN_REGION = "failure-domain.beta.kubernetes.io/region";
/** The taint that mirrors `spec.unschedulable`. */
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

/** Looks up a namespaced object (a PVC) by namespace and name. */
export type NamespacedLookup<T> = (namespace: string, name: string) => T | undefined;
/** Looks up a cluster-scoped object (a PV, a StorageClass, a PriorityClass) by name. */
export type ClusterLookup<T> = (name: string) => T | undefined;

/** A pod's priority as upstream reads it: `spec.priority`, else 0. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** The `namespace/name` of an object, `default` when it has no namespace. */
export function namespacedName(meta: { namespace?: string; name?: string } | undefined): string {
  return `${meta?.namespace || "default"}/${meta?.name ?? ""}`;
}
