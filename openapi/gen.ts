/**
 * `deno task gen`: turns the Kubernetes v1.33 OpenAPI v3 documents (`../shared/k8s`, or
 * `$KUBEDENO_SHARED_K8S`) into the project's generated facts, leaving the spec's prose behind:
 *
 * - `openapi/generated/resources.ts`: every served resource (kind, scope, verbs, subresources),
 *   merged with what the documents do not say (short names, categories) from `resource_facts.ts`;
 * - `openapi/generated/v3/<document>.json`: each served group-version's document, minified, with
 *   every `description` and `externalDocs` removed;
 * - `openapi/generated/v3/index.json`: each document's file and SHA-512 hash, as `/openapi/v3` lists them.
 *
 * Deterministic: the same input writes the same bytes.
 */

import type { ResourceInfo, SubresourceInfo } from "./resources.ts";
import { RESOURCE_FACTS, type ResourceFacts } from "./resource_facts.ts";

/**
 * The group-versions served, in the order upstream's `/apis` lists groups (core first; within a
 * group the preferred version first).
 */
export const SERVED_GROUP_VERSIONS: readonly string[] = [
  "v1",
  "apiregistration.k8s.io/v1",
  "apps/v1",
  "events.k8s.io/v1",
  "authentication.k8s.io/v1",
  "authorization.k8s.io/v1",
  "autoscaling/v2",
  "autoscaling/v1",
  "batch/v1",
  "certificates.k8s.io/v1",
  "networking.k8s.io/v1",
  "policy/v1",
  "rbac.authorization.k8s.io/v1",
  "storage.k8s.io/v1",
  "admissionregistration.k8s.io/v1",
  "apiextensions.k8s.io/v1",
  "scheduling.k8s.io/v1",
  "coordination.k8s.io/v1",
  "node.k8s.io/v1",
  "discovery.k8s.io/v1",
  "flowcontrol.apiserver.k8s.io/v1",
];

/** Splits `apps/v1` into `["apps", "v1"]` and `v1` into `["", "v1"]`. */
export function splitGroupVersion(gv: string): [group: string, version: string] {
  const slash = gv.indexOf("/");
  return slash < 0 ? ["", gv] : [gv.slice(0, slash), gv.slice(slash + 1)];
}

/** The upstream document's file name: `api__v1_openapi.json`, `apis__apps__v1_openapi.json`. */
export function documentFileName(gv: string): string {
  const [group, version] = splitGroupVersion(gv);
  return group ? `apis__${group}__${version}_openapi.json` : `api__${version}_openapi.json`;
}

