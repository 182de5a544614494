/**
 * The node's own HTTPS endpoints, as kubelet serves them on its port (10250 upstream):
 * `/containerLogs/{namespace}/{pod}/{container}` and `/healthz`. Callers authenticate with a
 * bearer token, which the node checks as kubelet's webhook mode does: a TokenReview, then a
 * SubjectAccessReview for `nodes/proxy` on this node (answers cached for a minute).
 */

import { upgradeWithProtocol } from "../../machinery/websocket.ts";
import type { Client } from "../../machinery/client.ts";
import { type LogOptions, logStream } from "./logs.ts";
import { pickProtocol, serveAttach, serveExec } from "./exec.ts";
import {
  CHANNEL_PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_PROTOCOL,
  type PortForwardTarget,
  serveChannelPortForward,
  servePortForward,
} from "./portforward.ts";

/** kubectl's name for the protocol, and the API server's (whose WebSocket client refuses a "/"). */
const PORT_FORWARD_PROTOCOLS = [
  PORT_FORWARD_PROTOCOL,
  "spdy-3.1.portforward.kubedeno.io",
  CHANNEL_PORT_FORWARD_PROTOCOL,
];
import type { ExecRequest, PodRuntime, RunningContainer } from "../runtime/runtime.ts";

/** What the server asks of the agent. */
export interface NodeEndpoints {
  nodeName: string;
  /** The log of a container (current or previous run), or a Status-like refusal. */
  containerLog(
    namespace: string,
    pod: string,
    container: string,
    previous: boolean,
  ): { path: string; running: () => boolean } | { code: number; message: string };
  /** Where a port-forward reaches the pod, or a refusal. */
  portForwardTarget(namespace: string, pod: string): PortForwardTarget | { code: number; message: string };
  /** A running container to attach to, or a refusal. */
  attachTarget(
    namespace: string,
    pod: string,
    container: string,
  ): { running: RunningContainer; stdin: boolean; stdinOnce: boolean; tty: boolean } | {
    code: number;
    message: string;
  };
  /** What an exec in a running container needs, or a refusal. */
  execTarget(
    namespace: string,
    pod: string,
    container: string,
  ): { runtime: PodRuntime; target: Omit<ExecRequest, "argv" | "tty"> } | { code: number; message: string };
}

interface Decision {
  allowed: boolean;
  until: number;
}

function statusResponse(code: number, message: string): Response {
  const reason = code === 401
    ? "Unauthorized"
    : code === 403
    ? "Forbidden"
    : code === 404
    ? "NotFound"
    : "BadRequest";
  return new Response(
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      code,
    }),
    { status: code, headers: { "content-type": "application/json" } },
  );
}

/** Authenticates and authorizes callers through the API server. */
export class NodeAuthorizer {
  readonly #client: Client;
  readonly #node: string;
  readonly #cache = new Map<string, Decision>();

  constructor(client: Client, node: string) {
    this.#client = client;
    this.#node = node;
  }

  async allowed(token: string): Promise<boolean> {
    const now = Date.now();
    const known = this.#cache.get(token);
    if (known && known.until > now) return known.allowed;
    let allowed = false;
    try {
      const review = await this.#client.resource("authentication.k8s.io", "tokenreviews").create("", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token },
      }) as { status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] } } };
      if (review.status?.authenticated) {
        const access = await this.#client.resource("authorization.k8s.io", "subjectaccessreviews").create(
          "",
          {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
              user: review.status.user?.username,
              groups: review.status.user?.groups,
              resourceAttributes: { verb: "get", resource: "nodes", subresource: "proxy", name: this.#node },
            },
          },
        ) as { status?: { allowed?: boolean } };
        allowed = !!access.status?.allowed;
      }
    } catch {
      return false;
    }
    if (this.#cache.size > 1000) this.#cache.clear();
    this.#cache.set(token, { allowed, until: now + 60_000 });
    return allowed;
  }
}

function logOptions(q: URLSearchParams): LogOptions | string {
  const options: LogOptions = {
    follow: q.get("follow") === "true",
    timestamps: q.get("timestamps") === "true",
  };
  const int = (name: string): number | undefined | string => {
    const v = q.get(name);
    if (v === null || v === "") return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : `invalid ${name}: ${v}`;
  };
  for (const [name, key] of [["tailLines", "tailLines"], ["limitBytes", "limitBytes"]] as const) {
    const n = int(name);
    if (typeof n === "string") return n;
    if (n !== undefined) options[key] = n;
  }
  const sinceSeconds = int("sinceSeconds");
  if (typeof sinceSeconds === "string") return sinceSeconds;
  if (sinceSeconds !== undefined) options.since = Date.now() - sinceSeconds * 1000;
  const sinceTime = q.get("sinceTime");
  if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (!Number.isFinite(t)) return `invalid sinceTime: ${sinceTime}`;
    options.since = t;
  }
  return options;
}

