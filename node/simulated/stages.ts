/**
 * What a simulated node does with the pods bound to it, described as data: a list of stages,
 * each with a selector (which pods, in which state), a delay, and the status the pod takes. A
 * simulated node runs nothing; it only moves pods through these stages.
 *
 * The default stages: a bound Pending pod becomes Running and Ready; a pod whose containers
 * all run a command that exits (`true`, `false`, `sh -c 'exit N'`) then ends Succeeded (all
 * exit 0) or Failed; anything else keeps running until deleted. A deleted pod is removed.
 * Add a stage by adding an entry to a stage list (see `DEFAULT_STAGES`).
 */

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
}

function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

/** How the pod's containers end, from their commands: all exit 0, some exit non-zero, or never. */
export type PodExit = "zero" | "nonzero" | "running";

/** Which pods a stage takes. Every given condition must hold. */
export interface StageSelector {
  /** The pod's status.phase (absent phase counts as Pending). */
  phases?: string[];
  /** Whether the pod is Ready now. */
  ready?: boolean;
  /** How its containers end. */
  exit?: PodExit[];
  /** Whether it is being deleted. */
  deleting?: boolean;
}

/** What a stage does to the pods it takes. */
export interface StageResult {
  /** The phase the pod takes; containers follow it (Running: running, Succeeded/Failed: terminated). */
  phase?: "Running" | "Succeeded" | "Failed";
  /** Whether the pod and its containers are Ready. */
  ready?: boolean;
  /** Remove the pod (grace period over). */
  delete?: boolean;
}

export interface Stage {
  name: string;
  selector: StageSelector;
  /** Milliseconds after the pod entered its current state before the stage applies. */
  delayMs: number;
  result: StageResult;
}

export const DEFAULT_STAGES: Stage[] = [
  { name: "pod-delete", selector: { deleting: true }, delayMs: 0, result: { delete: true } },
  {
    name: "pod-ready",
    selector: { phases: ["Pending"] },
    delayMs: 0,
    result: { phase: "Running", ready: true },
  },
  {
    name: "pod-complete",
    selector: { phases: ["Running"], exit: ["zero"] },
    delayMs: 0,
    result: { phase: "Succeeded", ready: false },
  },
  {
    name: "pod-fail",
    selector: { phases: ["Running"], exit: ["nonzero"] },
    delayMs: 0,
    result: { phase: "Failed", ready: false },
  },
];

const SHELLS = new Set(["sh", "/bin/sh", "bash", "/bin/bash"]);

/** The exit code a container's command would give, or undefined when it would keep running. */
export function exitCodeOf(container: Obj): number | undefined {
  const argv = [
    ...(Array.isArray(container.command) ? container.command : []),
    ...(Array.isArray(container.args) ? container.args : []),
  ].map(String);
  if (argv.length === 0) return undefined;
  const base = argv[0].split("/").pop();
  if (argv.length === 1 && base === "true") return 0;
  if (argv.length === 1 && base === "false") return 1;
  if (SHELLS.has(argv[0]) && argv[1] === "-c" && argv.length === 3) {
    const script = argv[2].trim();
    if (script === "true" || script === "exit" || script === ":") return 0;
    if (script === "false") return 1;
    const m = /^exit\s+(\d+)$/.exec(script);
    if (m) return Number(m[1]) % 256;
  }
  return undefined;
}

/** How a pod's app containers end. */
export function podExit(pod: Obj): PodExit {
  const codes = list(obj(pod.spec).containers).map(exitCodeOf);
  if (codes.length === 0 || codes.some((c) => c === undefined)) return "running";
  return codes.every((c) => c === 0) ? "zero" : "nonzero";
}

function isReady(pod: Obj): boolean {
  return list(obj(pod.status).conditions).some((c) => c.type === "Ready" && c.status === "True");
}

/** The first stage that takes `pod`, or undefined. */
export function stageFor(pod: Obj, stages: Stage[] = DEFAULT_STAGES): Stage | undefined {
  const phase = String(obj(pod.status).phase ?? "Pending");
  const deleting = !!obj(pod.metadata).deletionTimestamp;
  return stages.find(({ selector: s }) =>
    (s.phases === undefined || s.phases.includes(phase)) &&
    (s.ready === undefined || s.ready === isReady(pod)) &&
    (s.exit === undefined || s.exit.includes(podExit(pod))) &&
    (s.deleting === undefined || s.deleting === deleting)
  );
}

export interface NodeFacts {
  /** RFC 3339 time of the change. */
  now: string;
  hostIP: string;
  podIP: string;
}

/** The status a pod takes from a stage's result (for a status update of the pod). */
export function statusFor(pod: Obj, result: StageResult, facts: NodeFacts): Obj {
  const old = obj(pod.status);
  const phase = result.phase ?? String(old.phase ?? "Pending");
  const ready = result.ready ?? false;
  const running = phase === "Running";
  const terminated = phase === "Succeeded" || phase === "Failed";
  const startTime = old.startTime ?? facts.now;
  const condition = (type: string, status: boolean, reason?: string) => {
    const before = list(old.conditions).find((c) => c.type === type);
    const value = status ? "True" : "False";
    const changed = !before || before.status !== value;
    const c: Obj = {
      type,
      status: value,
      lastProbeTime: null,
      lastTransitionTime: changed ? facts.now : before!.lastTransitionTime,
    };
    if (reason) c.reason = reason;
    return c;
  };
  const containerStatus = (c: Obj) => {
    const code = exitCodeOf(c) ?? 0;
    const state = terminated
      ? {
        terminated: {
          exitCode: code,
          reason: code === 0 ? "Completed" : "Error",
          startedAt: startTime,
          finishedAt: facts.now,
          containerID: `simulated://${c.name}`,
        },
      }
      : running
      ? { running: { startedAt: facts.now } }
      : { waiting: { reason: "ContainerCreating" } };
    return {
      name: c.name,
      image: c.image,
      imageID: `simulated://${c.image}`,
      containerID: `simulated://${c.name}`,
      ready: running && ready,
      started: running,
      restartCount: 0,
      state,
    };
  };
  const doneReason = terminated ? "PodCompleted" : undefined;
  return {
    phase,
    conditions: [
      condition("PodReadyToStartContainers", running || terminated),
      condition("Initialized", true, doneReason),
      condition("Ready", running && ready, doneReason),
      condition("ContainersReady", running && ready, doneReason),
      condition("PodScheduled", true),
    ],
    hostIP: facts.hostIP,
    hostIPs: [{ ip: facts.hostIP }],
    podIP: facts.podIP,
    podIPs: [{ ip: facts.podIP }],
    startTime,
    qosClass: old.qosClass,
    containerStatuses: list(obj(pod.spec).containers).map(containerStatus),
  };
}
