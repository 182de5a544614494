/**
 * `pods/{name}/exec`: kubectl opens a WebSocket in the channel protocol (v5.channel.k8s.io or
 * v4); the API server checks the request as upstream does, opens the same protocol to the node's
 * `/exec/…` endpoint with its own token, and relays the binary messages both ways until either
 * side closes. (The node's serving certificate is not verified, as upstream's default.)
 */

import {
  CHANNEL_PORT_FORWARD_PROTOCOL,
  CHANNEL_PROTOCOLS,
  NODE_PORT_FORWARD_PROTOCOL,
  pickProtocol,
  PORT_FORWARD_PROTOCOL,
  queryFlag,
  upgradeWithProtocol,
} from "../machinery/websocket.ts";
import WebSocketClient from "ws";
import { badRequest, StatusError } from "../machinery/status.ts";
import type { Registry } from "./registry/mod.ts";
import { logContainer, nodeEndpoint } from "./pod_log.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** A minimal view of the `ws` client this relay uses. */
interface NodeSocket {
  readyState: number;
  send(data: Uint8Array): void;
  close(code?: number): void;
  on(event: "open", fn: () => void): void;
  on(event: "message", fn: (data: Uint8Array) => void): void;
  on(event: "close", fn: () => void): void;
  on(event: "error", fn: (err: Error) => void): void;
}

const OPEN = 1;

/**
 * Serves pods/exec, pods/attach and pods/portforward (`action`), relaying to the node's endpoint of
 * that name.
 */
export async function handlePodExec(
  req: Request,
  url: URL,
  registry: Registry,
  namespace: string,
  name: string,
  token: string,
  action: "exec" | "attach" | "portforward" = "exec",
): Promise<Response> {
  const q = url.searchParams;
  if (action === "exec" && q.getAll("command").length === 0) {
    throw badRequest("you must specify at least one command for the container");
  }
  const pod = await registry.mustGet("", "pods").get(namespace, name) as Json;
  const container = action === "portforward" ? "" : logContainer(pod, q.get("container"));
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    throw badRequest(
      action === "exec"
        ? `cannot exec into a container in a completed pod; current phase is ${phase}`
        : action === "attach"
        ? `cannot attach to a container in a completed pod; current phase is ${phase}`
        : `cannot port forward to a completed pod; current phase is ${phase}`,
    );
  }
  const { host, port } = await nodeEndpoint(registry, pod);
  // Port-forward: kubectl's SPDY tunnel, or client-node's older channel protocol.
  const supported = action === "portforward"
    ? [PORT_FORWARD_PROTOCOL, CHANNEL_PORT_FORWARD_PROTOCOL]
    : CHANNEL_PROTOCOLS;
  const protocol = pickProtocol(req, supported);
  if (!protocol) {
    throw new StatusError(
      400,
      "BadRequest",
      `Upgrade request required: this server speaks ${action} over a WebSocket with protocol ${
        supported.join(" or ")
      }`,
    );
  }
  const query = new URLSearchParams();
  for (const c of q.getAll("command")) query.append("command", c);
  for (const p of ["stdin", "stdout", "stderr", "tty"]) if (queryFlag(q, p)) query.set(p, "true");
  const podPath = `${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  const target = action === "portforward"
    ? `wss://${host}:${port}/portforward/${podPath}?${new URLSearchParams(
      q.getAll("ports").map((p) => ["ports", p]),
    )}`
    : `wss://${host}:${port}/${action}/${podPath}/${encodeURIComponent(container)}?${query}`;

  // The node connection is opened before the upgrade: once upgraded, the response must be returned.
  // Toward the node, port-forward's protocol goes by a name the ws client accepts (a "/" is not a
  // token character to it); the bytes are the same.
  const node = new WebSocketClient(target, [
    protocol === PORT_FORWARD_PROTOCOL ? NODE_PORT_FORWARD_PROTOCOL : protocol,
  ], {
    headers: { authorization: `Bearer ${token}` },
    rejectUnauthorized: false,
  }) as unknown as NodeSocket;
  const { socket, response } = upgradeWithProtocol(req, protocol);
  socket.binaryType = "arraybuffer";
  const early: Uint8Array[] = [];
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    // A client socket still opening is closed once what it is owed has been sent (onopen).
    if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    if (node.readyState === OPEN) node.close(1000);
  };
  socket.onmessage = (e) => {
    const data = new Uint8Array(e.data as ArrayBuffer);
    if (node.readyState === OPEN) node.send(data);
    else early.push(data);
  };
  socket.onclose = closeBoth;
  node.on("open", () => {
    for (const data of early.splice(0)) node.send(data);
  });
  const toClient: Uint8Array[] = [];
  socket.onopen = () => {
    for (const data of toClient.splice(0)) socket.send(data);
    if (closed) socket.close(1000);
  };
  node.on("message", (data) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(new Uint8Array(data));
    else if (socket.readyState === WebSocket.CONNECTING) toClient.push(new Uint8Array(data));
  });
  node.on("close", closeBoth);
  node.on("error", (err) => {
    // Tell the client on the error channel, as a Status, then close.
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      const status = {
        metadata: {},
        status: "Failure",
        message: `error dialing backend: ${err.message}`,
        reason: "InternalError",
        code: 500,
      };
      const text = new TextEncoder().encode(JSON.stringify(status));
      const out = new Uint8Array(text.length + 1);
      out[0] = 3;
      out.set(text, 1);
      if (socket.readyState === WebSocket.OPEN) socket.send(out);
      else toClient.push(out);
    }
    closeBoth();
  });
  return response;
}
