/**
 * `kubectl exec` on the node: a WebSocket in the channel protocol (v5.channel.k8s.io, or v4).
 * Every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the closing Status,
 * 4 terminal resize; in v5, `[255, 0]` from the client closes stdin. The command runs in the
 * container's directory and environment; when it ends, channel 3 carries Success, or Failure with
 * reason NonZeroExitCode and the code as the cause, and the socket closes.
 */

import type { Attachment, ExecRequest, PodRuntime, RunningContainer } from "../runtime/runtime.ts";
import { StartError } from "../runtime/runtime.ts";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const CLOSE = 255;

function frame(channel: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = channel;
  out.set(data, 1);
  return out;
}

/** The Status sent on channel 3 when the command ends. */
export function exitStatus(argv: string[], code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${
      argv.join(" ")
    }], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export interface ExecOptions {
  argv: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Runs one exec over `socket` (already upgraded). */
export function serveExec(
  socket: WebSocket,
  runtime: PodRuntime,
  target: Omit<ExecRequest, "argv" | "tty">,
  options: ExecOptions,
): void {
  socket.binaryType = "arraybuffer";
  const encoder = new TextEncoder();
  let child: Deno.ChildProcess | undefined;
  let stdinWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  let pendingInput: Uint8Array[] = [];
  let stdinClosed = false;
  let finished = false;
  const send = (channel: number, data: Uint8Array) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(frame(channel, data));
  };
  const finish = (status: Record<string, unknown>) => {
    if (finished) return;
    finished = true;
    send(ERROR, encoder.encode(JSON.stringify(status)));
    if (socket.readyState === WebSocket.OPEN) socket.close(1000);
  };
  const closeStdin = () => {
    stdinClosed = true;
    stdinWriter?.close().catch(() => {});
  };
  socket.onmessage = (e) => {
    const data = new Uint8Array(e.data as ArrayBuffer);
    if (data.length === 0) return;
    const channel = data[0];
    if (channel === STDIN) {
      const bytes = data.subarray(1);
      if (stdinWriter) stdinWriter.write(bytes).catch(() => {});
      else pendingInput.push(bytes);
    } else if (channel === CLOSE && data[1] === STDIN) {
      closeStdin();
    }
    // Channel 4 (resize) is accepted and ignored: the terminal keeps its size.
  };
  socket.onclose = () => {
    if (!finished) {
      finished = true;
      try {
        child?.kill("SIGKILL");
      } catch {
        // gone
      }
    }
  };
  const pump = async (stream: ReadableStream<Uint8Array>, channel: number, wanted: boolean) => {
    for await (const chunk of stream) if (wanted) send(channel, chunk);
  };
  socket.onopen = async () => {
    try {
      child = await runtime.exec({ ...target, argv: options.argv, tty: options.tty });
    } catch (err) {
      const message = err instanceof StartError ? err.message : (err as Error).message;
      finish({ metadata: {}, status: "Failure", message, reason: "InternalError", code: 500 });
      return;
    }
    if (options.stdin) {
      stdinWriter = child.stdin.getWriter();
      for (const bytes of pendingInput) stdinWriter.write(bytes).catch(() => {});
      pendingInput = [];
      if (stdinClosed) closeStdin();
    } else {
      child.stdin.close().catch(() => {});
    }
    const pumping = Promise.all([
      pump(child.stdout, STDOUT, options.stdout),
      pump(child.stderr, options.tty ? STDOUT : STDERR, options.stderr || options.tty),
    ]).catch(() => {});
    const status = await child.status;
    await pumping;
    finish(exitStatus(options.argv, status.signal ? 128 + signalNumber(status.signal) : status.code));
  };
}

function signalNumber(signal: string): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ??
    0;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** The container's stdinOnce: its stdin ends when this first session closes it. */
  stdinOnce: boolean;
}

/** Attaches `socket` to a running container's streams until either ends. */
export function serveAttach(
  socket: WebSocket,
  container: RunningContainer,
  options: AttachOptions,
): void {
  socket.binaryType = "arraybuffer";
  const encoder = new TextEncoder();
  let attachment: Attachment | undefined;
  let finished = false;
  const send = (channel: number, data: Uint8Array) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(frame(channel, data));
  };
  const end = () => {
    attachment?.detach();
    if (options.stdin && options.stdinOnce) attachment?.closeStdin();
  };
  socket.onopen = () => {
    attachment = container.attach((stream, data) => {
      if (options.tty || stream === "stdout") {
        if (options.stdout) send(STDOUT, data);
      } else if (options.stderr) send(STDERR, data);
    });
    container.exited.then(() => {
      if (finished) return;
      finished = true;
      send(ERROR, encoder.encode(JSON.stringify({ metadata: {}, status: "Success" })));
      end();
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    });
  };
  socket.onmessage = (e) => {
    const data = new Uint8Array(e.data as ArrayBuffer);
    if (!attachment || data.length === 0) return;
    if (data[0] === STDIN && options.stdin) attachment.write(data.subarray(1));
    else if (data[0] === CLOSE && data[1] === STDIN && options.stdinOnce) attachment.closeStdin();
  };
  socket.onclose = () => {
    finished = true;
    end();
  };
}
