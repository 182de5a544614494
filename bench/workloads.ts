/**
 * Figures for the scheduler and controllers on simulated nodes (printed, never asserted):
 *
 * - scheduler: pods/s bound with BENCH_NODES (5,000) nodes and BENCH_PODS (10,000) pending pods,
 *   beside the ceiling of the same run: the same number of bindings posted straight to the API
 *   with no scheduling decision;
 * - a BENCH_DEPLOY_PODS (1,000) replica Deployment from create to every pod Running, with the
 *   controllers, the scheduler and 100 simulated nodes in one process;
 * - RSS of a `kubedeno up --simulated-nodes 1000` process carrying BENCH_RSS_PODS (30,000) pods.
 *
 * `deno run -A bench/workloads.ts [scheduler|deployment|rss]` runs one section.
 */

import { startTestServer, type TestServer } from "../api/test_server.ts";
import { testClient } from "../controllers/framework/test_env.ts";
import { newControllerContext, runControllers } from "../controllers/framework/mod.ts";
import { Scheduler } from "../controllers/scheduler/scheduler.ts";
import { controllerFactories } from "../controllers/all.ts";
import { NodeSimulator } from "../node/simulated/simulator.ts";
import type { Client } from "../machinery/client.ts";
import { freePort, startServer } from "../conformance/harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const NODES = Number(Deno.env.get("BENCH_NODES") ?? 5000);
const PODS = Number(Deno.env.get("BENCH_PODS") ?? 10000);
const DEPLOY_PODS = Number(Deno.env.get("BENCH_DEPLOY_PODS") ?? 1000);
const RSS_NODES = Number(Deno.env.get("BENCH_RSS_NODES") ?? 1000);
const RSS_PODS = Number(Deno.env.get("BENCH_RSS_PODS") ?? 30000);

const pendingPod = (i: number) => ({
  metadata: { name: `p-${i}`, namespace: "default", labels: { app: "bench" } },
  spec: {
    containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "100m", memory: "64Mi" } } }],
  },
});

async function parallel(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await fn(next++);
  }));
}

async function registerNodes(client: Client, count: number): Promise<void> {
  const sim = new NodeSimulator(client, { nodes: count, leaseRenewMs: 3_600_000 });
  await sim.start();
  await sim.stop();
}

async function closeServer(server: TestServer): Promise<void> {
  server.server.closeWatches();
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
}

async function benchScheduler(): Promise<void> {
  // Ceiling: bindings alone.
  {
    const server = await startTestServer();
    const client = testClient(server);
    const pods = client.resource("", "pods");
    await registerNodes(client, 100);
    await parallel(PODS, 64, (i) => pods.create("default", pendingPod(i)));
    const t = performance.now();
    await parallel(PODS, 64, (i) =>
      pods.createSubresource("default", `p-${i}`, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: `p-${i}` },
        target: { kind: "Node", name: `sim-node-${i % 100}` },
      }));
    const ceiling = PODS / ((performance.now() - t) / 1000);
    console.log(`bindings alone (ceiling): ${ceiling.toFixed(0)}/s`);
    await closeServer(server);
    (globalThis as { ceiling?: number }).ceiling = ceiling;
  }
  const server = await startTestServer();
  const client = testClient(server);
  let t = performance.now();
  await registerNodes(client, NODES);
  console.log(`${NODES} nodes registered in ${(performance.now() - t).toFixed(0)} ms`);
  const pods = client.resource("", "pods");
  t = performance.now();
  await parallel(PODS, 64, (i) => pods.create("default", pendingPod(i)));
  console.log(`${PODS} pending pods created in ${(performance.now() - t).toFixed(0)} ms`);
  const abort = new AbortController();
  const ctx = newControllerContext(client, abort.signal);
  let scheduler: Scheduler | undefined;
  await runControllers(ctx, [(c) => (scheduler = new Scheduler(c))]);
  t = performance.now();
  while (scheduler!.scheduled < PODS) {
    await new Promise((r) => setTimeout(r, 20));
    if (performance.now() - t > 120_000) break;
  }
  const seconds = (performance.now() - t) / 1000;
  const rate = scheduler!.scheduled / seconds;
  const ceiling = (globalThis as { ceiling?: number }).ceiling ?? NaN;
  console.log(
    `scheduler: ${scheduler!.scheduled} pods bound on ${NODES} nodes in ${seconds.toFixed(2)} s = ${
      rate.toFixed(0)
    } pods/s ` +
      `(${(rate / ceiling).toFixed(2)} of the bindings-alone ceiling; goal ≥ 1,000/s)`,
  );
  abort.abort();
  await ctx.events.flush();
  await closeServer(server);
}