/** The document's name under `/openapi/v3/`: `api/v1`, `apis/apps/v1`. */
export function documentPath(gv: string): string {
  const [group, version] = splitGroupVersion(gv);
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Discovery's verb for each `x-kubernetes-action` (connect is handled per subresource). */
const ACTION_VERBS: Record<string, string> = {
  get: "get",
  list: "list",
  post: "create",
  put: "update",
  patch: "patch",
  delete: "delete",
  deletecollection: "deletecollection",
};

/** The actions of the deprecated `/watch/…` paths, which give the watch verb. */
const WATCH_ACTIONS: Record<string, string> = { watch: "watch", watchlist: "watch" };

/** Discovery's verbs for connect subresources, as a real server lists them. */
const CONNECT_VERBS: Record<string, string[]> = {
  attach: ["create", "get"],
  exec: ["create", "get"],
  portforward: ["create", "get"],
  proxy: ["create", "delete", "get", "patch", "update"],
  log: ["get"],
};

/** The group, version and kind an operation takes. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

interface Operation {
  "x-kubernetes-action"?: string;
  "x-kubernetes-group-version-kind"?: GroupVersionKind;
}

/** The part of a v3 document that resources are read from. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

/** What a path says about the resource it serves. */
export interface ResourcePath {
  resource: string;
  namespaced: boolean;
  /** Set for `/{name}/<subresource>` paths. */
  subresource?: string;
  /** A deprecated `/watch/...` path. */
  watch: boolean;
}

/**
 * Reads a path below a group-version's prefix (`/api/v1/`, `/apis/apps/v1/`). Returns undefined
 * for paths that name no resource (the group-version root).
 */
export function parseResourcePath(prefix: string, path: string): ResourcePath | undefined {
  if (!path.startsWith(prefix)) return undefined;
  let segments = path.slice(prefix.length).split("/").filter((s) => s !== "");
  const watch = segments[0] === "watch";
  if (watch) segments = segments.slice(1);
  // `namespaces/{namespace}/…` scopes what follows; `namespaces/{name}` is the namespaces resource.
  const namespaced = segments[0] === "namespaces" && segments[1] === "{namespace}" && segments.length > 2;
  if (namespaced) segments = segments.slice(2);
  const [resource, name, subresource] = segments;
  if (!resource || resource.startsWith("{")) return undefined;
  if (name !== undefined && name !== "{name}") return undefined;
  return subresource === undefined
    ? { resource, namespaced, watch }
    : { resource, namespaced, subresource, watch };
}

function operationsOf(item: Record<string, unknown>): Operation[] {
  return Object.values(item).filter((op): op is Operation =>
    op !== null && typeof op === "object" && !Array.isArray(op) &&
    typeof (op as Operation)["x-kubernetes-action"] === "string"
  );
}

function addVerbs(list: string[], verbs: string[]): void {
  for (const verb of verbs) if (!list.includes(verb)) list.push(verb);
}

function byName(
  a: { name: string } | { resource: string },
  b: { name: string } | { resource: string },
): number {
  const x = "name" in a ? a.name : a.resource;
  const y = "name" in b ? b.name : b.resource;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Applies the hand-written facts (short names, categories, singular name) to a resource. */
export function withFacts(info: ResourceInfo, facts: ResourceFacts | undefined): ResourceInfo {
  if (!facts) return info;
  const out = { ...info };
  if (facts.singularName) out.singularName = facts.singularName;
  if (facts.shortNames) out.shortNames = [...facts.shortNames];
  if (facts.categories) out.categories = [...facts.categories];
  return out;
}

/**
 * Reads every resource of one group-version from its v3 document: kind and scope from the
 * operations' `x-kubernetes-group-version-kind` and paths, verbs from `x-kubernetes-action`,
 * sorted by resource name, verbs sorted as `kubectl api-resources -o wide` prints them.
 */
export function resourcesOf(
  gv: string,
  doc: OpenApiDocument,
  options: { facts?: Record<string, ResourceFacts> } = {},
): ResourceInfo[] {
  const facts = options.facts ?? RESOURCE_FACTS;
  const [group, version] = splitGroupVersion(gv);
  const prefix = group ? `/apis/${group}/${version}/` : `/api/${version}/`;
  const resources = new Map<string, ResourceInfo>();
  const subresources = new Map<string, Map<string, SubresourceInfo>>();
  const resourceFor = (parsed: ResourcePath, kind: string): ResourceInfo => {
    let info = resources.get(parsed.resource);
    if (!info) {
      info = {
        group,
        version,
        resource: parsed.resource,
        kind,
        singularName: kind.toLowerCase(),
        namespaced: false,
        verbs: [],
        subresources: [],
      };
      resources.set(parsed.resource, info);
    }
    if (parsed.namespaced) info.namespaced = true;
    return info;
  };

  const paths = Object.keys(doc.paths).sort();
  // Resources first, so that subresources (whose kind may differ) never name the parent's kind.
  // The deprecated `/watch/…` forms exist exactly for the resources that serve watch (every list
  // takes a `watch` parameter, even componentstatuses', which cannot watch): they give that verb
  // and nothing else.
  const passOf = (p: ResourcePath) =>
    p.watch ? "watch" : p.subresource === undefined ? "resource" : "subresource";
  for (const pass of ["resource", "watch", "subresource"] as const) {
    for (const path of paths) {
      const parsed = parseResourcePath(prefix, path);
      if (!parsed || passOf(parsed) !== pass) continue;
      if (pass !== "resource" && !resources.has(parsed.resource)) continue;
      for (const op of operationsOf(doc.paths[path])) {
        const action = op["x-kubernetes-action"]!;
        const gvk = op["x-kubernetes-group-version-kind"];
        if (!gvk) continue;
        if (pass !== "subresource") {
          const verb = pass === "watch" ? WATCH_ACTIONS[action] : ACTION_VERBS[action];
          addVerbs(resourceFor(parsed, gvk.kind).verbs, verb ? [verb] : []);
          continue;
        }
        const name = parsed.subresource!;
        let subs = subresources.get(parsed.resource);
        if (!subs) subresources.set(parsed.resource, subs = new Map());
        let sub = subs.get(name);
        if (!sub) {
          sub = { name, kind: gvk.kind, verbs: [] };
          if (gvk.group !== group || gvk.version !== version) {
            sub.group = gvk.group;
            sub.version = gvk.version;
          }
          subs.set(name, sub);
        }
        const verbs = action === "connect"
          ? CONNECT_VERBS[name] ?? ["get"]
          : ACTION_VERBS[action]
          ? [ACTION_VERBS[action]]
          : [];
        addVerbs(sub.verbs, verbs);
      }
    }
  }

  return [...resources.values()].sort(byName).map((info) => {
    info.verbs.sort();
    info.subresources = [...(subresources.get(info.resource)?.values() ?? [])]
      .map((s) => ({ ...s, verbs: [...s.verbs].sort() }))
      .sort(byName);
    return withFacts(info, facts[`${group}/${info.resource}`]);
  });
}

/** Keys holding maps of names (not schema keywords): a property named `description` is kept. */
const NAME_MAP_KEYS = new Set([
  "properties",
  "patternProperties",
  "paths",
  "schemas",
  "responses",
  "content",
  "definitions",
  "parameters",
  "securityDefinitions",
]);

/**
 * Removes the spec's prose: every `description` and `externalDocs` keyword, at any depth. Keys
 * of name maps (`properties`, …) are names, not keywords, and are kept.
 */
export function stripProse(value: unknown, options: { nameMap?: boolean } = {}): unknown {
  if (Array.isArray(value)) return value.map((v) => stripProse(v));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (!options.nameMap && (key === "description" || key === "externalDocs")) continue;
    out[key] = options.nameMap ? stripProse(child) : stripProse(child, { nameMap: NAME_MAP_KEYS.has(key) });
  }
  return out;
}

/** Upper-case hex SHA-512, as upstream names `/openapi/v3` documents. */
export async function sha512Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** One entry of `generated/v3/index.json`. */
export interface DocumentIndexEntry {
  /** File name in `generated/v3/`. */
  file: string;
  /** Upper-case hex SHA-512 of the served (uncompressed) bytes. */
  hash: string;
}

/** Documents above this size are written gzip-compressed (`.json.gz`). */
const MAX_PLAIN_BYTES = 1024 * 1024;

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function renderResources(resources: ResourceInfo[]): string {
  const rows = resources.map((r) => `  ${JSON.stringify(r)},`).join("\n");
  return "// Generated by openapi/gen.ts from the Kubernetes v1.33 OpenAPI v3 documents. Do not edit.\n" +
    'import type { ResourceInfo } from "../resources.ts";\n\n' +
    "/** Every served resource of every served group-version. */\n" +
    `export const RESOURCES: ResourceInfo[] = [\n${rows}\n];\n`;
}

/** The group-version a path names (`v1`, `apps/v1`), `group/` for a group's root, or undefined. */
function groupVersionOfPath(path: string): string | undefined {
  const s = path.split("/");
  if (s[1] === "api" && s[2]) return s[2];
  if (s[1] === "apis" && s[2]) return s[3] ? `${s[2]}/${s[3]}` : `${s[2]}/`;
  return undefined;
}

/**
 * Whether a v2 path is served: paths of served group-versions and of their groups' roots, and the
 * paths of no group-version (`/api/`, `/apis/`, `/version/`, …).
 */
export function isServedPath(path: string, served: readonly string[] = SERVED_GROUP_VERSIONS): boolean {
  const gv = groupVersionOfPath(path);
  if (gv === undefined) return true;
  return gv.endsWith("/") ? served.some((s) => s.startsWith(gv)) : served.includes(gv);
}

/** Every `#/definitions/<name>` that a value refers to, directly. */
function definitionRefs(value: unknown, out: string[]): string[] {
  if (Array.isArray(value)) {
    for (const v of value) definitionRefs(v, out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" && typeof child === "string" && child.startsWith("#/definitions/")) {
        out.push(child.slice("#/definitions/".length));
      } else definitionRefs(child, out);
    }
  }
  return out;
}