/** The request handler of the node's server. */
export function nodeHandler(
  endpoints: NodeEndpoints,
  auth: NodeAuthorizer,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return new Response("ok");
    const token = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!token) return statusResponse(401, "Unauthorized");
    if (!(await auth.allowed(token))) {
      return statusResponse(403, `Forbidden (user cannot access nodes/proxy of ${endpoints.nodeName})`);
    }
    const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (logs && req.method === "GET") {
      const [ns, pod, container] = logs.slice(1).map(decodeURIComponent);
      const options = logOptions(url.searchParams);
      if (typeof options === "string") return statusResponse(400, options);
      const found = endpoints.containerLog(ns, pod, container, url.searchParams.get("previous") === "true");
      if ("code" in found) return statusResponse(found.code, found.message);
      return new Response(logStream(found.path, options, found.running), {
        headers: { "content-type": "text/plain", "cache-control": "no-cache" },
      });
    }
    const exec = /^\/exec\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (exec) {
      const [ns, pod, container] = exec.slice(1).map(decodeURIComponent);
      const q = url.searchParams;
      const argv = q.getAll("command");
      if (argv.length === 0) {
        return statusResponse(400, "you must specify at least one command for the container");
      }
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return statusResponse(400, "Upgrade request required");
      }
      const protocol = pickProtocol(req.headers.get("sec-websocket-protocol"));
      if (!protocol) {
        return statusResponse(
          400,
          "no supported exec protocol offered (v5.channel.k8s.io, v4.channel.k8s.io)",
        );
      }
      const found = endpoints.execTarget(ns, pod, container);
      if ("code" in found) return statusResponse(found.code, found.message);
      const flag = (a: string, b: string) =>
        q.get(a) === "true" || q.get(a) === "1" || q.get(b) === "true" || q.get(b) === "1";
      const { socket, response } = upgradeWithProtocol(req, protocol);
      serveExec(socket, found.runtime, found.target, {
        argv,
        stdin: flag("stdin", "input"),
        stdout: flag("stdout", "output"),
        stderr: flag("stderr", "error"),
        tty: flag("tty", "tty"),
      });
      return response;
    }
    const forward = /^\/portforward\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (forward) {
      const [ns, pod] = forward.slice(1).map(decodeURIComponent);
      const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      const protocol = PORT_FORWARD_PROTOCOLS.find((p) => offered.includes(p));
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket" || !protocol) {
        return statusResponse(
          400,
          `port-forward needs a WebSocket upgrade with protocol ${PORT_FORWARD_PROTOCOL}`,
        );
      }
      const found = endpoints.portForwardTarget(ns, pod);
      if ("code" in found) return statusResponse(found.code, found.message);
      if (protocol === CHANNEL_PORT_FORWARD_PROTOCOL) {
        const ports = url.searchParams.getAll("ports").flatMap((p) => p.split(",")).map(Number)
          .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
        if (ports.length === 0) return statusResponse(400, 'query parameter "port" is required');
        const { socket, response } = upgradeWithProtocol(req, protocol);
        serveChannelPortForward(socket, found, ports);
        return response;
      }
      const { socket, response } = upgradeWithProtocol(req, protocol);
      servePortForward(socket, found);
      return response;
    }
    const attach = /^\/attach\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (attach) {
      const [ns, pod, container] = attach.slice(1).map(decodeURIComponent);
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return statusResponse(400, "Upgrade request required");
      }
      const protocol = pickProtocol(req.headers.get("sec-websocket-protocol"));
      if (!protocol) {
        return statusResponse(
          400,
          "no supported attach protocol offered (v5.channel.k8s.io, v4.channel.k8s.io)",
        );
      }
      const found = endpoints.attachTarget(ns, pod, container);
      if ("code" in found) return statusResponse(found.code, found.message);
      const q = url.searchParams;
      const flag = (a: string, b: string) =>
        q.get(a) === "true" || q.get(a) === "1" || q.get(b) === "true" || q.get(b) === "1";
      const { socket, response } = upgradeWithProtocol(req, protocol);
      serveAttach(socket, found.running, {
        stdin: flag("stdin", "input") && found.stdin,
        stdout: flag("stdout", "output"),
        stderr: flag("stderr", "error"),
        tty: found.tty,
        stdinOnce: found.stdinOnce,
      });
      return response;
    }
    return statusResponse(404, "the server could not find the requested resource");
  };
}
