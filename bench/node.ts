/**
 * Figures for a real node (printed, never asserted), against `kubedeno up` with its one node:
 *
 * - pod create → Running, p50/p99, for BENCH_NODE_PODS (100) busybox pods created 10 at a time;
 * - RSS of the `up` process (API server, controllers, node agent) before and with those pods running,
 *   and the pods' own processes apart;
 * - `kubectl exec -- true` round trip beside spawning a local `true`, medians of 10, same run.
 */

import { hasKubectl, startServer } from "../conformance/harness.ts";

const PODS = Number(Deno.env.get("BENCH_NODE_PODS") ?? 100);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** The summed RSS of the processes whose command line contains `marker`. */
async function rssOfProcesses(marker: string): Promise<{ count: number; mb: number }> {
  const out = await new Deno.Command("ps", { args: ["-eo", "rss=,args="], stdout: "piped" }).output();
  let count = 0;
  let kb = 0;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!line.includes(marker)) continue;
    count++;
    kb += Number(line.trim().split(/\s+/)[0]);
  }
  return { count, mb: kb / 1024 };
}

if (!hasKubectl() || !(await Deno.stat("/bin/busybox").then(() => true, () => false))) {
  console.log("bench:node needs kubectl and /bin/busybox (Debian busybox-static)");
  Deno.exit(0);
}

const server = await startServer();
try {
  const pid = Number(
    new TextDecoder().decode(
      new Deno.Command("pgrep", { args: ["-f", "--", `--data-dir ${server.dataDir}`] }).outputSync().stdout,
    ).trim().split("\n")[0],
  );
  // Wait for the node, then let the process settle.
  while (true) {
    const res = await server.api("/api/v1/nodes");
    const nodes = (await res.json()).items ?? [];
    if (
      nodes.some((n: { status?: { conditions?: Array<{ type: string; status: string }> } }) =>
        n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
      )
    ) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMb(pid);

  // Running times from a watch, creation times from the client.
  const list = await (await server.api("/api/v1/namespaces/default/pods")).json();
  const watch = await server.api(
    `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
  );
  const running = new Map<string, number>();
  const bound = new Map<string, number>();
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of watch.body!.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const event = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        const pod = event.object;
        if (pod?.spec?.nodeName && !bound.has(pod.metadata.name)) bound.set(pod.metadata.name, performance.now());
        if (pod?.status?.phase === "Running" && !running.has(pod.metadata.name)) {
          running.set(pod.metadata.name, performance.now());
        }
      }
      if (running.size >= PODS) break;
    }
  })();
  const created = new Map<string, number>();
  const marker = `kubedeno-bench-${Date.now()}`;
  let next = 0;
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < PODS) {
      const name = `p${next++}`;
      created.set(name, performance.now());
      const res = await server.api("/api/v1/namespaces/default/pods", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          metadata: { name },
          spec: {
            containers: [{
              name: "c",
              image: "busybox",
              command: ["sh", "-c", `sleep 3600; echo ${marker}`],
            }],
          },
        }),
      });
      await res.body?.cancel();
    }
  }));
  const deadline = Date.now() + 120_000;
  while (running.size < PODS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await watch.body?.cancel().catch(() => {});
  await reading.catch(() => {});
  const latencies = [...running].map(([name, t]) => t - created.get(name)!).sort((a, b) => a - b);
  const toBound = [...bound].map(([name, t]) => t - created.get(name)!).sort((a, b) => a - b);
  console.log(`  of which create → bound: p50 ${pct(toBound, 50).toFixed(0)} ms, p99 ${pct(toBound, 99).toFixed(0)} ms`);
  console.log(
    `pod create → Running, ${latencies.length} of ${PODS} pods on one node: p50 ${
      pct(latencies, 50).toFixed(0)
    } ms, ` +
      `p99 ${pct(latencies, 99).toFixed(0)} ms (goal p99 ≤ 200 ms)`,
  );
  await new Promise((r) => setTimeout(r, 2000));
  const pods = await rssOfProcesses(marker);
  console.log(
    `rss of the up process (API server, controllers, node agent): ${idleRss.toFixed(0)} MB with no pods, ` +
      `${rssMb(pid).toFixed(0)} MB with ${PODS} running; the pods' own ${pods.count} processes: ${
        pods.mb.toFixed(0)
      } MB`,
  );

  const kubectlExec: number[] = [];
  const local: number[] = [];
  for (let i = 0; i < 10; i++) {
    let t = performance.now();
    await server.kubectlOk(["exec", "p0", "--", "true"]);
    kubectlExec.push(performance.now() - t);
    t = performance.now();
    await new Deno.Command("true").output();
    local.push(performance.now() - t);
  }
  console.log(
    `kubectl exec -- true: median ${median(kubectlExec).toFixed(0)} ms; a local true: ${
      median(local).toFixed(1)
    } ms ` +
      `(kubectl's own start is most of it)`,
  );
} finally {
  await server.cleanup();
}
Deno.exit(0);
