/**
 * Real nodes: `kubedeno node --kubeconfig F` joins a cluster; `up` starts `--nodes N` of them
 * in-process (one by default, each with its own name, root directory and port).
 */

import { Client } from "../machinery/client.ts";
import { NodeAgent } from "../node/agent/agent.ts";
import type { ServerFlags } from "./flags.ts";

const KUBELET_AGENT = "kubelet/v1.33.0 (linux/amd64) kubedeno";

/** The host name as a Node name (lower case, as kubelet makes it). */
export function defaultNodeName(): string {
  try {
    return Deno.hostname().toLowerCase();
  } catch {
    return "localhost";
  }
}

/** Starts `count` nodes named after the host (`<host>` for one, `<host>-<i>` for several). */
export async function runNodes(
  client: Client,
  flags: ServerFlags,
  count: number,
  apiServer: { host: string; port: number },
): Promise<NodeAgent[]> {
  const kubelet = new Client({ ...client.config, userAgent: KUBELET_AGENT });
  const base = flags.nodeName ?? defaultNodeName();
  const agents: NodeAgent[] = [];
  for (let i = 0; i < count; i++) {
    const name = count === 1 ? base : `${base}-${i}`;
    const agent = new NodeAgent({
      client: kubelet,
      name,
      rootDir: count === 1 && flags.rootDir ? flags.rootDir : `${flags.dataDir}/nodes/${name}`,
      port: count === 1 && flags.nodePort !== undefined ? flags.nodePort : 0,
      imageCatalog: flags.imageCatalog,
      apiServer,
      // kubelet renews every 10 s against a 40 s grace; a shorter grace gets a quarter of it.
      leaseRenewMs: Math.min(10_000, Math.floor(flags.nodeMonitorGracePeriodMs / 4)),
    });
    await agent.start();
    agents.push(agent);
  }
  return agents;
}
