/**
 * `deno task bench`: figures for the API server beside a bare ceiling measured in the same run.
 * Prints figures and ratios; asserts nothing.
 *
 * - creates/s and p50/p99 with 100 concurrent HTTPS clients, kubedeno vs. a bare Hono handler
 *   doing one durable LMDB transaction per request with the same bytes (the ratio is the figure);
 * - get p99; list of 1k and 10k pods; 1,000 concurrent watchers: p99 from write acknowledged to
 *   event received; idle RSS; cold start to /readyz.
 */

import { freePort, startServer } from "../conformance/harness.ts";

import { startTestServer } from "../api/test_server.ts";
import { V8_FLAGS } from "../cli/v8_flags.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CONCURRENCY = 100;
const CREATES = Number(Deno.env.get("BENCH_CREATES") ?? 5000);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function fmt(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}

async function load(
  count: number,
  concurrency: number,
  send: (i: number) => Promise<Response>,
): Promise<{ perSecond: number; p50: number; p99: number; failures: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      const res = await send(i);
      await res.arrayBuffer();
      if (res.status >= 300) failures++;
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), failures };
}

const configMap = (name: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, labels: { app: "bench", tier: "load" } },
    data: { payload: "x".repeat(400) },
  });

const pod = (name: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "bench" } },
    spec: { containers: [{ name: "c", image: "busybox", command: ["sleep", "3600"] }] },
  });

function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

console.log(
  `kubedeno bench — ${
    new Date().toISOString()
  } — ${Deno.build.target}, ${navigator.hardwareConcurrency} cores`,
);

// Cold start: process spawn until the server says it is serving (it sets /readyz ok just
// before), on a fresh data directory (certificates made) and on a restart (reused).
{
  const dataDir = await Deno.makeTempDir({ prefix: "kubedeno-bench-" });
  const port = freePort();
  const startOnce = async () => {
    const t0 = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...V8_FLAGS, `${ROOT}main.ts`, "up", "--data-dir", dataDir, "--port", String(port)],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/ready in (\d+) ms/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server ended: ${text}`);
      text += value;
    }
    const spawnToReady = performance.now() - t0;
    const inProcess = Number(/ready in (\d+) ms/.exec(text)![1]);
    return { child, reader, spawnToReady, inProcess };
  };
  const first = await startOnce();
  first.child.kill("SIGTERM");
  await first.child.status;
  await first.reader.cancel().catch(() => {});
  const again = await startOnce();
  await new Promise((r) => setTimeout(r, 1000));
  const rss = rssKb(again.child.pid);
  console.log(
    `cold start, spawn to ready: first start ${
      fmt(first.spawnToReady)
    } (in-process ${first.inProcess} ms), restart ${
      fmt(again.spawnToReady)
    } (in-process ${again.inProcess} ms) (goal ≤ 250 ms)`,
  );
  console.log(`idle RSS: ${(rss / 1024).toFixed(1)} MB (goal ≤ 80 MB)`);
  again.child.kill("SIGTERM");
  await again.child.status;
  await again.reader.cancel().catch(() => {});
  await Deno.remove(dataDir, { recursive: true });
}

// Creates: kubedeno vs the ceiling, same TLS, same bytes, same client.
const server = await startServer();
const client = server.client;
{
  const ceilingPort = freePort();
  const dbDir = await Deno.makeTempDir({ prefix: "kubedeno-ceiling-" });
  const ceiling = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}bench/ceiling_server.ts`,
      String(ceilingPort),
      `${server.dataDir}/pki/server.crt`,
      `${server.dataDir}/pki/server.key`,
      dbDir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = ceiling.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!(await reader.read()).value?.includes("ready")) { /* wait */ }
  const headers = { "content-type": "application/json", authorization: `Bearer ${server.token}` };
  // Warm both up.
  await load(
    500,
    CONCURRENCY,
    (i) =>
      fetch(
        `https://127.0.0.1:${ceilingPort}/x`,
        { method: "POST", headers, body: configMap(`w${i}`), client } as RequestInit,
      ),
  );
  await load(
    500,
    CONCURRENCY,
    (i) =>
      fetch(
        `${server.url}/api/v1/namespaces/default/configmaps`,
        { method: "POST", headers, body: configMap(`w${i}`), client } as RequestInit,
      ),
  );
  const bare = await load(
    CREATES,
    CONCURRENCY,
    (i) =>
      fetch(
        `https://127.0.0.1:${ceilingPort}/x`,
        { method: "POST", headers, body: configMap(`c${i}`), client } as RequestInit,
      ),
  );
  const ours = await load(
    CREATES,
    CONCURRENCY,
    (i) =>
      fetch(
        `${server.url}/api/v1/namespaces/default/configmaps`,
        { method: "POST", headers, body: configMap(`c${i}`), client } as RequestInit,
      ),
  );
  console.log(`creates, ${CONCURRENCY} concurrent clients, ${CREATES} each:`);
  console.log(
    `  ceiling (bare Hono + 1 durable LMDB txn): ${bare.perSecond.toFixed(0)}/s, p50 ${fmt(bare.p50)}, p99 ${
      fmt(bare.p99)
    }`,
  );
  console.log(
    `  kubedeno: ${ours.perSecond.toFixed(0)}/s, p50 ${fmt(ours.p50)}, p99 ${
      fmt(ours.p99)
    }, failures ${ours.failures}`,
  );
  console.log(`  ratio: ${(ours.perSecond / bare.perSecond).toFixed(2)} of the ceiling (goal ≥ 0.6)`);
  ceiling.kill("SIGTERM");
  await reader.cancel();
  await ceiling.status;
  await Deno.remove(dbDir, { recursive: true });
}

