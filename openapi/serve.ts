/**
 * Serves `/openapi/v3` (the index of group-version documents with their hashes) and each
 * document, from the generated, prose-free copies. Documents are read and unzipped on first
 * use, so start-up stays fast.
 */

const GENERATED = new URL("./generated/v3/", import.meta.url);

interface IndexEntry {
  file: string;
  hash: string;
}

export interface OpenApiServer {
  handle(req: Request): Promise<Response | undefined>;
  /** The group-version paths served (`api/v1`, `apis/apps/v1`, …). */
  paths(): string[];
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function notFound(): Response {
  return new Response(
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "the server could not find the requested resource",
      reason: "NotFound",
      details: {},
      code: 404,
    }),
    { status: 404, headers: { "content-type": "application/json" } },
  );
}

/**
 * `/openapi/v2` in protobuf (gnostic `openapi_v2.Document`), as kubectl before 1.30 reads it.
 * For now it carries the document's header only (swagger 1 = "2.0", info 2 = {title 1,
 * version 2}) and no paths or definitions, so such clients skip client-side schema checks and
 * leave validation to the server; the full document comes with the schema work.
 */
const OPENAPI_V2_HEADER = (() => {
  const enc = new TextEncoder();
  const field = (num: number, bytes: Uint8Array) => [num * 8 + 2, bytes.length, ...bytes];
  const info = field(1, enc.encode("Kubernetes")).concat(field(2, enc.encode("v1.33.0")));
  return Uint8Array.from([...field(1, enc.encode("2.0")), ...field(2, Uint8Array.from(info))]);
})();

/** Loads the index of generated documents. */
export async function loadOpenApi(): Promise<OpenApiServer> {
  const index: Record<string, IndexEntry> = JSON.parse(await Deno.readTextFile(new URL("index.json", GENERATED)));
  const cache = new Map<string, Promise<Uint8Array>>();
  const documentBytes = (path: string): Promise<Uint8Array> => {
    let p = cache.get(path);
    if (!p) {
      p = Deno.readFile(new URL(index[path].file, GENERATED)).then(gunzip);
      cache.set(path, p);
    }
    return p;
  };
  const root = JSON.stringify({
    paths: Object.fromEntries(
      Object.entries(index).map(([path, e]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${e.hash}` }]),
    ),
  });

  return {
    paths: () => Object.keys(index),
    async handle(req: Request): Promise<Response | undefined> {
      const url = new URL(req.url);
      if (url.pathname === "/openapi/v3" || url.pathname === "/openapi/v3/") {
        return new Response(root, { headers: { "content-type": "application/json" } });
      }
      if (url.pathname === "/openapi/v2") {
        return new Response(OPENAPI_V2_HEADER as BodyInit, {
          headers: { "content-type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" },
        });
      }
      if (!url.pathname.startsWith("/openapi/v3/")) return undefined;
      const path = url.pathname.slice("/openapi/v3/".length).replace(/\/$/, "");
      const entry = index[path];
      if (!entry) return notFound();
      const etag = `"${entry.hash}"`;
      const hash = url.searchParams.get("hash");
      const headers: Record<string, string> = {
        "content-type": "application/json",
        etag,
        "cache-control": hash === entry.hash ? "public, immutable" : "no-cache, private",
        vary: "Accept",
      };
      if (hash && hash !== entry.hash) {
        // An old hash: send the client to the current document, as upstream does.
        return new Response(null, {
          status: 301,
          headers: { location: `/openapi/v3/${path}?hash=${entry.hash}`, "cache-control": "no-cache, private" },
        });
      }
      if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
      return new Response((await documentBytes(path)) as BodyInit, { headers });
    },
  };
}
