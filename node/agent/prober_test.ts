import { test } from "uvu";
import * as assert from "uvu/assert";
import { probeOnce, Prober, type ProbeTarget } from "./prober.ts";

const target = (exec: ProbeTarget["exec"] = () => Promise.resolve({ code: 0, output: "" })): ProbeTarget => ({
  podIP: "127.0.0.1",
  ports: [{ name: "web", containerPort: 0 }],
  exec,
});

test("httpGet: 2xx/3xx pass, others fail with the status; named ports resolve", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => new Response("x", { status: new URL(req.url).pathname === "/ok" ? 200 : 503 }),
  );
  try {
    const t = target();
    t.ports[0].containerPort = server.addr.port;
    assert.equal(await probeOnce({ httpGet: { path: "/ok", port: "web" } }, t), { ok: true });
    assert.equal(await probeOnce({ httpGet: { path: "/bad", port: server.addr.port } }, t), {
      ok: false,
      message: "HTTP probe failed with statuscode: 503",
    });
  } finally {
    await server.shutdown();
  }
});

test("tcpSocket: a listener passes, a closed port fails", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  assert.equal(await probeOnce({ tcpSocket: { port } }, target()), { ok: true });
  listener.close();
  await accepting.catch(() => {});
  const closed = await probeOnce({ tcpSocket: { port } }, target());
  assert.is(closed.ok, false);
  assert.match(closed.message!, new RegExp(`dial tcp 127.0.0.1:${port}: connect: connection refused`));
});

test("exec: exit 0 passes; otherwise the output is the message", async () => {
  assert.equal(await probeOnce({ exec: { command: ["true"] } }, target()), { ok: true });
  const failing = target(() => Promise.resolve({ code: 1, output: "not yet\n" }));
  assert.equal(await probeOnce({ exec: { command: ["check"] } }, failing), { ok: false, message: "not yet" });
});

test("thresholds: readiness needs successThreshold passes, liveness flips after failureThreshold", async () => {
  const code = 1;
  const changes: string[] = [];
  const prober = new Prober(
    {
      readiness: { exec: { command: ["r"] }, periodSeconds: 1, successThreshold: 2 },
      liveness: { exec: { command: ["l"] }, periodSeconds: 1, failureThreshold: 2 },
    },
    target((argv) => Promise.resolve({ code: argv[0] === "r" ? 0 : code, output: "down" })),
    (kind, result) => changes.push(`${kind}=${result.ok}`),
  );
  // Seconds are the unit; a test cannot wait for them, so time is shortened by hand below.
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout =
    ((fn: () => void, ms?: number) => realSetTimeout(fn, (ms ?? 0) / 100)) as typeof setTimeout;
  try {
    prober.start();
    await new Promise((r) => realSetTimeout(r, 100));
  } finally {
    globalThis.setTimeout = realSetTimeout;
    prober.stop();
  }
  assert.equal([...changes].sort(), ["liveness=false", "readiness=true"]);
  assert.is(prober.state.readiness, true);
  assert.is(prober.state.liveness, false);
});

test.run();
