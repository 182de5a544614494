/**
 * Defaulting of built-in objects, as kube-apiserver v1.33 applies it when it decodes a request
 * body or reads an object back: what `kubectl create --dry-run=server -o yaml` and
 * `kubectl get -o yaml` show filled in. Pure functions over decoded JSON: `applyDefaults`
 * mutates the object in place, changes nothing on a second run, and leaves values of the wrong
 * type alone (validation reports them) rather than throwing.
 *
 * What admission plugins add to new Pods (service account, default tolerations, priority) is
 * not defaulting; see pod_admission.ts.
 */

import {
  defaultAdmissionPolicy,
  defaultAdmissionPolicyBinding,
  defaultMutatingWebhookConfiguration,
  defaultValidatingWebhookConfiguration,
} from "./admissionregistration.ts";
import { defaultCustomResourceDefinition } from "./apiextensions.ts";
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from "./apps.ts";
import { defaultHorizontalPodAutoscaler } from "./autoscaling.ts";
import { defaultCronJob, defaultJob } from "./batch.ts";
import {
  defaultEndpoints,
  defaultEvent,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultPodTemplate,
  defaultReplicationController,
  defaultSecret,
  defaultService,
} from "./core.ts";
import {
  defaultCSIDriver,
  defaultFlowSchema,
  defaultPriorityClass,
  defaultPriorityLevelConfiguration,
  defaultRoleBinding,
  defaultStorageClass,
} from "./misc.ts";
import { defaultEndpointSlice, defaultIngressClass, defaultNetworkPolicy } from "./networking.ts";
import { defaultPod } from "./pod.ts";
import { arrayAt, isObject, type Obj } from "./util.ts";

export type { Obj };

/** Defaults one object of a kind; `version` for the few kinds whose defaults differ by version. */
export type Defaulter = (obj: Obj, version: string) => void;

/** The defaulter of each kind, by API group ("" is the core group). Kinds not listed have none. */
export const DEFAULTERS: Readonly<Record<string, Readonly<Record<string, Defaulter>>>> = {
  "": {
    Pod: defaultPod,
    PodTemplate: defaultPodTemplate,
    ReplicationController: defaultReplicationController,
    Service: defaultService,
    Endpoints: defaultEndpoints,
    Namespace: defaultNamespace,
    Secret: defaultSecret,
    PersistentVolume: defaultPersistentVolume,
    PersistentVolumeClaim: defaultPersistentVolumeClaim,
    Node: defaultNode,
    LimitRange: defaultLimitRange,
    Event: defaultEvent,
  },
  apps: {
    Deployment: defaultDeployment,
    ReplicaSet: defaultReplicaSet,
    StatefulSet: defaultStatefulSet,
    DaemonSet: defaultDaemonSet,
  },
  batch: {
    Job: defaultJob,
    CronJob: defaultCronJob,
  },
  autoscaling: {
    HorizontalPodAutoscaler: defaultHorizontalPodAutoscaler,
  },
  "networking.k8s.io": {
    NetworkPolicy: defaultNetworkPolicy,
    IngressClass: defaultIngressClass,
  },
  "discovery.k8s.io": {
    EndpointSlice: defaultEndpointSlice,
  },
  "rbac.authorization.k8s.io": {
    RoleBinding: defaultRoleBinding,
    ClusterRoleBinding: defaultRoleBinding,
  },
  "storage.k8s.io": {
    StorageClass: defaultStorageClass,
    CSIDriver: defaultCSIDriver,
  },
  "scheduling.k8s.io": {
    PriorityClass: defaultPriorityClass,
  },
  "admissionregistration.k8s.io": {
    ValidatingWebhookConfiguration: defaultValidatingWebhookConfiguration,
    MutatingWebhookConfiguration: defaultMutatingWebhookConfiguration,
    ValidatingAdmissionPolicy: defaultAdmissionPolicy,
    ValidatingAdmissionPolicyBinding: defaultAdmissionPolicyBinding,
    MutatingAdmissionPolicy: defaultAdmissionPolicy,
    MutatingAdmissionPolicyBinding: defaultAdmissionPolicyBinding,
  },
  "flowcontrol.apiserver.k8s.io": {
    FlowSchema: defaultFlowSchema,
    PriorityLevelConfiguration: defaultPriorityLevelConfiguration,
  },
  "apiextensions.k8s.io": {
    CustomResourceDefinition: defaultCustomResourceDefinition,
  },
};

/** The defaulter for a kind, if it has one. */
export function defaulterFor(group: string, kind: string): Defaulter | undefined {
  const byKind = DEFAULTERS[group];
  return byKind && Object.hasOwn(byKind, kind) ? byKind[kind] : undefined;
}

/**
 * Applies the defaults of `group`/`version`/`kind` to `obj` in place. A list kind (`PodList`, …)
 * defaults each of its items.
 */
export function applyDefaults(
  group: string,
  version: string,
  kind: string,
  obj: Record<string, unknown>,
): void {
  if (!isObject(obj)) return;
  const defaulter = defaulterFor(group, kind);
  if (defaulter) {
    defaulter(obj, version);
    return;
  }
  if (!kind.endsWith("List")) return;
  const itemDefaulter = defaulterFor(group, kind.slice(0, -"List".length));
  const items = itemDefaulter && arrayAt(obj, "items");
  if (!items) return;
  for (const item of items) if (isObject(item)) itemDefaulter(item, version);
}