async function benchDeployment(): Promise<void> {
  const server = await startTestServer();
  const client = testClient(server);
  const abort = new AbortController();
  const ctx = newControllerContext(client, abort.signal);
  await runControllers(ctx, [
    ...Object.values(controllerFactories({ volumesDir: Deno.makeTempDirSync() })),
    (c) => new Scheduler(c),
  ]);
  const sim = new NodeSimulator(client, { nodes: 100 });
  await sim.start();
  const t = performance.now();
  await client.resource("apps", "deployments").create("default", {
    metadata: { name: "big", namespace: "default" },
    spec: {
      replicas: DEPLOY_PODS,
      selector: { matchLabels: { app: "big" } },
      template: {
        metadata: { labels: { app: "big" } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    },
  });
  const podInformerCache = ctx.informers.informer("", "pods").cache;
  let running = 0;
  while (performance.now() - t < 60_000) {
    running = podInformerCache.list().filter((p) =>
      (p.status as { phase?: string } | undefined)?.phase === "Running" && p.metadata?.labels?.app === "big"
    ).length;
    if (running >= DEPLOY_PODS) {
      break;
    }
    await new Promise((r) =>
      setTimeout(r, 10)
    );
  }
  const ms = performance.now() - t;
  console.log(
    `deployment of ${DEPLOY_PODS}: ${running} Running after ${(ms / 1000).toFixed(2)} s (goal ≤ 2 s)`,
  );
  abort.abort();
  await sim.stop();
  await ctx.events.flush();
  await closeServer(server);
}

function rssOf(pid: number): { total: number; anon: number; file: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { total: mb("VmRSS"), anon: mb("RssAnon"), file: mb("RssFile") };
}

async function benchRss(): Promise<void> {
  const server = await startServer({ port: freePort(), args: ["--simulated-nodes", String(RSS_NODES)] });
  const pid = Number(
    new TextDecoder().decode(
      new Deno.Command("pgrep", { args: ["-f", "--", `--data-dir ${server.dataDir}`] }).outputSync().stdout,
    ).trim().split("\n")[0],
  );
  const per = 1000;
  const deployments = Math.ceil(RSS_PODS / per);
  for (let i = 0; i < deployments; i++) {
    const res = await server.api("/apis/apps/v1/namespaces/default/deployments", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        metadata: { name: `d${i}` },
        spec: {
          replicas: Math.min(per, RSS_PODS - i * per),
          selector: { matchLabels: { app: `d${i}` } },
          template: {
            metadata: { labels: { app: `d${i}` } },
            spec: { containers: [{ name: "c", image: "busybox" }] },
          },
        },
      }),
    });
    await res.body?.cancel();
  }
  const t = performance.now();
  let running = 0;
  // Counted from the Deployments' status (30 objects), not by listing 30,000 pods.
  while (performance.now() - t < 600_000) {
    const res = await server.api("/apis/apps/v1/namespaces/default/deployments");
    const body = await res.json();
    running = (body.items ?? []).reduce((n: number, d: Json) => n + (d.status?.readyReplicas ?? 0), 0);
    if (running >= RSS_PODS) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const allRunning = (performance.now() - t) / 1000;
  // Let the heap settle after the burst, then read it.
  await new Promise((r) => setTimeout(r, 30_000));
  const rss = rssOf(pid);
  console.log(
    `rss: ${rss.total.toFixed(0)} MB (anonymous ${rss.anon.toFixed(0)} MB, file-backed ${
      rss.file.toFixed(0)
    } MB, ` +
      `mostly the LMDB map) with ${RSS_NODES} nodes and ${running} ready pods ` +
      `(all ready after ${allRunning.toFixed(0)} s; goal ≤ 1 GB)`,
  );
  await server.cleanup();
}

const only = Deno.args[0];
if (!only || only === "scheduler") await benchScheduler();
if (!only || only === "deployment") await benchDeployment();
if (!only || only === "rss") await benchRss();
Deno.exit(0);