/** The part of a Swagger 2.0 document that is filtered. */
export interface SwaggerDocument {
  paths: Record<string, unknown>;
  definitions?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The Swagger 2.0 document of what is served: paths of unserved group-versions dropped, then
 * definitions no kept path or parameter reaches (directly or through other definitions).
 */
export function servedSwagger(
  doc: SwaggerDocument,
  served: readonly string[] = SERVED_GROUP_VERSIONS,
): SwaggerDocument {
  const paths = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => isServedPath(path, served)));
  const definitions = doc.definitions ?? {};
  const reached = new Set<string>();
  const queue = definitionRefs([paths, doc.parameters ?? {}], []);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reached.has(name) || !Object.hasOwn(definitions, name)) continue;
    reached.add(name);
    definitionRefs(definitions[name], queue);
  }
  const kept = Object.fromEntries(Object.entries(definitions).filter(([name]) => reached.has(name)));
  return { ...doc, paths, definitions: kept };
}

/** Writes bytes as `<file>`, or gzip-compressed as `<file>.gz` when over 1 MiB; returns the name used. */
async function writeDocument(dir: string, file: string, bytes: Uint8Array): Promise<string> {
  const big = bytes.length > MAX_PLAIN_BYTES;
  const outFile = big ? `${file}.gz` : file;
  await Deno.writeFile(`${dir}/${outFile}`, big ? await gzip(bytes) : bytes);
  return outFile;
}

