/**
 * NodePorts: the host ports a pod binds must be free on the node.
 */

import type { Plugin } from "../interface.ts";
import type { HostPort } from "../pod_info.ts";
import { Code, newStatus } from "../status.ts";

export const NAME = "NodePorts";
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

const SKIP = { status: newStatus(Code.Skip, NAME) };
const REJECTED = newStatus(Code.Unschedulable, NAME, ERR_REASON);

export const nodePorts: Plugin<readonly HostPort[]> = {
  name: NAME,
  preFilter(ctx) {
    const ports = ctx.podInfo.hostPorts;
    return ports.length === 0 ? SKIP : { state: ports };
  },
  filter(_ctx, ports, node) {
    for (const hp of ports) if (node.portConflicts(hp)) return REJECTED;
    return null;
  },
};
