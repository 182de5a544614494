/**
 * `GET pods/{name}/log`: the API server picks the container (the only one, or the
 * `kubectl.kubernetes.io/default-container` annotation), checks the query as upstream does, and
 * streams the log from the node's own server (`/containerLogs/…` on the port the Node reports),
 * presenting its own credential as kube-apiserver does to kubelets. Like upstream by default, it
 * does not verify the node's (self-signed) serving certificate.
 */

import * as https from "node:https";
import { Readable } from "node:stream";
import { badRequest, StatusError } from "../machinery/status.ts";
import type { KubeObject } from "../machinery/object_meta.ts";
import type { Registry } from "./registry/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const INTEGER_PARAMS = ["tailLines", "limitBytes", "sinceSeconds"];
const FORWARDED = [
  "follow",
  "previous",
  "timestamps",
  "tailLines",
  "limitBytes",
  "sinceSeconds",
  "sinceTime",
];

/** The container a log request is for, or the upstream error when it cannot be told. */
export function logContainer(pod: Json, asked: string | null): string {
  const name = pod.metadata?.name;
  const all = [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ]
    .map((c: Json) => c.name as string);
  if (asked) {
    if (!all.includes(asked)) {
      throw badRequest(`container ${asked} is not valid for pod ${name}`);
    }
    return asked;
  }
  const annotated = pod.metadata?.annotations?.["kubectl.kubernetes.io/default-container"];
  if (annotated && all.includes(annotated)) return annotated;
  const containers = (pod.spec?.containers ?? []).map((c: Json) => c.name as string);
  if (containers.length === 1) return containers[0];
  const inits = (pod.spec?.initContainers ?? []).map((c: Json) => c.name as string);
  let message = `a container name must be specified for pod ${name}, choose one of: [${
    containers.join(" ")
  }]`;
  if (inits.length) message += ` or one of the init containers: [${inits.join(" ")}]`;
  throw badRequest(message);
}

/** The node's log endpoint for `pod`, or the error a client sees when there is none. */
export async function nodeEndpoint(registry: Registry, pod: Json): Promise<{ host: string; port: number }> {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) {
    throw badRequest(`pod ${pod.metadata?.name} does not have a host assigned`);
  }
  let node: KubeObject & { status?: Json };
  try {
    node = await registry.mustGet("", "nodes").get("", nodeName) as KubeObject & { status?: Json };
  } catch {
    throw new StatusError(500, "InternalError", `nodes "${nodeName}" not found`);
  }
  const addresses = (node.status?.addresses ?? []) as Array<{ type: string; address: string }>;
  const address = addresses.find((a) => a.type === "InternalIP") ??
    addresses.find((a) => a.type === "Hostname");
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
  if (!address || !port) {
    throw new StatusError(500, "InternalError", `node ${nodeName} reports no address for its endpoints`);
  }
  return { host: address.address, port };
}

/** Serves a pods/log request. `token` is the credential the API server presents to nodes. */
export async function handlePodLog(
  url: URL,
  registry: Registry,
  namespace: string,
  name: string,
  token: string,
): Promise<Response> {
  const q = url.searchParams;
  for (const p of INTEGER_PARAMS) {
    const v = q.get(p);
    if (v === null || v === "") continue;
    const n = Number(v);
    if (!Number.isInteger(n)) {
      throw badRequest(
        `unable to parse "${p}": strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`,
      );
    }
    if (n < (p === "sinceSeconds" ? 1 : 0)) {
      throw new StatusError(
        422,
        "Invalid",
        `PodLogOptions "${name}" is invalid: ${p}: Invalid value: ${n}: must be ${
          p === "sinceSeconds" ? "greater than 0" : "greater than or equal to 0"
        }`,
      );
    }
  }
  if (q.get("sinceSeconds") && q.get("sinceTime")) {
    throw new StatusError(
      422,
      "Invalid",
      `PodLogOptions "${name}" is invalid: : Forbidden: at most one of \`sinceTime\` or \`sinceSeconds\` may be specified`,
    );
  }
  const pod = await registry.mustGet("", "pods").get(namespace, name) as Json;
  const container = logContainer(pod, q.get("container"));
  const { host, port } = await nodeEndpoint(registry, pod);
  const query = new URLSearchParams();
  for (const p of FORWARDED) {
    const v = q.get(p);
    if (v !== null && v !== "") query.set(p, v);
  }
  const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${
    encodeURIComponent(container)
  }${query.size ? `?${query}` : ""}`;
  const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    const req = https.request({
      host,
      port,
      path,
      method: "GET",
      headers: { authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
    }, resolve);
    req.on("error", reject);
    req.end();
  }).catch((err) => {
    throw new StatusError(
      500,
      "InternalError",
      `Get "https://${host}:${port}${path}": ${(err as Error).message}`,
    );
  });
  const status = response.statusCode ?? 500;
  if (status !== 200) {
    // The node answers with a Status; pass its message on as the API server's.
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of response) text += decoder.decode(chunk as Uint8Array, { stream: true });
    let message = text;
    try {
      message = JSON.parse(text).message ?? text;
    } catch {
      // not a Status
    }
    throw new StatusError(
      status === 404 ? 404 : status >= 500 ? 500 : 400,
      status === 404 ? "NotFound" : status >= 500 ? "InternalError" : "BadRequest",
      message,
    );
  }
  const body = Readable.toWeb(response) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers: { "content-type": "text/plain" } });
}
