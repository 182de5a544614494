/**
 * The `process` runtime: each container is a supervised host process in its own session (so a
 * signal reaches everything it started), running in its own directory under the pod's, with the
 * environment the agent gives it. Commands resolve in the image's directories first, then on the
 * host. stdout and stderr go to the container's log file in the CRI format kubelet writes
 * (`<RFC3339Nano> stdout|stderr F|P <text>`), which the log endpoint reads back.
 */

import type {
  Attachment,
  ContainerExit,
  ContainerRequest,
  ExecRequest,
  PodRuntime,
  RunningContainer,
} from "./runtime.ts";
import { StartError } from "./runtime.ts";
import { Cgroups, type ContainerCgroup, joinPrefix } from "./cgroups.ts";

/** Where a command without a slash, or a standard absolute path like /bin/sh, resolves. */
export async function resolveCommand(
  command: string,
  imageBin: string[],
  imageDirs: string[],
): Promise<string | undefined> {
  const isFile = async (p: string) => {
    try {
      return (await Deno.stat(p)).isFile;
    } catch {
      return false;
    }
  };
  const standard = imageDirs;
  if (command.includes("/")) {
    // An absolute path in one of the image's PATH directories is the image's command of that name.
    const slash = command.lastIndexOf("/");
    if (command.startsWith("/") && standard.includes(command.slice(0, slash))) {
      for (const dir of imageBin) {
        const candidate = `${dir}/${command.slice(slash + 1)}`;
        if (await isFile(candidate)) return candidate;
      }
    }
    return command;
  }
  for (const dir of [...imageBin, ...standard]) {
    const candidate = `${dir}/${command}`;
    if (await isFile(candidate)) return candidate;
  }
  return undefined;
}

/** The time as CRI logs stamp it: RFC 3339 with nanoseconds. */
function criTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/** Copies a stream into the log file as CRI lines, a partial line flushed at the end. */
async function copyLines(
  stream: ReadableStream<Uint8Array>,
  tag: "stdout" | "stderr",
  write: (line: string) => Promise<void>,
  onChunk: (data: Uint8Array) => void,
): Promise<void> {
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    onChunk(chunk);
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    let start = 0;
    let out = "";
    while ((nl = pending.indexOf("\n", start)) >= 0) {
      out += `${criTime()} ${tag} F ${pending.slice(start, nl)}\n`;
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (out) await write(out);
  }
  if (pending) await write(`${criTime()} ${tag} F ${pending}\n`);
}

const SETSID = "/usr/bin/setsid";

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), "" when gone. */
async function processStartTime(pid: number): Promise<string> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
}

/**
 * Stops the containers an earlier agent left running under `podsDir` (it died without stopping
 * them): each one's whole session is killed. Returns how many there were. Their pods' workers then
 * start them afresh, so nothing runs twice.
 */
export async function stopLeftovers(podsDir: string): Promise<number> {
  let stopped = 0;
  const dirs = await Array.fromAsync(Deno.readDir(podsDir)).catch(() => []);
  for (const pod of dirs) {
    if (!pod.isDirectory) continue;
    for await (const c of Deno.readDir(`${podsDir}/${pod.name}`)) {
      const file = `${podsDir}/${pod.name}/${c.name}/.kubedeno-pid`;
      const text = await Deno.readTextFile(file).catch(() => "");
      if (!text) continue;
      const [pidText, started] = text.trim().split(" ");
      const pid = Number(pidText);
      if (pid > 1 && started && (await processStartTime(pid)) === started) {
        try {
          Deno.kill(-pid, "SIGKILL");
        } catch {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch {
            // gone meanwhile
          }
        }
        stopped++;
      }
      await Deno.remove(file).catch(() => {});
    }
  }
  return stopped;
}
/** util-linux's script(1): runs a command on a new pseudo-terminal. */
const SCRIPT = "/usr/bin/script";

