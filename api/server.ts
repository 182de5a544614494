/**
 * The API server as a Hono app: authentication, health, version, discovery, OpenAPI, and the
 * resource paths, all web-standard so it can be driven with `app.request()` in tests.
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type { Store } from "../storage/store.ts";
import { internalError, shuttingDown, StatusError, unauthorized } from "../machinery/status.ts";
import { parseRequestInfo } from "./request_info.ts";
import { type AdmissionOptions, Registry } from "./registry/mod.ts";
import { aggregatedContentType, aggregatedVersionWanted, Discovery } from "./discovery.ts";
import { handleResource, resourceNotFound } from "./handlers.ts";
import { jsonResponse, statusResponse } from "./encode.ts";

/** What `/version` reports: kubectl's dispatcher picks its binary by `minor`. */
export const VERSION_INFO = {
  major: "1",
  minor: "33",
  emulationMajor: "1",
  emulationMinor: "33",
  minCompatibilityMajor: "1",
  minCompatibilityMinor: "32",
  gitVersion: "v1.33.0+kubedeno",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.24.0",
  compiler: "gc",
  platform: "linux/amd64",
};

/** Paths anyone may read without credentials, as upstream's public-info-viewer allows. */
const PUBLIC_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version"]);

/** Serves OpenAPI documents; returns undefined for paths it does not own. */
export interface OpenApiHandler {
  handle(req: Request): Response | undefined | Promise<Response | undefined>;
}

export interface ApiServerOptions {
  store: Store;
  /** The admin bearer token; requests without it get 401. */
  token: string;
  /** `host:port` as clients reach the server, for legacy discovery. */
  serverAddress?: string;
  openapi?: OpenApiHandler;
  /** Whether the server is ready (`/readyz`). */
  isReady?: () => boolean;
  /** Tunables of the admission plugins. */
  admission?: AdmissionOptions;
}

export interface ApiServer {
  app: Hono;
  registry: Registry;
  fetch(req: Request): Promise<Response>;
  /**
   * Begins shutting down: every open watch ends cleanly and any request that comes after
   * gets 429 with Retry-After, so clients retry against the next server instead of waiting
   * on a connection that is about to vanish.
   */
  closeWatches(): void;
  /** Ends every open watch stream (clients resume from their last revision); serving goes on. */
  endWatches(): void;
}

const HEALTH_CHECKS = [
  "ping",
  "log",
  "etcd",
  "informer-sync",
  "poststarthook/start-apiextensions-controllers",
];

function healthResponse(c: Context, ok: boolean, name: string): Response {
  const verbose = c.req.query("verbose") !== undefined;
  if (!verbose) {
    return c.text(ok ? "ok" : `[-]${name} failed: reason withheld\n${name} check failed`, ok ? 200 : 500);
  }
  const lines = HEALTH_CHECKS.map((check) => `[${ok || check !== "etcd" ? "+" : "-"}]${check} ok`);
  return c.text(`${lines.join("\n")}\n${name} check ${ok ? "passed" : "failed"}\n`, ok ? 200 : 500);
}

/** Constant-time comparison of two strings. */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Builds the API server over `store`. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const registry = new Registry(options.store, undefined, options.admission);
  const discovery = new Discovery(registry);
  const isReady = options.isReady ?? (() => true);
  const watches = new Set<() => void>();
  let closing = false;
  const app = new Hono();

  app.onError((err) => {
    if (err instanceof StatusError) return statusResponse(err);
    console.error("Internal error:", err);
    return statusResponse(internalError((err as Error)?.message ?? String(err)));
  });
  app.notFound(() => statusResponse(resourceNotFound()));

  app.use("*", async (c, next) => {
    const path = c.req.path;
    if (
      PUBLIC_PATHS.has(path) || path.startsWith("/readyz/") || path.startsWith("/livez/") ||
      path.startsWith("/healthz/")
    ) {
      return await next();
    }
    if (closing) {
      const res = statusResponse(shuttingDown());
      res.headers.set("retry-after", "5");
      res.headers.set("connection", "close");
      return res;
    }
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !sameToken(m[1].trim(), options.token)) return statusResponse(unauthorized());
    await next();
  });

  app.get("/version", () => jsonResponse(VERSION_INFO));
  app.get("/healthz", (c) => healthResponse(c, true, "healthz"));
  app.get("/livez", (c) => healthResponse(c, true, "livez"));
  app.get("/readyz", (c) => healthResponse(c, isReady(), "readyz"));
  app.get("/livez/:check", (c) => c.text("ok"));
  app.get("/readyz/:check", (c) => c.text("ok"));
  app.get("/healthz/:check", (c) => c.text("ok"));

  const discoveryAnswer = (c: Context, prefix: "api" | "apis", legacy: () => string) => {
    const version = aggregatedVersionWanted(c.req.header("accept") ?? null);
    if (version) {
      return new Response(discovery.aggregated(prefix, version), {
        headers: { "content-type": aggregatedContentType(version), vary: "Accept" },
      });
    }
    return new Response(legacy(), { headers: { "content-type": "application/json", vary: "Accept" } });
  };
  app.get(
    "/api",
    (c) => discoveryAnswer(c, "api", () => discovery.apiVersions(options.serverAddress ?? "127.0.0.1:6443")),
  );
  app.get("/apis", (c) => discoveryAnswer(c, "apis", () => discovery.apiGroupList()));
  app.get("/api/:version", (c) => {
    const body = discovery.apiResourceList("", c.req.param("version"));
    if (!body) return statusResponse(resourceNotFound());
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  app.get("/apis/:group", (c) => {
    const body = discovery.apiGroup(c.req.param("group"));
    if (!body) return statusResponse(resourceNotFound());
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  app.get("/apis/:group/:version", (c) => {
    const body = discovery.apiResourceList(c.req.param("group"), c.req.param("version"));
    if (!body) return statusResponse(resourceNotFound());
    return new Response(body, { headers: { "content-type": "application/json" } });
  });

  app.all("*", async (c) => {
    const req = c.req.raw;
    const url = new URL(req.url);
    if (url.pathname.startsWith("/openapi/") && options.openapi) {
      const res = await options.openapi.handle(req);
      if (res) return res;
    }
    const info = parseRequestInfo(req.method, url.pathname, url.searchParams);
    if (!info.isResourceRequest) return statusResponse(resourceNotFound());
    return await handleResource(req, url, info, { registry, watches, token: options.token });
  });

  return {
    app,
    registry,
    fetch: (req: Request) => Promise.resolve(app.fetch(req)),
    closeWatches: () => {
      closing = true;
      for (const close of [...watches]) close();
    },
    endWatches: () => {
      for (const close of [...watches]) close();
    },
  };
}
