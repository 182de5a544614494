/**
 * The default profile: kube-scheduler's default plugins in their configured order (which is
 * also the order filters run in and so decides which reason a node reports) with their score
 * weights. Not implemented: SchedulingGates (a queue concern), VolumeRestrictions,
 * NodeVolumeLimits, VolumeZone, ImageLocality, DefaultBinder (the caller binds).
 */

import type { Plugin } from "../interface.ts";
import { balancedAllocation } from "./balanced_allocation.ts";
import { interPodAffinity } from "./inter_pod_affinity.ts";
import { nodeAffinity } from "./node_affinity.ts";
import { nodeName } from "./node_name.ts";
import { nodePorts } from "./node_ports.ts";
import { nodeResourcesFit } from "./node_resources_fit.ts";
import { nodeUnschedulable } from "./node_unschedulable.ts";
import { podTopologySpread } from "./pod_topology_spread.ts";
import { taintToleration } from "./taint_toleration.ts";
import { volumeBinding } from "./volume_binding.ts";

/** The default plugins, in upstream's order. */
export const DEFAULT_PLUGINS: readonly Plugin[] = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodePorts,
  nodeResourcesFit,
  volumeBinding,
  podTopologySpread,
  interPodAffinity,
  balancedAllocation,
] as Plugin[];