/** A word for `sh -c`, single-quoted. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export class ProcessRuntime implements PodRuntime {
  readonly name = "process";
  readonly version = "0.1.0";
  #serial = 0;
  #hasSetsid?: boolean;
  #cgroups?: Promise<Cgroups | undefined>;

  /** Cgroups where usable (looked up once; why not is said once). */
  #limits(): Promise<Cgroups | undefined> {
    this.#cgroups ??= Cgroups.detect().then(({ cgroups, why }) => {
      if (!cgroups) console.error(`kubedeno: container resource limits are not applied here: ${why}`);
      return cgroups;
    });
    return this.#cgroups;
  }

  async start(request: ContainerRequest): Promise<RunningContainer> {
    const { image } = request;
    const argv = request.command?.length
      ? [...request.command, ...(request.args ?? [])]
      : request.args?.length
      ? [...image.entrypoint, ...request.args]
      : [...image.entrypoint, ...image.cmd];
    if (argv.length === 0) throw new StartError("no command specified");
    const program = await resolveCommand(argv[0], image.bin, image.dirs);
    if (!program) {
      throw new StartError(
        `failed to create containerd task: failed to create shim task: OCI runtime create failed: exec: "${
          argv[0]
        }": executable file not found in $PATH`,
      );
    }
    const cwd = `${request.podDir}/${request.name}`;
    await Deno.mkdir(cwd, { recursive: true });
    const logDir = request.logPath.slice(0, request.logPath.lastIndexOf("/"));
    await Deno.mkdir(logDir, { recursive: true });
    const log = await Deno.open(request.logPath, { create: true, append: true });
    const encoder = new TextEncoder();
    let writing = Promise.resolve();
    const write = (text: string) =>
      writing = writing.then(async () => void await log.write(encoder.encode(text)));
    this.#hasSetsid ??= await Deno.stat(SETSID).then(() => true, () => false);
    const tty = !!request.tty && await Deno.stat(SCRIPT).then(() => true, () => false);
    // On a terminal the command runs under script(1), which makes the pseudo-terminal.
    const cgroups = request.podUid ? await this.#limits() : undefined;
    let cgroup: ContainerCgroup | undefined;
    if (cgroups) cgroup = await cgroups.create(request.podUid!, request.name, request.resources ?? {});
    // The cgroups are joined first: inside the pod's network namespace /sys is remounted without them.
    const command = [
      ...joinPrefix(cgroup),
      ...(request.prefix ?? []),
      ...(tty
        ? [SCRIPT, "-qfec", [program, ...argv.slice(1)].map(shellQuote).join(" "), "/dev/null"]
        : [program, ...argv.slice(1)]),
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.#hasSetsid ? SETSID : command[0], {
        args: this.#hasSetsid ? command : command.slice(1),
        cwd,
        env: { HOME: cwd, ...(tty ? { TERM: "xterm" } : {}), ...request.env },
        clearEnv: true,
        stdin: request.stdin ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      log.close();
      await cgroup?.remove();
      throw new StartError(`failed to start ${argv[0]}: ${(err as Error).message}`);
    }
    const startedAt = new Date();
    const listeners = new Set<(stream: "stdout" | "stderr", data: Uint8Array) => void>();
    const tell = (stream: "stdout" | "stderr") => (data: Uint8Array) => {
      for (const l of listeners) l(stream, data);
    };
    const copying = Promise.all([
      copyLines(child.stdout, "stdout", write, tell("stdout")),
      copyLines(child.stderr, "stderr", write, tell("stderr")),
    ]);
    const stdin = request.stdin ? child.stdin.getWriter() : undefined;
    const pid = child.pid;
    // Who runs for this container, so a later agent can find it if this one dies (pid and start
    // time, which tells a reused pid apart).
    const pidFile = `${cwd}/.kubedeno-pid`;
    await Deno.writeTextFile(pidFile, `${pid} ${await processStartTime(pid)}\n`).catch(() => {});
    const exited: Promise<ContainerExit> = (async () => {
      const status = await child.status;
      await copying.catch(() => {});
      await writing.catch(() => {});
      log.close();
      await Deno.remove(pidFile).catch(() => {});
      const oomKilled = cgroup ? await cgroup.oomKilled() : false;
      await cgroup?.remove();
      return {
        exitCode: status.code,
        signal: status.signal ?? undefined,
        oomKilled,
        finishedAt: new Date(),
      };
    })();
    const id = `${Date.now().toString(16)}${(this.#serial++).toString(16).padStart(4, "0")}${
      pid.toString(16)
    }`;
    return {
      containerID: `process://${id}`,
      pid,
      startedAt,
      exited,
      kill: (signal) => {
        try {
          // The session leader's pid is the group's id: signal the whole group.
          Deno.kill(this.#hasSetsid ? -pid : pid, signal);
        } catch {
          // already gone
        }
      },
      attach: (onOutput): Attachment => {
        listeners.add(onOutput);
        return {
          detach: () => listeners.delete(onOutput),
          write: async (data) => {
            await stdin?.write(data).catch(() => {});
          },
          closeStdin: () => {
            stdin?.close().catch(() => {});
          },
        };
      },
    };
  }

  async exec(request: ExecRequest): Promise<Deno.ChildProcess> {
    const { image } = request;
    const program = await resolveCommand(request.argv[0], image.bin, image.dirs);
    if (!program) {
      throw new StartError(
        `OCI runtime exec failed: exec failed: unable to start container process: exec: "${
          request.argv[0]
        }": executable file not found in $PATH: unknown`,
      );
    }
    const argv = [program, ...request.argv.slice(1)];
    const tty = request.tty && await Deno.stat(SCRIPT).then(() => true, () => false);
    // script -e: its exit status is the command's; -f flushes at once; -q says nothing itself.
    const command = [
      ...(request.prefix ?? []),
      ...(tty ? [SCRIPT, "-qfec", argv.map(shellQuote).join(" "), "/dev/null"] : argv),
    ];
    return new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: request.cwd,
      env: { HOME: request.cwd, ...(tty ? { TERM: "xterm" } : {}), ...request.env },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }
}
