/**
 * The node's own HTTPS endpoints, as kubelet serves them on its port (10250 upstream):
 * `/containerLogs/{namespace}/{pod}/{container}` and `/healthz`. Callers authenticate with a
 * bearer token, which the node checks as kubelet's webhook mode does: a TokenReview, then a
 * SubjectAccessReview for `nodes/proxy` on this node (answers cached for a minute).
 */

import {
  CHANNEL_PORT_FORWARD_PROTOCOL,
  CHANNEL_PROTOCOLS,
  pickProtocol,
  PORT_FORWARD_PROTOCOLS,
  queryFlag,
  upgradeWithProtocol,
} from "../../machinery/websocket.ts";
import type { Client } from "../../machinery/client.ts";
import { type LogOptions, logStream } from "./logs.ts";
import { serveAttach, serveExec } from "./exec.ts";
import { type PortForwardTarget, serveChannelPortForward, servePortForward } from "./portforward.ts";
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
    // The streaming endpoints: /exec and /attach in the channel protocol, /portforward.
    const stream = /^\/(exec|attach|portforward)\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (stream) {
      const [action, ns, pod, container] = [
        stream[1],
        ...stream.slice(2).map((p) => p && decodeURIComponent(p)),
      ];
      const q = url.searchParams;
      const argv = q.getAll("command");
      if (action === "exec" && argv.length === 0) {
        return statusResponse(400, "you must specify at least one command for the container");
      }
      const supported = action === "portforward" ? PORT_FORWARD_PROTOCOLS : CHANNEL_PROTOCOLS;
      const protocol = pickProtocol(req, supported);
      if (!protocol) {
        return statusResponse(
          400,
          `${action} needs a WebSocket upgrade with protocol ${supported.join(" or ")}`,
        );
      }
      if (action === "portforward") {
        const found = endpoints.portForwardTarget(ns, pod);
        if ("code" in found) return statusResponse(found.code, found.message);
        if (protocol === CHANNEL_PORT_FORWARD_PROTOCOL) {
          const ports = q.getAll("ports").flatMap((p) => p.split(",")).map(Number)
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
      if (!container) return statusResponse(404, "the server could not find the requested resource");
      const streams = {
        stdin: queryFlag(q, "stdin", "input"),
        stdout: queryFlag(q, "stdout", "output"),
        stderr: queryFlag(q, "stderr", "error"),
      };
      if (action === "exec") {
        const found = endpoints.execTarget(ns, pod, container);
        if ("code" in found) return statusResponse(found.code, found.message);
        const { socket, response } = upgradeWithProtocol(req, protocol);
        serveExec(socket, found.runtime, found.target, { argv, ...streams, tty: queryFlag(q, "tty") });
        return response;
      }
      const found = endpoints.attachTarget(ns, pod, container);
      if ("code" in found) return statusResponse(found.code, found.message);
      const { socket, response } = upgradeWithProtocol(req, protocol);
      serveAttach(socket, found.running, {
        ...streams,
        stdin: streams.stdin && found.stdin,
        tty: found.tty,
        stdinOnce: found.stdinOnce,
      });
      return response;
    }
    return statusResponse(404, "the server could not find the requested resource");
  };
}
