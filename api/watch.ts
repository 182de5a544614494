/**
 * Watch responses: one JSON event per line (`{"type":"ADDED","object":{…}}`), flushed as it
 * happens, with periodic BOOKMARKs when asked, ERROR events for expired revisions, and Table
 * objects for `kubectl get -w`.
 */

import { badRequest, StatusError } from "../machinery/status.ts";
import type { KubeObject } from "../machinery/object_meta.ts";
import type { ResourceStore, WatchEventType } from "./registry/resource_store.ts";
import type { Watcher } from "../storage/store.ts";
import type { OutputFormat } from "./negotiate.ts";
import { partialObjectMetadata, toTable } from "./encode.ts";
import { buildFilter } from "./filter.ts";
import { isTrueParam } from "./request_info.ts";

/** How often a BOOKMARK goes out on watches that allow them. */
export const BOOKMARK_INTERVAL_MS = Number(Deno.env.get("KUBEDENO_BOOKMARK_INTERVAL_MS") ?? 60_000);
/** Bytes a slow watcher may fall behind before its watch is ended. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** Upstream's default watch length: between 30 and 60 minutes. */
const MIN_REQUEST_TIMEOUT_S = 1800;

const encoder = new TextEncoder();

/** Starts a watch of `store` in `namespace` and returns the streaming response. */
export async function serveWatch(
  _req: Request,
  url: URL,
  store: ResourceStore,
  namespace: string,
  name: string,
  format: OutputFormat,
  open?: Set<() => void>,
): Promise<Response> {
  const q = url.searchParams;
  const timeoutParam = q.get("timeoutSeconds");
  let timeoutSeconds = MIN_REQUEST_TIMEOUT_S * (1 + Math.random());
  if (timeoutParam !== null && timeoutParam !== "") {
    const n = Number(timeoutParam);
    if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid timeoutSeconds: ${timeoutParam}`);
    if (n > 0) timeoutSeconds = n;
  }
  const allowBookmarks = isTrueParam(q.get("allowWatchBookmarks"));
  const sendInitialEventsParam = q.get("sendInitialEvents");
  const sendInitialEvents = sendInitialEventsParam === null ? undefined : isTrueParam(sendInitialEventsParam);
  if (sendInitialEvents !== undefined && q.get("resourceVersionMatch") !== "NotOlderThan") {
    throw new StatusError(
      422,
      "Invalid",
      `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan`,
      {},
    );
  }
  if (sendInitialEvents && !allowBookmarks) {
    throw new StatusError(
      422,
      "Invalid",
      `ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Required value: sendInitialEvents requires allowWatchBookmarks=true`,
      {},
    );
  }
  let fieldSelector = q.get("fieldSelector");
  if (name) {
    fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${name}` : `metadata.name=${name}`;
  }
  const filter = buildFilter(store.info, q.get("labelSelector"), fieldSelector);
  const includeObject = q.get("includeObject") ?? undefined;

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let watcher: (Watcher & { startRevision: number }) | undefined;
  let closed = false;
  let lastRevision = q.get("resourceVersion") ?? "";
  let headersSent = false;
  const timers: ReturnType<typeof setTimeout>[] = [];

  const close = () => {
    if (closed) return;
    closed = true;
    open?.delete(close);
    watcher?.stop();
    for (const t of timers) clearTimeout(t), clearInterval(t);
    try {
      controller.close();
    } catch { /* already closed or errored */ }
  };

  const write = (type: string, object: unknown, shared = false) => {
    if (closed) return;
    const line = shared
      ? sharedLine(type, object as object)
      : encoder.encode(JSON.stringify({ type, object }) + "\n");
    controller.enqueue(line);
    if ((controller.desiredSize ?? 0) < 0) close();
  };

  const encodeObject = (obj: KubeObject): unknown => {
    if (format.kind === "table") {
      const table = toTable(store.info, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? "" }, {
        version: format.version,
        includeObject,
        noHeaders: headersSent,
      });
      headersSent = true;
      return table;
    }
    if (format.kind === "metadata") return partialObjectMetadata(obj, format.version);
    return obj;
  };

  const bookmark = (annotations?: Record<string, string>) => {
    const metadata: Record<string, unknown> = { resourceVersion: lastRevision };
    if (annotations) metadata.annotations = annotations;
    write("BOOKMARK", { kind: store.info.kind, apiVersion: store.apiVersion, metadata });
  };

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      close();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: MAX_BUFFERED_BYTES }));

  open?.add(close);
  try {
    watcher = await store.watch(namespace, {
      filter,
      resourceVersion: q.get("resourceVersion") ?? undefined,
      sendInitialEvents,
    }, {
      event(type: WatchEventType, obj: KubeObject) {
        lastRevision = obj.metadata?.resourceVersion ?? lastRevision;
        // Plain JSON events are encoded once and shared by all watchers of the same change.
        if (format.kind === "json" || format.kind === "yaml") write(type, obj, true);
        else write(type, encodeObject(obj));
      },
      initialEventsEnd(resourceVersion: string) {
        lastRevision = resourceVersion;
        bookmark({ "k8s.io/initial-events-end": "true" });
      },
      error(err: StatusError) {
        write("ERROR", err.toStatus());
        close();
      },
    });
  } catch (err) {
    if (err instanceof StatusError && err.code === 410) {
      // An expired revision is told inside the stream, as upstream does.
      write("ERROR", err.toStatus());
      close();
      return new Response(body, { headers: watchHeaders() });
    }
    close();
    throw err;
  }
  if (closed) watcher?.stop();
  if (!lastRevision || lastRevision === "0") lastRevision = String(watcher?.startRevision ?? "");
  timers.push(setTimeout(close, timeoutSeconds * 1000));
  if (allowBookmarks) timers.push(setInterval(() => bookmark(), BOOKMARK_INTERVAL_MS));
  return new Response(body, { headers: watchHeaders() });
}

/** Encoded event lines by object and event type: one JSON.stringify per change, not per watcher. */
const lineCache = new WeakMap<object, Map<string, Uint8Array>>();

function sharedLine(type: string, object: object): Uint8Array {
  let byType = lineCache.get(object);
  if (!byType) {
    byType = new Map();
    lineCache.set(object, byType);
  }
  let line = byType.get(type);
  if (!line) {
    line = encoder.encode(JSON.stringify({ type, object }) + "\n");
    byType.set(type, line);
  }
  return line;
}

function watchHeaders(): HeadersInit {
  return {
    "content-type": "application/json",
    "cache-control": "no-cache, private",
    "x-content-type-options": "nosniff",
  };
}
