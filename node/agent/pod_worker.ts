/**
 * One pod on a real node, as kubelet's pod worker runs it: init containers in order, then the app
 * containers; restarts by restartPolicy with CrashLoopBackOff (10 s doubling to 5 min, reset after
 * 10 min of running); deletion by SIGTERM, then SIGKILL after the grace period, then the pod object
 * removed. `sync()` is level-triggered: it looks at the pod and the containers, acts, and reports
 * the status when it changed.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import { rfc3339 } from "../../machinery/object_meta.ts";
import type { ImageCatalog } from "../runtime/images.ts";
import { ImagePullError, type ResolvedImage } from "../runtime/images.ts";
import type { ContainerExit, PodRuntime, RunningContainer } from "../runtime/runtime.ts";
import type { EventRecorder } from "../../controllers/framework/events.ts";
import { type ProbeKind, probeOnce, Prober, type ProbeResult, type ProbeTarget } from "./prober.ts";
import type { PodNetwork, PodSandbox } from "./network.ts";
import { containerMounts, mountPrefix, prepareVolumes, releaseVolumes, VolumeError } from "./volumes.ts";
import { StartError } from "../runtime/runtime.ts";

// deno-lint-ignore no-explicit-any
type Json = any;
type Pod = KubeObject & { spec?: Json; status?: Json };

/** Timings a test may shorten. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Running this long without exiting resets the back-off. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

/** What a pod worker needs from its agent. */
export interface PodContext {
  runtime: PodRuntime;
  images: ImageCatalog;
  /** Where pod directories and logs go. */
  podsDir: string;
  hostIP: string;
  /** Makes and removes the pods' sandboxes (network namespaces). */
  network: PodNetwork;
  backoff: Backoff;
  /** The environment every container gets (KUBERNETES_SERVICE_HOST/PORT). */
  clusterEnv: Record<string, string>;
  /** Values for env valueFrom configMapKeyRef / secretKeyRef. */
  lookup(
    kind: "configmaps" | "secrets" | "persistentvolumeclaims" | "persistentvolumes",
    namespace: string,
    name: string,
  ): Promise<Json | undefined>;
  patchStatus(pod: Pod, status: Json): Promise<void>;
  /** Removes the pod object once everything has stopped. */
  remove(pod: Pod): Promise<void>;
  /** Asks for another sync of this pod (after an exit, or later). */
  wake(afterMs?: number): void;
  /** Events about the pod, as kubelet on this node reports them. */
  events: EventRecorder;
}

type State =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: Terminated };

interface Terminated {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

interface ContainerRecord {
  name: string;
  init: boolean;
  restartCount: number;
  running?: RunningContainer;
  state: State;
  lastTerminated?: Terminated;
  containerID?: string;
  imageID?: string;
  /** When the next start may happen (back-off). */
  notBefore: number;
  backoffMs: number;
  /** The back-off being waited out now (for the CrashLoopBackOff message). */
  waitMs: number;
  startedAtMs?: number;
  /** Times the image could not be had in a row. */
  pullFailures: number;
  /** Whether the current back-off wait has been reported. */
  backoffReported?: boolean;
  /** The running container's probes, if it has any. */
  prober?: Prober;
  /** How the running container was started: what `kubectl exec` runs within. */
  exec?: { cwd: string; env: Record<string, string>; image: ResolvedImage; prefix: string[] };
}

/** How often a running pod's configMap, secret and downward API volumes are brought up to date. */
const REFRESH_MS = 5_000;

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3 };

export class PodWorker {
  readonly #ctx: PodContext;
  #pod: Pod;
  readonly #containers = new Map<string, ContainerRecord>();
  #lastStatus = "";
  /** The pod's network, once made (before its first container starts). */
  #sandbox?: PodSandbox;
  /** The host directory of each volume, once made. */
  #volumes?: Map<string, string>;
  #mountFailureReported = false;
  #startTime?: string;
  #killDeadline?: number;
  #done = false;

  constructor(ctx: PodContext, pod: Pod) {
    this.#ctx = ctx;
    this.#pod = pod;
    this.#startTime = pod.status?.startTime;
  }

