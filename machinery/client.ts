/**
 * The typed client the controllers, the scheduler and the nodes use: the real REST paths over
 * any `fetch`-shaped transport. In one process (`kubedeno up`) the transport is the API
 * server's own fetch handler; as a separate process it is HTTPS from a kubeconfig
 * (`cli/kubeconfig.ts`). Failures come back as `StatusError`s with the server's code, reason
 * and message.
 */

import { RESOURCES } from "../openapi/generated/resources.ts";
import type { KubeObject } from "./object_meta.ts";
import { StatusError } from "./status.ts";

/** Sends one request; `fetch` itself, or a server's handler. */
export type Transport = (request: Request) => Promise<Response>;

export interface ClientConfig {
  /** Base URL of the API server, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** Bearer token. */
  token?: string;
  transport: Transport;
  userAgent?: string;
}

/** group, version, resource and scope of one served resource. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
  kind: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ObjectList<T = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** For apply: take over conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** The preferred version of `group/resource` from the served-resource table. */
export function resourceRef(group: string, resource: string): ResourceRef {
  const info = RESOURCES.find((r) => r.group === group && r.resource === resource);
  if (!info) throw new Error(`unknown resource ${resource}${group ? "." + group : ""}`);
  return { group, version: info.version, resource, namespaced: info.namespaced, kind: info.kind };
}

/** The `apiVersion` of a resource's objects. */
export function apiVersionOf(ref: Pick<ResourceRef, "group" | "version">): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

export class Client {
  readonly config: ClientConfig;
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(config: ClientConfig) {
    this.config = config;
    this.#base = config.server.replace(/\/$/, "");
    this.#headers = { accept: "application/json" };
    if (config.token) this.#headers.authorization = `Bearer ${config.token}`;
    if (config.userAgent) this.#headers["user-agent"] = config.userAgent;
  }

  /** A client for one resource, by group and plural name (`client.resource("apps", "deployments")`). */
  resource<T extends KubeObject = KubeObject>(group: string, resource: string): ResourceClient<T> {
    return new ResourceClient<T>(this, resourceRef(group, resource));
  }

