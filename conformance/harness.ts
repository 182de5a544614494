/**
 * Black-box test harness: starts a real `kubedeno up` process on a free port with its own data
 * directory, and runs real kubectl against it with a fresh HOME.
 */

import { V8_FLAGS } from "../cli/v8_flags.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** kubectl binaries: the dispatcher (picks 1.33 from /version) and a pinned 1.27. */
export const KUBECTL = {
  dispatcher: "/usr/bin/kubectl",
  v127: "/usr/lib/google-cloud-sdk/bin/kubectl.1.27",
};

/** Whether a kubectl binary is installed here; tests that need it skip without it. */
export function hasKubectl(path = KUBECTL.dispatcher): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** How many processes on this machine have `marker` in their command line. */
export async function processesWith(marker: string): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.includes(marker)).length;
}

/**
 * Polls `check` every 100 ms until it gives something truthy, and returns that; after
 * `timeoutMs` fails naming `what` and the last error `check` threw.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ServerProcess {
  port: number;
  url: string;
  dataDir: string;
  kubeconfig: string;
  token: string;
  caPem: string;
  /** A fetch client that trusts the cluster CA. */
  client: Deno.HttpClient;
  /** Calls the API with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Runs kubectl (the dispatcher unless `bin` is given) with a fresh HOME per server. */
  kubectl(
    args: string[],
    options?: { bin?: string; stdin?: string; env?: Record<string, string> },
  ): Promise<KubectlResult>;
  /** Runs kubectl and returns its stdout; fails with its stderr when it exits non-zero. */
  kubectlOk(args: string[], stdin?: string): Promise<string>;
  /** `kubectl get ARGS -o json`, parsed. */
  // deno-lint-ignore no-explicit-any
  getJson(args: string[]): Promise<any>;
  /** Stops the process gracefully (SIGTERM) and waits. */
  stop(): Promise<void>;
  /** Kills the process with SIGKILL and waits. */
  kill(): Promise<void>;
  /** Starts the process again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops and removes the data directory and HOME. */
  cleanup(): Promise<void>;
}

async function waitForKubeconfigLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    const m = /export KUBECONFIG=(\S+)/.exec(buffered);
    if (m) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* closed */ }
      })();
      return m[1];
    }
  }
  throw new Error(`The server printed no KUBECONFIG line; it printed: ${buffered}`);
}

/** Starts a server (`kubedeno up`, or `command`) in a new temporary data directory (or `dataDir`). */
export async function startServer(
  options: { dataDir?: string; port?: number; args?: string[]; command?: "up" | "apiserver" } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "kubedeno-test-" });
  const home = await Deno.makeTempDir({ prefix: "kubedeno-home-" });
  const port = options.port ?? freePort();
  let child: Deno.ChildProcess;
  let client: Deno.HttpClient | undefined;

  const server: ServerProcess = {
    port,
    url: `https://127.0.0.1:${port}`,
    dataDir,
    kubeconfig: "",
    token: "",
    caPem: "",
    client: undefined as unknown as Deno.HttpClient,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${server.token}`);
      return fetch(`${server.url}${path}`, { ...init, headers, client: server.client } as RequestInit);
    },
    async kubectl(args, opts = {}) {
      const cmd = new Deno.Command(opts.bin ?? KUBECTL.dispatcher, {
        args: ["--kubeconfig", server.kubeconfig, ...args],
        env: { HOME: home, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...opts.env },
        clearEnv: true,
        stdin: opts.stdin !== undefined ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      });
      const proc = cmd.spawn();
      if (opts.stdin !== undefined) {
        const w = proc.stdin.getWriter();
        await w.write(new TextEncoder().encode(opts.stdin));
        await w.close();
      }
      const out = await proc.output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    },
    async kubectlOk(args, stdin) {
      const r = await server.kubectl(args, { stdin });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async getJson(args) {
      return JSON.parse(await server.kubectlOk(["get", ...args, "-o", "json"]));
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    },
    async restart() {
      await launch();
    },
    async cleanup() {
      await server.stop().catch(() => {});
      client?.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };

  const launch = async () => {
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        ...V8_FLAGS,
        `${ROOT}/main.ts`,
        options.command ?? "up",
        "--data-dir",
        dataDir,
        "--port",
        String(port),
        ...(options.args ?? []),
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    server.kubeconfig = await waitForKubeconfigLine(child.stdout);
    server.token = (await Deno.readTextFile(`${dataDir}/pki/token`)).trim();
    server.caPem = await Deno.readTextFile(`${dataDir}/pki/ca.crt`);
    client?.close();
    client = Deno.createHttpClient({ caCerts: [server.caPem] });
    server.client = client;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const res = await server.api("/readyz");
        await res.body?.cancel();
        if (res.ok) break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  return server;
}