// Gets.
{
  const r = await load(2000, 10, (i) => server.api(`/api/v1/namespaces/default/configmaps/c${i % CREATES}`));
  console.log(
    `get, 10 concurrent: ${r.perSecond.toFixed(0)}/s, p50 ${fmt(r.p50)}, p99 ${
      fmt(r.p99)
    } (goal p99 ≤ 10 ms)`,
  );
}

// Lists of 1k and 10k pods.
{
  await server.api("/api/v1/namespaces", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "small" } }),
  }).then((r) => r.arrayBuffer());
  const post = (ns: string, name: string) =>
    server.api(`/api/v1/namespaces/${ns}/pods`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: pod(name),
    });
  await load(1000, CONCURRENCY, (i) => post("small", `p${i}`));
  await load(10000, CONCURRENCY, (i) => post("default", `p${i}`));
  for (const [ns, n] of [["small", 1000], ["default", 10000]] as const) {
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      const res = await server.api(`/api/v1/namespaces/${ns}/pods`);
      const body = await res.json();
      times.push(performance.now() - t);
      if (body.items.length !== n) console.log(`  (list returned ${body.items.length}, expected ${n})`);
    }
    times.sort((a, b) => a - b);
    console.log(
      `list ${n} pods (JSON): median ${fmt(pct(times, 50))}, best ${fmt(times[0])}${
        n === 10000 ? " (goal ≤ 100 ms)" : ""
      }`,
    );
  }
}

// 1,000 concurrent watchers: time from a write being acknowledged to each watcher seeing it.
{
  const watchers = 1000;
  const h1 = Deno.createHttpClient({ caCerts: [server.caPem], http2: false, poolMaxIdlePerHost: watchers });
  const rv =
    (await (await server.api("/api/v1/namespaces/small/configmaps")).json()).metadata.resourceVersion;
  const seen: Map<string, number>[] = [];
  const readers: ReadableStreamDefaultReader<string>[] = [];
  await Promise.all(Array.from({ length: watchers }, async (_, w) => {
    const res = await fetch(
      `${server.url}/api/v1/namespaces/small/configmaps?watch=1&resourceVersion=${rv}`,
      {
        headers: { authorization: `Bearer ${server.token}` },
        client: h1,
      } as RequestInit,
    );
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    readers.push(reader);
    const mine = new Map<string, number>();
    seen[w] = mine;
    (async () => {
      let buf = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            const ev = JSON.parse(line);
            mine.set(ev.object.metadata.name, performance.now());
          }
        }
      } catch { /* cancelled */ }
    })();
  }));
  const lags: number[] = [];
  const fromSend: number[] = [];
  for (let k = 0; k < 20; k++) {
    const name = `watched-${k}`;
    const sent = performance.now();
    const res = await server.api("/api/v1/namespaces/small/configmaps", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: configMap(name),
    });
    await res.arrayBuffer();
    const acked = performance.now();
    const deadline = acked + 10_000;
    while (seen.some((m) => !m.has(name)) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    for (const m of seen) {
      if (!m.has(name)) continue;
      lags.push(Math.max(0, m.get(name)! - acked));
      fromSend.push(m.get(name)! - sent);
    }
  }
  fromSend.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  console.log(
    `watch, ${watchers} watchers × 20 writes: ack→event p50 ${fmt(pct(lags, 50))}, p99 ${
      fmt(pct(lags, 99))
    } (goal p99 ≤ 5 ms; 0 = the event arrived before the write's answer), ${lags.length} deliveries`,
  );
  console.log(
    `  from sending the write to the event at all ${watchers} watchers: p50 ${fmt(pct(fromSend, 50))}, p99 ${
      fmt(pct(fromSend, 99))
    }`,
  );
  for (const r of readers) await r.cancel().catch(() => {});
  h1.close();
}

