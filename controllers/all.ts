/**
 * Every controller `kubedeno up` and `kubedeno controllers` run, by upstream's controller
 * names.
 */

import type { ControllerFactory } from "./framework/mod.ts";
import { newReplicaSetController, newReplicationControllerController } from "./replicaset/controller.ts";
import { newPodGCController } from "./podgc/controller.ts";

export const CONTROLLERS: Record<string, ControllerFactory> = {
  replicaset: newReplicaSetController,
  replicationcontroller: newReplicationControllerController,
  podgc: newPodGCController(),
};
