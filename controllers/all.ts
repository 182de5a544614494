/**
 * Every controller `kubedeno up` and `kubedeno controllers` run, by upstream's controller
 * names (kube-controller-manager's `--controllers` names).
 */

import type { ControllerFactory } from "./framework/mod.ts";
import { newReplicaSetController, newReplicationControllerController } from "./replicaset/controller.ts";
import { newPodGCController } from "./podgc/controller.ts";
import { newDeploymentController } from "./deployment/controller.ts";
import { newStatefulSetController } from "./statefulset/controller.ts";
import { newDaemonSetController } from "./daemonset/controller.ts";
import { newJobController } from "./job/controller.ts";
import { newCronJobController } from "./cronjob/controller.ts";
import { newTTLAfterFinishedController } from "./ttlafterfinished/controller.ts";
import { newGarbageCollector } from "./garbagecollector/controller.ts";
import { newServiceAccountController } from "./serviceaccount/serviceaccounts.ts";
import { newRootCAPublisher } from "./serviceaccount/root_ca_publisher.ts";
import { newEndpointsController } from "./endpoints/controller.ts";
import { newEndpointSliceController } from "./endpointslice/controller.ts";
import { newEndpointSliceMirroringController } from "./endpointslice/mirroring.ts";
import { newNodeLifecycleController } from "./nodelifecycle/controller.ts";
import { newTaintEvictionController } from "./nodelifecycle/taint_eviction.ts";
import { newDisruptionController } from "./disruption/controller.ts";
import { newResourceQuotaController } from "./resourcequota/controller.ts";
import { newPersistentVolumeBinder } from "./volume/binder.ts";
import { newLocalVolumeProvisioner } from "./volume/local_provisioner.ts";
import { newNodeIpamController } from "./nodeipam/controller.ts";

export { LOCAL_STORAGE_CLASS } from "./volume/local_provisioner.ts";

/** What some controllers need from where they run. */
export interface ControllersConfig {
  /** The cluster CA (PEM) published in every namespace as `kube-root-ca.crt`; without it that controller is off. */
  rootCA?: string;
  /** Where the local provisioner makes volume directories. */
  volumesDir: string;
}

export function controllerFactories(config: ControllersConfig): Record<string, ControllerFactory> {
  return {
    garbagecollector: newGarbageCollector,
    replicaset: newReplicaSetController,
    replicationcontroller: newReplicationControllerController,
    deployment: newDeploymentController,
    statefulset: newStatefulSetController,
    daemonset: newDaemonSetController,
    job: newJobController(),
    cronjob: newCronJobController(),
    "ttl-after-finished": newTTLAfterFinishedController(),
    podgc: newPodGCController(),
    serviceaccount: newServiceAccountController,
    ...(config.rootCA ? { "root-ca-cert-publisher": newRootCAPublisher({ rootCA: config.rootCA }) } : {}),
    endpoint: newEndpointsController,
    endpointslice: newEndpointSliceController,
    endpointslicemirroring: newEndpointSliceMirroringController,
    "node-lifecycle": newNodeLifecycleController(),
    "node-ipam-controller": newNodeIpamController(),
    "taint-eviction-controller": newTaintEvictionController(),
    disruption: newDisruptionController(),
    resourcequota: newResourceQuotaController(),
    "persistentvolume-binder": newPersistentVolumeBinder(),
    "local-volume-provisioner": newLocalVolumeProvisioner({ baseDir: config.volumesDir }),
  };
}
