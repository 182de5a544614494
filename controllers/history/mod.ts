/**
 * ControllerRevision history and ownership claims shared by the StatefulSet and DaemonSet
 * controllers.
 */

export * from "./hash.ts";
export * from "./history.ts";
export * from "./owners.ts";
export * from "./ref_manager.ts";