  get pod(): Pod {
    return this.#pod;
  }

  get #podIP(): string {
    return this.#sandbox?.ip ?? this.#ctx.hostIP;
  }

  /** The pod's address (its own, or the node's on the host's network). */
  get podIP(): string {
    return this.#podIP;
  }

  get podDir(): string {
    const m = this.#pod.metadata!;
    return `${this.#ctx.podsDir}/${m.namespace}_${m.name}_${m.uid}`;
  }

  /** The log file of a container's current (or `previous`) run, if it has one. */
  logPath(container: string, previous = false): string | undefined {
    const c = this.#containers.get(container);
    if (!c) return undefined;
    const run = previous ? c.restartCount - 1 : c.restartCount;
    if (run < 0 || (!previous && !c.containerID)) return undefined;
    return `${this.podDir}/${container}/${run}.log`;
  }

  /** What an exec in the container runs within, while it runs. */
  execTarget(
    container: string,
  ): { cwd: string; env: Record<string, string>; image: ResolvedImage; prefix: string[] } | undefined {
    const c = this.#containers.get(container);
    return c?.running ? c.exec : undefined;
  }

  /** The running container and how its spec asks attach to behave. */
  attachTarget(
    container: string,
  ): { running: RunningContainer; stdin: boolean; stdinOnce: boolean; tty: boolean } | undefined {
    const c = this.#containers.get(container);
    if (!c?.running) return undefined;
    const spec = [...(this.#pod.spec?.containers ?? []), ...(this.#pod.spec?.initContainers ?? [])]
      .find((s: Json) => s.name === container) ?? {};
    return { running: c.running, stdin: !!spec.stdin, stdinOnce: !!spec.stdinOnce, tty: !!spec.tty };
  }

  /** Whether the container is running now (a follow keeps reading while it is). */
  isRunning(container: string): boolean {
    return !!this.#containers.get(container)?.running;
  }

  update(pod: Pod): void {
    this.#pod = pod;
  }

  /** The pod object is gone: stop everything at once. */
  async kill(): Promise<void> {
    this.#done = true;
    for (const c of this.#containers.values()) {
      c.prober?.stop();
      c.running?.kill("SIGKILL");
    }
    await this.#releaseSandbox();
  }

  async #releaseSandbox(): Promise<void> {
    if (this.#volumes) {
      this.#volumes = undefined;
      await releaseVolumes(this.#pod, `${this.podDir}/volumes`);
    }
    if (!this.#sandbox) return;
    this.#sandbox = undefined;
    await this.#ctx.network.tearDown(this.#pod.metadata!.uid!).catch((err) =>
      console.error(`kubedeno: tearing down the network of ${this.#pod.metadata?.name}: ${err.message}`)
    );
  }

  async sync(): Promise<void> {
    if (this.#done) return;
    const pod = this.#pod;
    if (pod.metadata?.deletionTimestamp) return await this.#terminate();
    const policy = pod.spec?.restartPolicy ?? "Always";
    const now = Date.now();
    this.#startTime ??= rfc3339();
    // Init containers, in order: each must succeed before the next starts.
    let initialized = true;
    let failedInit = false;
    for (const spec of (pod.spec?.initContainers ?? []) as Json[]) {
      const c = this.#record(spec.name, true);
      if (c.running) {
        initialized = false;
        break;
      }
      const t = "terminated" in c.state ? c.state.terminated : undefined;
      if (t && t.exitCode === 0) continue;
      initialized = false;
      if (t && policy === "Never") {
        failedInit = true;
        break;
      }
      await this.#startWhenDue(c, spec, now);
      break;
    }
    if (initialized) {
      for (const spec of (pod.spec?.containers ?? []) as Json[]) {
        const c = this.#record(spec.name, false);
        if (c.running) continue;
        const t = "terminated" in c.state ? c.state.terminated : undefined;
        const restart = !t || policy === "Always" || (policy === "OnFailure" && t.exitCode !== 0);
        if (restart) await this.#startWhenDue(c, spec, now);
      }
    }
    await this.#refreshVolumes();
    const phase = await this.#report(initialized, failedInit);
    // A pod that has finished keeps its object and logs but no longer needs its network (as
    // kubelet stops a finished pod's sandbox).
    if (
      (phase === "Succeeded" || phase === "Failed") && ![...this.#containers.values()].some((c) => c.running)
    ) {
      await this.#releaseSandbox();
    }
  }

  #record(name: string, init: boolean): ContainerRecord {
    let c = this.#containers.get(name);
    if (!c) {
      c = {
        name,
        init,
        restartCount: 0,
        state: { waiting: { reason: "ContainerCreating" } },
        notBefore: 0,
        backoffMs: 0,
        waitMs: 0,
        pullFailures: 0,
      };
      this.#containers.set(name, c);
    }
    return c;
  }

  /** Starts the container unless its back-off has not run out (then asks to be woken). */
  async #startWhenDue(c: ContainerRecord, spec: Json, now: number): Promise<void> {
    if (now < c.notBefore) {
      if (!c.backoffReported) {
        c.backoffReported = true;
        const m = this.#pod.metadata!;
        this.#event(
          "Warning",
          "BackOff",
          `Back-off restarting failed container ${c.name} in pod ${m.name}_${m.namespace}(${m.uid})`,
        );
      }
      this.#ctx.wake(c.notBefore - now);
      return;
    }
    c.backoffReported = false;
    let image;
    try {
      image = await this.#ctx.images.resolve(String(spec.image ?? ""));
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      c.pullFailures++;
      const delay = this.#nextBackoff(c);
      if (c.pullFailures === 1) {
        this.#event("Warning", "Failed", `Failed to pull image "${spec.image}": ${err.message}`);
        this.#event("Warning", "Failed", "Error: ErrImagePull");
      } else {
        this.#event("Normal", "BackOff", `Back-off pulling image "${spec.image}"`);
        this.#event("Warning", "Failed", "Error: ImagePullBackOff");
      }
      c.state = {
        waiting: {
          reason: c.pullFailures > 1 ? "ImagePullBackOff" : "ErrImagePull",
          message: c.pullFailures > 1
            ? `Back-off pulling image "${spec.image}": ${err.message}`
            : err.message,
        },
      };
      this.#ctx.wake(delay);
      return;
    }
    c.pullFailures = 0;
    c.imageID = image.imageID;
    this.#sandbox ??= await this.#ctx.network.setUp(this.#pod.metadata!.uid!, !!this.#pod.spec?.hostNetwork);
    if (!this.#volumes) {
      try {
        this.#volumes = await prepareVolumes(this.#pod, this.#volumeContext(), true);
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        const volume = this.#failedVolume(err.message);
        if (!this.#mountFailureReported) {
          this.#mountFailureReported = true;
          this.#event(
            "Warning",
            "FailedMount",
            `MountVolume.SetUp failed for volume "${volume}" : ${err.message}`,
          );
        }
        this.#ctx.wake(2000);
        return;
      }
    }
    this.#event("Normal", "Pulled", `Container image "${spec.image}" already present on machine`);
    if (c.containerID) {
      // A restart: what ran before becomes lastState.
      if ("terminated" in c.state) c.lastTerminated = c.state.terminated;
      c.restartCount++;
    }
    try {
      const env = await this.#env(spec, image.path);
      const running = await this.#ctx.runtime.start({
        podDir: this.podDir,
        name: c.name,
        image,
        command: spec.command,
        args: spec.args,
        env,
        logPath: `${this.podDir}/${c.name}/${c.restartCount}.log`,
        stdin: !!spec.stdin,
        tty: !!spec.tty,
        prefix: [
          ...this.#sandbox.prefix,
          ...mountPrefix(
            containerMounts(spec, this.#volumes),
            // As kubelet: the pod's name (or spec.hostname), cut to 63 characters.
            this.#pod.spec?.hostNetwork
              ? Deno.hostname()
              : String(this.#pod.spec?.hostname ?? this.#pod.metadata!.name!).slice(0, 63),
          ),
        ],
        podUid: this.#pod.metadata?.uid,
        resources: spec.resources,
      });
      c.running = running;
      // exec joins the container's own mount and network namespaces (root), else the pod's network.
      c.exec = {
        cwd: `${this.podDir}/${c.name}`,
        env,
        image,
        prefix: Deno.uid() === 0
          ? ["/usr/bin/nsenter", "-t", String(running.pid), "-m", "-n", "-u", `--wd=${this.podDir}/${c.name}`]
          : this.#sandbox.prefix,
      };
      c.containerID = running.containerID;
      c.startedAtMs = running.startedAt.getTime();
      c.state = { running: { startedAt: rfc3339(running.startedAt.getTime()) } };
      running.exited.then((exit) => this.#exited(c, running, exit));
      this.#startProbes(c, spec, running);
      this.#event("Normal", "Created", `Created container: ${c.name}`);
      this.#event("Normal", "Started", `Started container ${c.name}`);
      const postStart = spec.lifecycle?.postStart;
      if (postStart) {
        this.#runHook(postStart, c, spec, 30_000).then((result) => {
          if (result.ok || c.running !== running) return;
          this.#event(
            "Warning",
            "FailedPostStartHook",
            `PostStartHook failed${result.message ? `: ${result.message}` : ""}`,
          );
          running.kill("SIGTERM");
        });
      }
    } catch (err) {
      if (!(err instanceof StartError)) throw err;
      this.#event("Warning", "Failed", `Error: ${err.message}`);
      c.containerID ??= `process://failed-${c.name}`;
      c.state = {
        terminated: {
          exitCode: err.exitCode,
          reason: err.reason,
          message: err.message,
          finishedAt: rfc3339(),
          containerID: c.containerID,
        },
      };
      c.waitMs = this.#nextBackoff(c);
      c.notBefore = Date.now() + c.waitMs;
      this.#ctx.wake(0);
    }
  }

  #event(type: "Normal" | "Warning", reason: string, message: string): void {
    this.#ctx.events.event(this.#pod as never, type, reason, message);
  }

  #volumeContext() {
    const pod = this.#pod;
    return {
      dir: `${this.podDir}/volumes`,
      lookup: this.#ctx.lookup,
      field: (path: string): string | undefined => {
        const meta = pod.metadata ?? {};
        const pairs = (m: Record<string, string> | undefined) =>
          Object.entries(m ?? {}).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n");
        switch (path) {
          case "metadata.name":
            return meta.name;
          case "metadata.namespace":
            return meta.namespace;
          case "metadata.uid":
            return meta.uid;
          case "metadata.labels":
            return pairs(meta.labels);
          case "metadata.annotations":
            return pairs(meta.annotations);
          case "spec.nodeName":
            return pod.spec?.nodeName;
          case "spec.serviceAccountName":
            return pod.spec?.serviceAccountName;
          case "status.podIP":
            return this.#podIP;
          case "status.hostIP":
            return this.#ctx.hostIP;
        }
        const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
        if (label) return meta.labels?.[label[1]];
        const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
        if (annotation) return meta.annotations?.[annotation[1]];
        return undefined;
      },
    };
  }

  /** The volume a setup error is about (its source's name appears in the message). */
  #failedVolume(message: string): string {
    for (const v of (this.#pod.spec?.volumes ?? []) as Json[]) {
      const ref = v.configMap?.name ?? v.secret?.secretName ?? v.persistentVolumeClaim?.claimName;
      if (ref && message.includes(`"${ref}"`)) return v.name;
    }
    return (this.#pod.spec?.volumes?.[0]?.name as string) ?? "";
  }

  /** Brings configMap, secret, downwardAPI and projected volumes up to date (every sync). */
  async #refreshVolumes(): Promise<void> {
    if (!this.#volumes) return;
    const refreshable = ((this.#pod.spec?.volumes ?? []) as Json[]).some((v) =>
      v.configMap || v.secret || v.downwardAPI || v.projected
    );
    if (!refreshable || ![...this.#containers.values()].some((c) => c.running)) return;
    await prepareVolumes(this.#pod, this.#volumeContext(), false).catch(() => {});
    this.#ctx.wake(REFRESH_MS);
  }

  /** The back-off before the next try: 10 s, doubling to 5 min. */
  #nextBackoff(c: ContainerRecord): number {
    const { initialMs, maxMs } = this.#ctx.backoff;
    c.backoffMs = c.backoffMs ? Math.min(maxMs, c.backoffMs * 2) : initialMs;
    return c.backoffMs;
  }

  /** Starts the container's probes; their verdicts drive ready/started and liveness restarts. */
  #startProbes(c: ContainerRecord, spec: Json, running: RunningContainer): void {
    const probes: Partial<Record<ProbeKind, Json>> = {};
    if (spec.startupProbe) probes.startup = spec.startupProbe;
    if (spec.livenessProbe) probes.liveness = spec.livenessProbe;
    if (spec.readinessProbe) probes.readiness = spec.readinessProbe;
    if (Object.keys(probes).length === 0) return;
    const title = (kind: ProbeKind) => kind.charAt(0).toUpperCase() + kind.slice(1);
    const prober = new Prober(probes, this.#probeTarget(c, spec), (kind, result: ProbeResult) => {
      if (c.running !== running) return;
      if (!result.ok && kind !== "readiness") {
        this.#event(
          "Normal",
          "Killing",
          `Container ${c.name} failed ${kind} probe, will be restarted`,
        );
        const grace = Number(this.#pod.spec?.terminationGracePeriodSeconds ?? 30);
        running.kill("SIGTERM");
        setTimeout(() => {
          if (c.running === running) running.kill("SIGKILL");
        }, Math.max(0, grace) * 1000);
      }
      this.#ctx.wake(0);
    }, (kind, result) => {
      if (c.running === running) {
        this.#event("Warning", "Unhealthy", `${title(kind)} probe failed: ${result.message ?? ""}`);
      }
    });
    c.prober = prober;
    prober.start();
  }

  /** How probes and lifecycle hooks reach a running container. */
  #probeTarget(c: ContainerRecord, spec: Json): ProbeTarget {
    const exec = c.exec!;
    return {
      podIP: this.#podIP,
      ports: (spec.ports ?? []) as Array<{ name?: string; containerPort: number }>,
      exec: async (argv, timeoutMs) => {
        const child = await this.#ctx.runtime.exec({ ...exec, argv, tty: false });
        child.stdin.close().catch(() => {});
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // gone
          }
        }, timeoutMs);
        const [out, err, status] = await Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
          child.status,
        ]);
        clearTimeout(timer);
        if (status.signal === "SIGKILL") throw new Error(`command timed out after ${timeoutMs / 1000}s`);
        return { code: status.code, output: out + err };
      },
    };
  }

  /** Runs a lifecycle hook (exec, httpGet or sleep) within `timeoutMs`. */
  async #runHook(handler: Json, c: ContainerRecord, spec: Json, timeoutMs: number): Promise<ProbeResult> {
    if (handler.sleep) {
      await new Promise((r) => setTimeout(r, Math.min(timeoutMs, Number(handler.sleep.seconds ?? 0) * 1000)));
      return { ok: true };
    }
    return await probeOnce(
      { ...handler, timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) },
      this.#probeTarget(c, spec),
    );
  }

  /** Ready: running, started, and its readiness probe (if any) passing. */
  #ready(c: ContainerRecord): boolean {
    return !!c.running && (!c.prober || (c.prober.state.startup && c.prober.state.readiness));
  }

  #exited(c: ContainerRecord, running: RunningContainer, exit: ContainerExit): void {
    if (c.running !== running) return;
    c.running = undefined;
    c.prober?.stop();
    c.prober = undefined;
    const signal = exit.signal ? SIGNALS[exit.signal] : undefined;
    const exitCode = signal !== undefined ? 128 + signal : exit.exitCode;
    c.state = {
      terminated: {
        exitCode,
        reason: exit.oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error",
        startedAt: rfc3339(running.startedAt.getTime()),
        finishedAt: rfc3339(exit.finishedAt.getTime()),
        containerID: running.containerID,
      },
    };
    const ranMs = exit.finishedAt.getTime() - (c.startedAtMs ?? exit.finishedAt.getTime());
    if (ranMs >= this.#ctx.backoff.resetAfterMs) c.backoffMs = 0;
    // As kubelet: the first restart comes at once; each later one waits the back-off (10 s,
    // then doubling up to 5 min), shown as CrashLoopBackOff meanwhile.
    if (c.backoffMs === 0) {
      c.backoffMs = this.#ctx.backoff.initialMs;
      c.notBefore = 0;
    } else {
      c.notBefore = Date.now() + c.backoffMs;
      c.waitMs = c.backoffMs;
      c.backoffMs = Math.min(this.#ctx.backoff.maxMs, c.backoffMs * 2);
    }
    this.#ctx.wake(0);
  }

  /** The container's environment: cluster variables, then its env in order ($(VAR) expanded). */
  async #env(spec: Json, path: string): Promise<Record<string, string>> {
    const pod = this.#pod;
    const env: Record<string, string> = {
      PATH: path,
      HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? "",
      ...this.#ctx.clusterEnv,
    };
    const ns = pod.metadata?.namespace ?? "default";
    for (const from of (spec.envFrom ?? []) as Json[]) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref?.name) continue;
      const kind = from.configMapRef ? "configmaps" : "secrets";
      const source = await this.#ctx.lookup(kind, ns, ref.name);
      if (!source) {
        if (ref.optional) continue;
        throw new StartError(
          `${kind === "configmaps" ? "configmap" : "secret"} "${ref.name}" not found`,
          "CreateContainerConfigError",
          0,
        );
      }
      for (const [k, v] of Object.entries(decodedData(kind, source))) env[`${from.prefix ?? ""}${k}`] = v;
    }
    for (const e of (spec.env ?? []) as Json[]) {
      if (e.valueFrom) {
        const value = await this.#valueFrom(e.valueFrom, spec, ns);
        if (value !== undefined) env[e.name] = value;
      } else env[e.name] = expand(String(e.value ?? ""), env);
    }
    return env;
  }

  async #valueFrom(from: Json, spec: Json, ns: string): Promise<string | undefined> {
    const pod = this.#pod;
    if (from.fieldRef) {
      const path = String(from.fieldRef.fieldPath);
      const meta = pod.metadata ?? {};
      const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
      const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
      if (annotation) return meta.annotations?.[annotation[1]] ?? "";
      if (label) return meta.labels?.[label[1]] ?? "";
      const fields: Record<string, string | undefined> = {
        "metadata.name": meta.name,
        "metadata.namespace": meta.namespace,
        "metadata.uid": meta.uid,
        "spec.nodeName": pod.spec?.nodeName,
        "spec.serviceAccountName": pod.spec?.serviceAccountName,
        "status.hostIP": this.#ctx.hostIP,
        "status.hostIPs": this.#ctx.hostIP,
        "status.podIP": this.#podIP,
        "status.podIPs": this.#podIP,
      };
      return fields[path] ?? "";
    }
    if (from.resourceFieldRef) {
      const [kind, resource] = String(from.resourceFieldRef.resource).split(".");
      const value = spec.resources?.[kind]?.[resource];
      if (value !== undefined) return String(value);
      if (resource === "cpu") return String(navigator.hardwareConcurrency || 1);
      return String(Deno.systemMemoryInfo().total);
    }
    const ref = from.configMapKeyRef ?? from.secretKeyRef;
    if (ref) {
      const kind = from.configMapKeyRef ? "configmaps" : "secrets";
      const source = await this.#ctx.lookup(kind, ns, ref.name);
      const value = source ? decodedData(kind, source)[ref.key] : undefined;
      if (value === undefined && !ref.optional) {
        const what = kind === "configmaps" ? "configmap" : "secret";
        throw new StartError(
          source
            ? `couldn't find key ${ref.key} in ${
              what.charAt(0).toUpperCase() + what.slice(1)
            } ${ns}/${ref.name}`
            : `${what} "${ref.name}" not found`,
          "CreateContainerConfigError",
          0,
        );
      }
      return value;
    }
    return undefined;
  }

  /** Deletion: SIGTERM everything, SIGKILL after the grace period, then remove the pod object. */
  async #terminate(): Promise<void> {
    const pod = this.#pod;
    const running = [...this.#containers.values()].filter((c) => c.running);
    if (this.#killDeadline === undefined) {
      const grace = Number(
        pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
      );
      this.#killDeadline = Date.now() + Math.max(0, grace) * 1000;
      for (const c of running) {
        c.prober?.stop();
        this.#event("Normal", "Killing", `Stopping container ${c.name}`);
        const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]
          .find((x: Json) => x.name === c.name) ?? {};
        const target = c.running!;
        const preStop = spec.lifecycle?.preStop;
        if (preStop && grace > 0) {
          // The preStop hook runs first, within the grace period; then SIGTERM.
          this.#runHook(preStop, c, spec, grace * 1000).then((result) => {
            if (!result.ok) {
              this.#event(
                "Warning",
                "FailedPreStopHook",
                `PreStopHook failed${result.message ? `: ${result.message}` : ""}`,
              );
            }
            target.kill("SIGTERM");
          });
        } else target.kill(grace > 0 ? "SIGTERM" : "SIGKILL");
      }
    } else if (Date.now() >= this.#killDeadline) {
      for (const c of running) c.running!.kill("SIGKILL");
    }
    if (running.length) {
      this.#ctx.wake(Math.max(100, Math.min(1000, this.#killDeadline - Date.now())));
      return;
    }
    for (const c of this.#containers.values()) {
      if ("waiting" in c.state) {
        c.state = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", finishedAt: rfc3339() } };
      }
    }
    await this.#report(true, false);
    this.#done = true;
    await this.#releaseSandbox();
    await this.#ctx.remove(pod);
  }

  /** Builds the pod's status and sends it when it differs from what was sent last. */
  async #report(initialized: boolean, failedInit: boolean): Promise<string> {
    const pod = this.#pod;
    const policy = pod.spec?.restartPolicy ?? "Always";
    const apps = ((pod.spec?.containers ?? []) as Json[]).map((s) => this.#record(s.name, false));
    const inits = ((pod.spec?.initContainers ?? []) as Json[]).map((s) => this.#record(s.name, true));
    const terminated = (c: ContainerRecord) => "terminated" in c.state ? c.state.terminated : undefined;
    const final = (c: ContainerRecord) => {
      const t = terminated(c);
      return !!t && (policy === "Never" || (policy === "OnFailure" && t.exitCode === 0));
    };
    let phase = "Pending";
    if (failedInit) phase = "Failed";
    else if (initialized && apps.length) {
      if (apps.every(final)) {
        phase = apps.every((c) => terminated(c)!.exitCode === 0) ? "Succeeded" : "Failed";
      } else if (apps.some((c) => c.running || c.containerID)) phase = "Running";
    }
    if (pod.metadata?.deletionTimestamp && phase === "Running") {
      phase = apps.every((c) => terminated(c)?.exitCode === 0) ? "Succeeded" : "Failed";
    }
    const allReady = initialized && apps.length > 0 && apps.every((c) => this.#ready(c));
    const old = pod.status ?? {};
    const now = rfc3339();
    const done = phase === "Succeeded" || phase === "Failed";
    const condition = (type: string, status: boolean, reason?: string, message?: string) => {
      const before = ((old.conditions ?? []) as Json[]).find((c) => c.type === type);
      const value = status ? "True" : "False";
      const c: Json = {
        type,
        status: value,
        lastProbeTime: null,
        lastTransitionTime: before && before.status === value ? before.lastTransitionTime : now,
      };
      if (reason) c.reason = reason;
      if (message) c.message = message;
      return c;
    };
    const notReady = apps.filter((c) => !this.#ready(c)).map((c) => c.name);
    const notReadyMessage = notReady.length
      ? `containers with unready status: [${notReady.join(" ")}]`
      : undefined;
    const pendingInit = inits.filter((c) => terminated(c)?.exitCode !== 0).map((c) => c.name);
    const conditions = [
      condition("PodReadyToStartContainers", !done || apps.some((c) => c.running)),
      condition(
        "Initialized",
        initialized,
        initialized ? (done ? "PodCompleted" : undefined) : "ContainersNotInitialized",
        initialized ? undefined : `containers with incomplete status: [${pendingInit.join(" ")}]`,
      ),
      condition(
        "Ready",
        allReady,
        allReady ? undefined : done ? "PodCompleted" : "ContainersNotReady",
        allReady || done ? undefined : notReadyMessage,
      ),
      condition(
        "ContainersReady",
        allReady,
        allReady ? undefined : done ? "PodCompleted" : "ContainersNotReady",
        allReady || done ? undefined : notReadyMessage,
      ),
      ...((old.conditions ?? []) as Json[]).filter((c) =>
        !["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"].includes(c.type)
      ),
    ];
    const specOf = (name: string, init: boolean) =>
      ((init ? pod.spec?.initContainers : pod.spec?.containers) ?? [] as Json[]).find((s: Json) =>
        s.name === name
      );
    const containerStatus = (c: ContainerRecord) => {
      const s: Json = {
        name: c.name,
        state: this.#shownState(c, pod),
        ready: !c.init && this.#ready(c),
        restartCount: c.restartCount,
        image: specOf(c.name, c.init)?.image,
        imageID: c.imageID ?? "",
        started: !!c.running && (!c.prober || c.prober.state.startup),
      };
      if (c.lastTerminated) s.lastState = { terminated: c.lastTerminated };
      else s.lastState = {};
      if (c.containerID) s.containerID = c.containerID;
      if (c.init) s.ready = terminated(c)?.exitCode === 0;
      return s;
    };
    const status: Json = {
      phase,
      conditions,
      hostIP: this.#ctx.hostIP,
      hostIPs: [{ ip: this.#ctx.hostIP }],
      ...(this.#sandbox ? { podIP: this.#podIP, podIPs: [{ ip: this.#podIP }] } : {}),
      startTime: this.#startTime,
      containerStatuses: apps.map(containerStatus),
      qosClass: old.qosClass,
    };
    if (inits.length) status.initContainerStatuses = inits.map(containerStatus);
    // What would change: transition times and nulls (dropped once stored) aside.
    const text = JSON.stringify(status, (k, v) => (k === "lastTransitionTime" || v === null ? undefined : v));
    if (text === this.#lastStatus) return phase;
    await this.#ctx.patchStatus(pod, status);
    this.#lastStatus = text;
    return phase;
  }

  /** A container waiting out its back-off shows CrashLoopBackOff, as kubelet reports it. */
  #shownState(c: ContainerRecord, pod: Pod): State {
    const t = "terminated" in c.state ? c.state.terminated : undefined;
    const policy = pod.spec?.restartPolicy ?? "Always";
    const restarts = t && !pod.metadata?.deletionTimestamp &&
      (policy === "Always" || (policy === "OnFailure" && t.exitCode !== 0)) && Date.now() < c.notBefore;
    if (!restarts) return c.state;
    const m = pod.metadata!;
    return {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `back-off ${
          formatDuration(c.waitMs)
        } restarting failed container=${c.name} pod=${m.name}_${m.namespace}(${m.uid})`,
      },
    };
  }
}

/** A ConfigMap's or Secret's data as strings. */
function decodedData(kind: "configmaps" | "secrets", source: Json): Record<string, string> {
  const out: Record<string, string> = {};
  if (kind === "configmaps") {
    for (const [k, v] of Object.entries(source.data ?? {})) out[k] = String(v);
    return out;
  }
  for (const [k, v] of Object.entries(source.data ?? {})) {
    const bytes = Uint8Array.from(atob(String(v)), (ch) => ch.charCodeAt(0));
    out[k] = new TextDecoder().decode(bytes);
  }
  return out;
}

/** `$(VAR)` from earlier variables; `$$(VAR)` stays `$(VAR)`; unknown references stay as written. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => {
    if (m === "$$") return "$";
    return name in env ? env[name] : m;
  });
}

/** Go's time.Duration text for whole seconds and minutes: 10s, 1m20s, 5m0s. */
function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}
