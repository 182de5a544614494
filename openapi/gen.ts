/**
 * `deno task gen`: turns the Kubernetes v1.33 OpenAPI v3 documents (../shared/k8s) into the
 * project's generated facts, without the spec's prose:
 *
 * - `openapi/generated/resources.ts`: every served resource (kind, scope, verbs, subresources)
 *   merged with the facts the spec lacks (short names, categories) from `resource_facts.ts`;
 * - `openapi/generated/v3/*.json.gz`: each served group-version's document, descriptions removed;
 * - `openapi/generated/v3/index.json`: their hashes, as `/openapi/v3` lists them.
 *
 * Deterministic: the same input writes the same bytes.
 */

import type { ResourceInfo, SubresourceInfo } from "./resources.ts";
import { RESOURCE_FACTS } from "./resource_facts.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SHARED = Deno.env.get("KUBEDENO_SHARED_K8S") ?? `${ROOT}../shared/k8s`;
const OUT = `${ROOT}openapi/generated`;

/** The group-versions a stock v1.33 cluster serves (GA only). */
export const SERVED_GROUP_VERSIONS = [
  "v1",
  "admissionregistration.k8s.io/v1",
  "apiextensions.k8s.io/v1",
  "apiregistration.k8s.io/v1",
  "apps/v1",
  "authentication.k8s.io/v1",
  "authorization.k8s.io/v1",
  "autoscaling/v2",
  "autoscaling/v1",
  "batch/v1",
  "certificates.k8s.io/v1",
  "coordination.k8s.io/v1",
  "discovery.k8s.io/v1",
  "events.k8s.io/v1",
  "flowcontrol.apiserver.k8s.io/v1",
  "networking.k8s.io/v1",
  "node.k8s.io/v1",
  "policy/v1",
  "rbac.authorization.k8s.io/v1",
  "scheduling.k8s.io/v1",
  "storage.k8s.io/v1",
];

/** `api__v1_openapi.json` for v1, `apis__apps__v1_openapi.json` for apps/v1. */
export function documentFileName(gv: string): string {
  return gv === "v1" ? "api__v1_openapi.json" : `apis__${gv.replace("/", "__")}_openapi.json`;
}

/** `api/v1` or `apis/apps/v1`, as `/openapi/v3` names a document. */
export function documentPath(gv: string): string {
  return gv === "v1" ? "api/v1" : `apis/${gv}`;
}

const ACTION_VERB: Record<string, string> = {
  get: "get",
  list: "list",
  post: "create",
  put: "update",
  patch: "patch",
  delete: "delete",
  deletecollection: "deletecollection",
  watch: "watch",
  watchlist: "watch",
};

/** Discovery verbs of connect subresources, as a real server lists them. */
const CONNECT_VERBS: Record<string, string[]> = {
  exec: ["create", "get"],
  attach: ["create", "get"],
  portforward: ["create", "get"],
  proxy: ["create", "delete", "get", "patch", "update"],
};

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

type Operation = { "x-kubernetes-action"?: string; "x-kubernetes-group-version-kind"?: Gvk };

