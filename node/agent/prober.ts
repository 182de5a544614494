/**
 * Probes as kubelet runs them: exec (exit 0), httpGet (a status from 200 to 399) and tcpSocket (a
 * connection), each within timeoutSeconds. `Prober` keeps one container's startup, liveness and
 * readiness probes on their schedules (initialDelaySeconds, periodSeconds) and thresholds
 * (successThreshold, failureThreshold), and tells its owner when a result flips.
 */

// deno-lint-ignore no-explicit-any
type Json = any;

export type ProbeKind = "startup" | "liveness" | "readiness";

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, worded as kubelet's Unhealthy events are. */
  message?: string;
}

export interface ProbeTarget {
  /** The pod's IP (httpGet and tcpSocket default to it). */
  podIP: string;
  /** The container's declared ports (for named ports). */
  ports: Array<{ name?: string; containerPort: number }>;
  /** Runs a command in the container; resolves with its exit code and output. */
  exec(argv: string[], timeoutMs: number): Promise<{ code: number; output: string }>;
}

function portOf(port: unknown, target: ProbeTarget): number | undefined {
  if (typeof port === "number") return port;
  const asNumber = Number(port);
  if (Number.isInteger(asNumber) && String(port).trim() !== "") return asNumber;
  return target.ports.find((p) => p.name === port)?.containerPort;
}

/** Runs one probe once. */
export async function probeOnce(probe: Json, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, Number(probe.timeoutSeconds ?? 1)) * 1000;
  if (probe.exec) {
    const argv = (probe.exec.command ?? []) as string[];
    try {
      const { code, output } = await target.exec(argv, timeoutMs);
      if (code === 0) return { ok: true };
      return {
        ok: false,
        message: output.trim() || `command ${JSON.stringify(argv.join(" "))} exited with ${code}`,
      };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = portOf(g.port, target);
    if (port === undefined) return { ok: false, message: `unknown port ${JSON.stringify(g.port)}` };
    const scheme = String(g.scheme ?? "HTTP").toLowerCase();
    const host = g.host || target.podIP;
    const path = String(g.path ?? "/");
    const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${
      path.startsWith("/") ? path : `/${path}`
    }`;
    const headers: Record<string, string> = { "user-agent": "kube-probe/1.33", accept: "*/*" };
    for (const h of (g.httpHeaders ?? []) as Array<{ name: string; value: string }>) {
      headers[h.name.toLowerCase()] = h.value;
    }
    const client = scheme === "https" ? Deno.createHttpClient({}) : undefined;
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), client });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 400) return { ok: true };
      return { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
    } catch (err) {
      const e = err as Error;
      if (e.name === "TimeoutError") {
        return {
          ok: false,
          message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        };
      }
      return { ok: false, message: `Get "${url}": dial tcp ${host}:${port}: connect: connection refused` };
    } finally {
      client?.close();
    }
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port, target);
    if (port === undefined) {
      return { ok: false, message: `unknown port ${JSON.stringify(probe.tcpSocket.port)}` };
    }
    const host = probe.tcpSocket.host || target.podIP;
    try {
      const conn = await Promise.race([
        Deno.connect({ hostname: host, port }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("i/o timeout")), timeoutMs)),
      ]);
      conn.close();
      return { ok: true };
    } catch (err) {
      return {
        ok: false,
        message: `dial tcp ${host}:${port}: ${
          (err as Error).message.includes("timeout") ? "i/o timeout" : "connect: connection refused"
        }`,
      };
    }
  }
  if (probe.grpc) return { ok: false, message: "gRPC probes are not supported by this node" };
  return { ok: false, message: "the probe names no handler" };
}

/** One container's probes on their schedules. */
export class Prober {
  readonly #probes: Partial<Record<ProbeKind, Json>>;
  readonly #target: ProbeTarget;
  readonly #onChange: (kind: ProbeKind, result: ProbeResult) => void;
  readonly #onFailure: (kind: ProbeKind, result: ProbeResult) => void;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** The current verdict of each probe (readiness starts false, the others true until proven). */
  readonly state: Record<ProbeKind, boolean>;
  #stopped = false;

  constructor(
    probes: Partial<Record<ProbeKind, Json>>,
    target: ProbeTarget,
    onChange: (kind: ProbeKind, result: ProbeResult) => void,
    onFailure: (kind: ProbeKind, result: ProbeResult) => void = () => {},
  ) {
    this.#probes = probes;
    this.#target = target;
    this.#onChange = onChange;
    this.#onFailure = onFailure;
    this.state = { startup: !probes.startup, liveness: true, readiness: !probes.readiness };
  }

  start(): void {
    if (this.#probes.startup) this.#schedule("startup");
    else this.#afterStartup();
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #afterStartup(): void {
    if (this.#probes.liveness) this.#schedule("liveness");
    if (this.#probes.readiness) this.#schedule("readiness");
  }

  #schedule(kind: ProbeKind): void {
    const probe = this.#probes[kind];
    const period = Math.max(1, Number(probe.periodSeconds ?? 10)) * 1000;
    const success = Math.max(1, Number(probe.successThreshold ?? 1));
    const failure = Math.max(1, Number(probe.failureThreshold ?? 3));
    let successes = 0;
    let failures = 0;
    const run = async () => {
      if (this.#stopped) return;
      const result = await probeOnce(probe, this.#target);
      if (this.#stopped) return;
      if (result.ok) {
        failures = 0;
        successes++;
        if (!this.state[kind] && successes >= success) {
          this.state[kind] = true;
          this.#onChange(kind, result);
          if (kind === "startup") return this.#afterStartup();
        }
      } else {
        successes = 0;
        failures++;
        this.#onFailure(kind, result);
        // Readiness flips to false (and goes on probing); a failed startup or liveness probe
        // restarts the container, which ends this prober.
        if (failures >= failure && (this.state[kind] || kind !== "readiness")) {
          this.state[kind] = false;
          this.#onChange(kind, result);
          if (kind !== "readiness") return;
        }
      }
      this.#later(run, period);
    };
    this.#later(run, Math.max(0, Number(probe.initialDelaySeconds ?? 0)) * 1000);
  }

  #later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
}
