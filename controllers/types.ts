/** The API objects the controllers read and write, as the generated OpenAPI types name them. */

import type { Schema } from "../openapi/generated/types.ts";

export type Pod = Schema<"io.k8s.api.core.v1.Pod">;
export type PodTemplateSpec = Schema<"io.k8s.api.core.v1.PodTemplateSpec">;
export type PodCondition = Schema<"io.k8s.api.core.v1.PodCondition">;
export type Node = Schema<"io.k8s.api.core.v1.Node">;
export type Namespace = Schema<"io.k8s.api.core.v1.Namespace">;
export type Service = Schema<"io.k8s.api.core.v1.Service">;
export type ReplicationController = Schema<"io.k8s.api.core.v1.ReplicationController">;
export type ReplicaSet = Schema<"io.k8s.api.apps.v1.ReplicaSet">;
export type Deployment = Schema<"io.k8s.api.apps.v1.Deployment">;
export type StatefulSet = Schema<"io.k8s.api.apps.v1.StatefulSet">;
export type DaemonSet = Schema<"io.k8s.api.apps.v1.DaemonSet">;
export type ControllerRevision = Schema<"io.k8s.api.apps.v1.ControllerRevision">;
export type Job = Schema<"io.k8s.api.batch.v1.Job">;
export type CronJob = Schema<"io.k8s.api.batch.v1.CronJob">;
export type LabelSelectorObject = Schema<"io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector">;
export type OwnerReference = Schema<"io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference">;
export type ObjectMeta = Schema<"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta">;
export type NodeCondition = Schema<"io.k8s.api.core.v1.NodeCondition">;
export type Taint = Schema<"io.k8s.api.core.v1.Taint">;
export type Toleration = Schema<"io.k8s.api.core.v1.Toleration">;
export type Container = Schema<"io.k8s.api.core.v1.Container">;
export type Lease = Schema<"io.k8s.api.coordination.v1.Lease">;
export type PodDisruptionBudget = Schema<"io.k8s.api.policy.v1.PodDisruptionBudget">;
export type ResourceQuota = Schema<"io.k8s.api.core.v1.ResourceQuota">;
export type ScopedResourceSelectorRequirement = Schema<
  "io.k8s.api.core.v1.ScopedResourceSelectorRequirement"
>;
export type PersistentVolume = Schema<"io.k8s.api.core.v1.PersistentVolume">;
export type PersistentVolumeClaim = Schema<"io.k8s.api.core.v1.PersistentVolumeClaim">;
export type StorageClass = Schema<"io.k8s.api.storage.v1.StorageClass">;
