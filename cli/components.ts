/**
 * Runs the controllers, the scheduler and simulated nodes against a client — the API server's
 * own handler in `kubedeno up`, a kubeconfig's cluster in the separate commands. Controllers and
 * scheduler each act only while holding their Lease in kube-system (`kube-controller-manager`,
 * `kube-scheduler`); a process that loses its Lease exits, as upstream's do, so two copies never
 * act at once.
 */

import { Client } from "../machinery/client.ts";
import { EventSink } from "../controllers/framework/events.ts";
import type { InformerFactory } from "../controllers/framework/informers.ts";
import { type KubeObject, newUid } from "../machinery/object_meta.ts";
import { isStatusError } from "../machinery/status.ts";
import { type ControllerContext, newControllerContext, type Runnable } from "../controllers/framework/mod.ts";
import { LeaderElector } from "../controllers/framework/leader_election.ts";
import { controllerFactories, type ControllersConfig, LOCAL_STORAGE_CLASS } from "../controllers/all.ts";
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
  config: ControllersConfig,
): Promise<ControllerContext> {
  const ctx = newControllerContext(client, signal, {
    nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriodMs,
  });
  const groups: Array<{ lease: string; runnables: Runnable[]; onLead?: () => Promise<void> }> = [];
  if (which.controllers) {
    const own = as(ctx, "kube-controller-manager");
    groups.push({
      lease: "kube-controller-manager",
      runnables: Object.values(controllerFactories(config)).map((f) => f(own)),
      onLead: () => ensureStorageClass(own.client),
    });
  }
  if (which.scheduler) {
    groups.push({ lease: "kube-scheduler", runnables: [newScheduler()(as(ctx, "kube-scheduler"))] });
  }
  await ctx.informers.start();
  const identity = `${Deno.hostname()}_${newUid()}`;
  for (const { lease, runnables, onLead } of groups) {
    const lead = (leading: AbortSignal) => {
      for (const r of runnables) r.run();
      onLead?.().catch((err) => console.error(`kubedeno: ${lease}: ${(err as Error).message}`));
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

/**
 * The context a component writes through: the shared informers, and a client whose user agent
 * names the component as upstream's binaries do, so its writes are recorded under that field
 * manager (`kube-controller-manager`, `kube-scheduler`).
 */
function as(ctx: ControllerContext, component: string): ControllerContext {
  const client = new Client({
    ...ctx.client.config,
    userAgent: `${component}/v1.33.0 (linux/amd64) kubedeno`,
  });
  return { ...ctx, client, events: new EventSink(client) };
}

/** Creates the local StorageClass (the default class) unless it exists. */
async function ensureStorageClass(client: Client): Promise<void> {
  const classes = client.resource<KubeObject>("storage.k8s.io", "storageclasses");
  try {
    await classes.create("", structuredClone(LOCAL_STORAGE_CLASS) as KubeObject);
  } catch (err) {
    if (!isStatusError(err, "AlreadyExists")) throw err;
  }
}

/**
 * Registers and runs `count` simulated nodes. They renew their Leases every 10 s as kubelets do,
 * or four times per node monitor grace period when that is shorter, so a short grace period
 * (in tests) does not make healthy nodes look silent.
 */
export async function runSimulatedNodes(
  client: Client,
  count: number,
  start = 0,
  nodeMonitorGracePeriodMs = 40_000,
  informers?: InformerFactory,
): Promise<NodeSimulator> {
  const leaseRenewMs = Math.min(10_000, Math.max(100, Math.floor(nodeMonitorGracePeriodMs / 4)));
  // It plays the kubelets: its writes are recorded under the kubelet's field manager.
  const kubelet = new Client({ ...client.config, userAgent: "kubelet/v1.33.0 (linux/amd64) kubedeno" });
  const sim = new NodeSimulator(kubelet, { nodes: count, start, leaseRenewMs, informers });
  await sim.start();
  return sim;
}
