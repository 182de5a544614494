/**
 * The pod runtime interface the node agent drives: start a container of a pod, learn when it
 * exits, signal it. `process` (node/runtime/process.ts) is the first implementation.
 */

import type { ResolvedImage } from "./images.ts";

/** What the agent asks a runtime to start. */
export interface ContainerRequest {
  /** `<namespace>_<pod>_<uid>`: the pod's directory name under the node's root. */
  podDir: string;
  name: string;
  image: ResolvedImage;
  command?: string[];
  args?: string[];
  /** The container's environment (PATH and HOSTNAME included). */
  env: Record<string, string>;
  /** Where stdout and stderr go, in the CRI log format (one file per start). */
  logPath: string;
  /** Keep stdin open for attach (`stdin: true`). */
  stdin?: boolean;
  /** Run on a terminal (`tty: true`): stdout and stderr arrive merged. */
  tty?: boolean;
  /** A command prefix that puts the process in the pod's sandbox (its network namespace). */
  prefix?: string[];
  /** The pod's uid and the container's `resources` (limits applied where the host allows). */
  podUid?: string;
  resources?: Record<string, Record<string, string>>;
}

/** A live connection to a running container's streams (`kubectl attach`). */
export interface Attachment {
  /** Stops receiving output. */
  detach(): void;
  /** Writes to the container's stdin (when it was started with stdin). */
  write(data: Uint8Array): Promise<void>;
  /** Ends the container's stdin (EOF). */
  closeStdin(): void;
}

export interface ContainerExit {
  exitCode: number;
  /** The OOM killer ended it (its memory limit was reached). */
  oomKilled?: boolean;
  /** The signal that ended it, if one did. */
  signal?: string;
  finishedAt: Date;
}

export interface RunningContainer {
  /** `<runtime>://<id>`, as containerStatuses show it. */
  containerID: string;
  pid: number;
  startedAt: Date;
  exited: Promise<ContainerExit>;
  /** Signals the container's whole process group. */
  kill(signal: Deno.Signal): void;
  /** Receives the container's output from now on, and may write to its stdin. */
  attach(onOutput: (stream: "stdout" | "stderr", data: Uint8Array) => void): Attachment;
}

/** A container that could not start: reported as terminated with this reason and message. */
export class StartError extends Error {
  constructor(message: string, readonly reason = "StartError", readonly exitCode = 128) {
    super(message);
  }
}

/** A command to run inside a running container (`kubectl exec`). */
export interface ExecRequest {
  /** The container's directory, environment and image, as it was started. */
  cwd: string;
  env: Record<string, string>;
  image: ResolvedImage;
  prefix?: string[];
  argv: string[];
  /** Give it a terminal (stdout and stderr then arrive merged). */
  tty: boolean;
}

export interface PodRuntime {
  /** `process`, `containerd`, … (the nodeInfo's containerRuntimeVersion starts with it). */
  readonly name: string;
  readonly version: string;
  start(request: ContainerRequest): Promise<RunningContainer>;
  /** Starts a command in a running container; stdin, stdout and stderr are piped. */
  exec(request: ExecRequest): Promise<Deno.ChildProcess>;
}