// Writes to one Deployment of realistic size: update, patches and apply side by side.
{
  const container = (n: number, image: string) => ({
    name: `c${n}`,
    image,
    args: ["--port", String(8000 + n), "--verbose"],
    env: Array.from({ length: 12 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${n}-${i}` })),
    ports: [{ name: `http${n}`, containerPort: 8000 + n }, { name: `metrics${n}`, containerPort: 9000 + n }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    readinessProbe: { httpGet: { path: "/ready", port: 8000 + n }, periodSeconds: 5 },
    volumeMounts: [{ name: "cache", mountPath: "/cache" }, { name: "config", mountPath: "/etc/app" }],
  });
  const deployment = (image: string) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "bench", labels: { app: "bench", tier: "web" }, annotations: { team: "platform" } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "bench" } },
      template: {
        metadata: { labels: { app: "bench", tier: "web" } },
        spec: {
          containers: [0, 1, 2].map((n) => container(n, image)),
          volumes: [{ name: "cache", emptyDir: {} }, { name: "config", configMap: { name: "bench-config" } }],
        },
      },
    },
  });
  // In-process (the handler called directly over a durable LMDB store): the figure is the
  // server's own work per write, without a client's transport in the way.
  const inProcess = await startTestServer();
  const path = "/apis/apps/v1/namespaces/default/deployments/bench";
  const created = await inProcess.call(
    "POST",
    "/apis/apps/v1/namespaces/default/deployments?fieldManager=bench",
    deployment("app:0"),
  );
  await created.arrayBuffer();
  const size = JSON.stringify(deployment("app:0")).length;
  const N = 300;
  const image = (i: number) => `app:${i + 1}`;
  const send =
    (contentType: string, body: (i: number) => string, method = "PATCH", query = "") => (i: number) =>
      inProcess.call(method, `${path}${query}`, body(i), { "content-type": contentType });
  const kinds: [string, (i: number) => Promise<Response>][] = [
    ["update (PUT)", send("application/json", (i) => JSON.stringify(deployment(image(i))), "PUT")],
    [
      "JSON merge patch",
      send(
        "application/merge-patch+json",
        (i) => JSON.stringify({ metadata: { annotations: { rev: String(i) } } }),
      ),
    ],
    [
      "strategic merge patch",
      send(
        "application/strategic-merge-patch+json",
        (i) =>
          JSON.stringify({ spec: { template: { spec: { containers: [{ name: "c1", image: image(i) }] } } } }),
      ),
    ],
    [
      "server-side apply",
      send(
        "application/apply-patch+yaml",
        (i) => JSON.stringify(deployment(image(i))),
        "PATCH",
        "?fieldManager=bench&force=true",
      ),
    ],
  ];
  console.log(`writes to one Deployment (${size} bytes as sent), ${N} sequential each, in-process:`);
  let update = 0;
  for (const [name, fn] of kinds) {
    const r = await load(N, 1, fn);
    if (!update) update = r.p50;
    console.log(
      `  ${name}: p50 ${fmt(r.p50)}, p99 ${fmt(r.p99)}, failures ${r.failures}, p50 ${
        (r.p50 / update).toFixed(2)
      }× update`,
    );
  }
  console.log("  (goal: apply ≤ 3× update; in-process, durable writes)");
  await inProcess.close();
}

await server.cleanup();