/** Reads the resources of one group-version's document. */
export function resourcesOf(gv: string, doc: { paths: Record<string, Record<string, unknown>> }): ResourceInfo[] {
  const [group, version] = gv.includes("/") ? gv.split("/") : ["", gv];
  const prefix = group ? `/apis/${group}/${version}/` : `/api/${version}/`;
  const byName = new Map<string, ResourceInfo>();
  const subs = new Map<string, Map<string, SubresourceInfo>>();

  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith(prefix)) continue;
    let rest = path.slice(prefix.length).split("/").filter(Boolean);
    const isWatch = rest[0] === "watch";
    if (isWatch) rest = rest.slice(1);
    const namespaced = rest[0] === "namespaces" && rest[1] === "{namespace}";
    if (namespaced) rest = rest.slice(2);
    if (rest.length === 0) continue;
    // `/namespaces/{name}` is the namespaces resource itself.
    const [resource, name, subresource] = rest;
    if (name !== undefined && name !== "{name}") continue;
    for (const op of Object.values(item) as Operation[]) {
      if (!op || typeof op !== "object" || !op["x-kubernetes-action"]) continue;
      const action = op["x-kubernetes-action"]!;
      const gvk = op["x-kubernetes-group-version-kind"];
      if (!gvk) continue;
      if (subresource) {
        if (!subs.has(resource)) subs.set(resource, new Map());
        const m = subs.get(resource)!;
        if (!m.has(subresource)) {
          const sub: SubresourceInfo = { name: subresource, kind: gvk.kind, verbs: [] };
          if (gvk.group !== group || gvk.version !== version) {
            sub.group = gvk.group;
            sub.version = gvk.version;
          }
          m.set(subresource, sub);
        }
        const sub = m.get(subresource)!;
        const verbs = action === "connect" ? CONNECT_VERBS[subresource] ?? ["get"] : [ACTION_VERB[action]];
        for (const v of verbs) if (v && !sub.verbs.includes(v)) sub.verbs.push(v);
        continue;
      }
      if (isWatch) {
        const info = byName.get(resource);
        if (info && !info.verbs.includes("watch")) info.verbs.push("watch");
        else if (!info) {
          byName.set(resource, newInfo(group, version, resource, gvk.kind, namespaced, ["watch"]));
        }
        continue;
      }
      let info = byName.get(resource);
      if (!info) {
        info = newInfo(group, version, resource, gvk.kind, false, []);
        byName.set(resource, info);
      }
      if (namespaced || (resource !== "namespaces" && info.namespaced)) info.namespaced = true;
      const verb = ACTION_VERB[action];
      if (verb && !info.verbs.includes(verb)) info.verbs.push(verb);
    }
  }
  // A namespaced kind is listed at the cluster level too; only the namespaced paths tell scope.
  for (const [path] of Object.entries(doc.paths)) {
    if (!path.startsWith(`${prefix}namespaces/{namespace}/`)) continue;
    const resource = path.slice(`${prefix}namespaces/{namespace}/`.length).split("/")[0];
    const info = byName.get(resource);
    if (info) info.namespaced = true;
  }
  for (const [resource, m] of subs) {
    const info = byName.get(resource);
    if (!info) continue;
    info.subresources = [...m.values()].map((s) => ({ ...s, verbs: s.verbs.sort() }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  const out = [...byName.values()].sort((a, b) => a.resource.localeCompare(b.resource));
  for (const info of out) {
    info.verbs.sort();
    const facts = RESOURCE_FACTS[`${group}/${info.resource}`];
    if (facts?.shortNames) info.shortNames = facts.shortNames;
    if (facts?.categories) info.categories = facts.categories;
  }
  return out;
}

function newInfo(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  verbs: string[],
): ResourceInfo {
  return { group, version, resource, kind, singularName: kind.toLowerCase(), namespaced, verbs, subresources: [] };
}

/** Removes the spec's prose: every `description` and `externalDocs`. */
export function stripProse(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripProse);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "description" || k === "externalDocs") continue;
      out[k] = stripProse(v);
    }
    return out;
  }
  return value;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function sha512Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

async function main(): Promise<void> {
  await Deno.mkdir(`${OUT}/v3`, { recursive: true });
  const all: ResourceInfo[] = [];
  const index: Record<string, { file: string; hash: string }> = {};
  for (const gv of SERVED_GROUP_VERSIONS) {
    const file = documentFileName(gv);
    const doc = JSON.parse(await Deno.readTextFile(`${SHARED}/openapi/v3/${file}`));
    all.push(...resourcesOf(gv, doc));
    const bytes = new TextEncoder().encode(JSON.stringify(stripProse(doc)));
    const gz = await gzip(bytes);
    const out = file.replace(/\.json$/, ".json.gz");
    await Deno.writeFile(`${OUT}/v3/${out}`, gz);
    index[documentPath(gv)] = { file: out, hash: await sha512Hex(bytes) };
  }
  await Deno.writeTextFile(`${OUT}/v3/index.json`, JSON.stringify(index, null, 1) + "\n");
  const body = all.map((r) => `  ${JSON.stringify(r)},`).join("\n");
  await Deno.writeTextFile(
    `${OUT}/resources.ts`,
    `// Generated by openapi/gen.ts from the Kubernetes v1.33 OpenAPI documents. Do not edit.\n` +
      `import type { ResourceInfo } from "../resources.ts";\n\n` +
      `export const RESOURCES: ResourceInfo[] = [\n${body}\n];\n`,
  );
  console.log(`Generated ${all.length} resources in ${SERVED_GROUP_VERSIONS.length} group-versions.`);
}

if (import.meta.main) await main();
