/**
 * Runs the controllers, the scheduler and simulated nodes against a client — the API server's
 * own handler in `kubedeno up`, a kubeconfig's cluster in the separate commands. Controllers and
 * scheduler each act only while holding their Lease in kube-system (`kube-controller-manager`,
 * `kube-scheduler`); a process that loses its Lease exits, as upstream's do, so two copies never
 * act at once.
 */

import type { Client } from "../machinery/client.ts";
import { newUid } from "../machinery/object_meta.ts";
import { type ControllerContext, newControllerContext, type Runnable } from "../controllers/framework/mod.ts";
import { LeaderElector } from "../controllers/framework/leader_election.ts";
import { CONTROLLERS } from "../controllers/all.ts";
import { newScheduler } from "../controllers/scheduler/scheduler.ts";
import { NodeSimulator } from "../node/simulated/simulator.ts";
import type { ServerFlags } from "./flags.ts";

export interface Components {
  controllers: boolean;
  scheduler: boolean;
}

/** Makes the components (sharing one set of informers), starts the informers, and runs each group once elected. */
export async function runComponents(
  client: Client,
  flags: ServerFlags,
  which: Components,
  signal: AbortSignal,
): Promise<ControllerContext> {
  const ctx = newControllerContext(client, signal, {
    nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriodMs,
  });
  const groups: Array<{ lease: string; runnables: Runnable[] }> = [];
  if (which.controllers) {
    groups.push({
      lease: "kube-controller-manager",
      runnables: Object.values(CONTROLLERS).map((f) => f(ctx)),
    });
  }
  if (which.scheduler) groups.push({ lease: "kube-scheduler", runnables: [newScheduler()(ctx)] });
  await ctx.informers.start();
  const identity = `${Deno.hostname()}_${newUid()}`;
  for (const { lease, runnables } of groups) {
    const lead = (leading: AbortSignal) => {
      for (const r of runnables) r.run();
      leading.addEventListener("abort", () => {
        for (const r of runnables) r.stop();
        if (!signal.aborted) {
          console.error(`kubedeno: lost the ${lease} lease; exiting`);
          Deno.exit(1);
        }
      }, { once: true });
    };
    if (!flags.leaderElect) {
      lead(signal);
      continue;
    }
    new LeaderElector(client, { name: lease, identity, signal }).run(lead).catch((err) => {
      console.error(`kubedeno: leader election for ${lease}: ${(err as Error).message}`);
    });
  }
  signal.addEventListener("abort", () => ctx.informers.stop(), { once: true });
  return ctx;
}

/** Registers and runs `count` simulated nodes. */
export async function runSimulatedNodes(client: Client, count: number, start = 0): Promise<NodeSimulator> {
  const sim = new NodeSimulator(client, { nodes: count, start });
  await sim.start();
  return sim;
}