async function clearDocuments(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /\.json(\.gz)?$/.test(entry.name)) await Deno.remove(`${dir}/${entry.name}`);
  }
}

/**
 * Writes the resource table, the prose-free v3 documents and their index (`v3/index.json`), and
 * the prose-free v2 document of what is served (`v2/swagger.json`, indexed by `v2/index.json`).
 */
export async function generate(options: { sharedDir: string; outDir: string }): Promise<ResourceInfo[]> {
  const { sharedDir, outDir } = options;
  await clearDocuments(`${outDir}/v3`);
  await clearDocuments(`${outDir}/v2`);
  const resources: ResourceInfo[] = [];
  const index: Record<string, DocumentIndexEntry> = {};
  for (const gv of SERVED_GROUP_VERSIONS) {
    const file = documentFileName(gv);
    const doc = JSON.parse(await Deno.readTextFile(`${sharedDir}/openapi/v3/${file}`));
    resources.push(...resourcesOf(gv, doc));
    const bytes = new TextEncoder().encode(JSON.stringify(stripProse(doc)));
    index[documentPath(gv)] = {
      file: await writeDocument(`${outDir}/v3`, file, bytes),
      hash: await sha512Hex(bytes),
    };
  }
  const swagger = JSON.parse(await Deno.readTextFile(`${sharedDir}/openapi/v2/swagger.json`));
  const v2 = new TextEncoder().encode(JSON.stringify(stripProse(servedSwagger(swagger))));
  const v2Entry: DocumentIndexEntry = {
    file: await writeDocument(`${outDir}/v2`, "swagger.json", v2),
    hash: await sha512Hex(v2),
  };
  await Deno.writeTextFile(`${outDir}/v2/index.json`, JSON.stringify(v2Entry, null, 1) + "\n");
  await Deno.writeTextFile(`${outDir}/v3/index.json`, JSON.stringify(index, null, 1) + "\n");
  await Deno.writeTextFile(`${outDir}/resources.ts`, renderResources(resources));
  return resources;
}

/**
 * Where a generator reads and writes: `--shared DIR` (or KUBEDENO_SHARED_K8S, default
 * ../shared/k8s beside the project) and `--out DIR` (default openapi/generated).
 */
export function generatorPaths(args: string[] = Deno.args): { sharedDir: string; outDir: string } {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const root = new URL("..", import.meta.url).pathname;
  return {
    sharedDir: flag("--shared") ?? Deno.env.get("KUBEDENO_SHARED_K8S") ?? `${root}../shared/k8s`,
    outDir: flag("--out") ?? `${root}openapi/generated`,
  };
}

if (import.meta.main) {
  const resources = await generate(generatorPaths());
  console.log(`Generated ${resources.length} resources in ${SERVED_GROUP_VERSIONS.length} group-versions.`);
}