  /** Sends a request to `path` (with query) and returns the parsed JSON; a non-2xx answer throws. */
  async request<R = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    signal?: AbortSignal,
  ): Promise<R> {
    const response = await this.send(method, path, body, contentType, signal);
    const text = await response.text();
    if (!response.ok) throw statusErrorFrom(response, text);
    return (text ? JSON.parse(text) : undefined) as R;
  }

  /** Sends a request and returns the raw response (the caller reads or streams the body). */
  send(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...this.#headers };
    const init: RequestInit = { method, headers, signal };
    if (body !== undefined) {
      headers["content-type"] = contentType;
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    return this.config.transport(new Request(this.#base + path, init));
  }
}

/** Turns a failed response into the StatusError its body describes (or one made from the code). */
export function statusErrorFrom(response: Response, text: string): StatusError {
  try {
    const s = JSON.parse(text);
    if (s && s.kind === "Status") {
      return new StatusError(s.code ?? response.status, s.reason ?? "", s.message ?? text, s.details);
    }
  } catch {
    // not JSON: fall through
  }
  return new StatusError(response.status, reasonForCode(response.status), text || response.statusText);
}

function reasonForCode(code: number): string {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    default:
      return code >= 500 ? "InternalError" : "";
  }
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** get, list, watch and the writes of one resource. */
export class ResourceClient<T extends KubeObject = KubeObject> {
  readonly ref: ResourceRef;
  readonly #client: Client;

  constructor(client: Client, ref: ResourceRef) {
    this.#client = client;
    this.ref = ref;
  }

  /** The collection path; `namespace` empty means across namespaces (or a cluster-scoped kind). */
  path(namespace = "", name?: string, subresource?: string): string {
    const { group, version, resource, namespaced } = this.ref;
    let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
    if (namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  get(namespace: string, name: string, subresource?: string): Promise<T> {
    return this.#client.request<T>("GET", this.path(namespace, name, subresource));
  }

  list(namespace = "", options: ListOptions = {}): Promise<ObjectList<T>> {
    return this.#client.request<ObjectList<T>>("GET", this.path(namespace) + query({ ...options }));
  }

  /** Every item, following `continue` pages of `pageSize`. */
  async listAll(namespace = "", options: ListOptions = {}, pageSize = 500): Promise<ObjectList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.list(namespace, { ...options, limit: pageSize, continue: cont });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      resourceVersion ??= page.metadata.resourceVersion;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  /**
   * Streams watch events until the server ends the stream or `signal` aborts. A failed request
   * throws a StatusError (e.g. 410 Expired); an expired revision mid-stream arrives as an
   * ERROR event carrying a Status.
   */
  async *watch(namespace = "", options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const { signal, ...params } = options;
    const response = await this.#client.send(
      "GET",
      this.path(namespace) + query({ watch: true, ...params }),
      undefined,
      undefined,
      signal,
    );
    if (!response.ok) throw statusErrorFrom(response, await response.text());
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const onAbort = () => reader.cancel().catch(() => {});
    signal?.addEventListener("abort", onAbort, { once: true });
    let buffered = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered = buffered ? buffered + value : value;
        // Every complete line of the chunk, then keep the partial one.
        let start = 0;
        let nl: number;
        while ((nl = buffered.indexOf("\n", start)) >= 0) {
          if (nl > start) {
            const line = buffered.slice(start, nl);
            if (line.trim()) yield JSON.parse(line) as WatchEvent<T>;
          }
          start = nl + 1;
        }
        buffered = start < buffered.length ? buffered.slice(start) : "";
      }
      const rest = buffered.trim();
      if (rest) yield JSON.parse(rest) as WatchEvent<T>;
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      reader.cancel().catch(() => {});
    }
  }

  create(namespace: string, obj: T, options: WriteOptions = {}): Promise<T> {
    return this.#client.request<T>("POST", this.path(namespace) + writeQuery(options), this.#typed(obj));
  }

  update(namespace: string, obj: T, options: WriteOptions = {}): Promise<T> {
    const name = obj.metadata?.name ?? "";
    return this.#client.request<T>("PUT", this.path(namespace, name) + writeQuery(options), this.#typed(obj));
  }

  /** PUT of the `status` subresource. */
  updateStatus(namespace: string, obj: T, options: WriteOptions = {}): Promise<T> {
    const name = obj.metadata?.name ?? "";
    return this.#client.request<T>(
      "PUT",
      this.path(namespace, name, "status") + writeQuery(options),
      this.#typed(obj),
    );
  }

  patch(
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<T> {
    const { subresource, ...write } = options;
    if (type === "apply" && !write.fieldManager) throw new Error("apply needs a fieldManager");
    return this.#client.request<T>(
      "PATCH",
      this.path(namespace, name, subresource) + writeQuery(write),
      patch,
      PATCH_CONTENT_TYPES[type],
    );
  }

  /** POST to a subresource of one object (`binding`, `eviction`). */
  createSubresource<R = unknown>(
    namespace: string,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<R> {
    return this.#client.request<R>("POST", this.path(namespace, name, subresource), body);
  }

  /** Deletes one object; answers the object (when deletion is pending) or a Status. */
  delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<T | KubeObject> {
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      ...options,
      dryRun: options.dryRun ? ["All"] : undefined,
    };
    return this.#client.request("DELETE", this.path(namespace, name), body);
  }

  deleteCollection(namespace: string, options: ListOptions & DeleteOptions = {}): Promise<ObjectList<T>> {
    const { labelSelector, fieldSelector, ...del } = options;
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      ...del,
      dryRun: del.dryRun ? ["All"] : undefined,
    };
    return this.#client.request(
      "DELETE",
      this.path(namespace) + query({ labelSelector, fieldSelector }),
      body,
    );
  }

  #typed(obj: T): T {
    if (obj.apiVersion && obj.kind) return obj;
    return { ...obj, apiVersion: apiVersionOf(this.ref), kind: this.ref.kind };
  }
}

function writeQuery(options: WriteOptions): string {
  return query({
    dryRun: options.dryRun ? "All" : undefined,
    fieldManager: options.fieldManager,
    force: options.force || undefined,
  });
}
