/**
 * Generates `openapi/generated/schemas.json` from the v1.33 OpenAPI v3 documents in
 * ../shared/k8s: every definition the served group-versions use, reduced to types, formats,
 * required fields, scalar defaults and the `x-kubernetes-*` markers. No descriptions.
 *
 *   deno run -A openapi/gen_schemas.ts [--shared ../shared/k8s] [--out openapi/generated]
 */

import { documentFileName, generatorPaths, SERVED_GROUP_VERSIONS } from "./gen.ts";
import { gvkKey, type SchemaNode, type SchemaSet } from "./schema.ts";

type Json = Record<string, unknown>;

const REF_PREFIX = "#/components/schemas/";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The definition a `$ref` (or an `allOf` holding just one) points at. */
function refOf(schema: Json): string | undefined {
  if (typeof schema.$ref === "string") return schema.$ref.slice(REF_PREFIX.length);
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isObject(schema.allOf[0])) {
    return refOf(schema.allOf[0]);
  }
  return undefined;
}

const SCALAR_TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

/** One upstream schema reduced to a SchemaNode. */
export function reduceSchema(name: string | undefined, schema: Json): SchemaNode {
  const node: SchemaNode = {};
  const ref = refOf(schema);
  if (ref) node.ref = ref;
  else {
    if (typeof schema.type === "string" && SCALAR_TYPES.has(schema.type)) node.type = schema.type as SchemaNode["type"];
    if (typeof schema.format === "string") node.format = schema.format;
    if (name === QUANTITY) node.format = "quantity";
    if (schema["x-kubernetes-int-or-string"] === true || schema.format === "int-or-string") {
      node.intOrString = true;
      delete node.type;
    }
    if (isObject(schema.properties)) {
      node.properties = {};
      for (const key of Object.keys(schema.properties).sort()) {
        node.properties[key] = reduceSchema(undefined, schema.properties[key] as Json);
      }
    }
    if (Array.isArray(schema.required) && schema.required.length) node.required = [...schema.required].sort();
    if (schema.additionalProperties === true) node.additionalProperties = true;
    else if (isObject(schema.additionalProperties)) {
      node.additionalProperties = reduceSchema(undefined, schema.additionalProperties);
    }
    if (isObject(schema.items)) node.items = reduceSchema(undefined, schema.items);
  }
  const d = schema.default;
  // Zero values (0, false, "") mark required non-pointer fields upstream, not defaults.
  if (d !== undefined && d !== null && typeof d !== "object" && d !== "" && d !== 0 && d !== false) node.default = d;
  if (schema["x-kubernetes-preserve-unknown-fields"] === true) node.preserveUnknownFields = true;
  if (schema["x-kubernetes-embedded-resource"] === true) node.embeddedResource = true;
  const listType = schema["x-kubernetes-list-type"];
  if (listType === "atomic" || listType === "set" || listType === "map") node.listType = listType;
  if (Array.isArray(schema["x-kubernetes-list-map-keys"])) {
    node.listMapKeys = schema["x-kubernetes-list-map-keys"] as string[];
  }
  const mapType = schema["x-kubernetes-map-type"];
  if (mapType === "atomic" || mapType === "granular") node.mapType = mapType;
  if (typeof schema["x-kubernetes-patch-strategy"] === "string") {
    node.patchStrategy = schema["x-kubernetes-patch-strategy"] as string;
  }
  if (typeof schema["x-kubernetes-patch-merge-key"] === "string") {
    node.patchMergeKey = schema["x-kubernetes-patch-merge-key"] as string;
  }
  return node;
}

/** Every definition name `node` refers to, directly or below. */
function refsOf(node: SchemaNode, out: Set<string>): void {
  if (node.ref) out.add(node.ref);
  for (const p of Object.values(node.properties ?? {})) refsOf(p, out);
  if (node.additionalProperties && node.additionalProperties !== true) refsOf(node.additionalProperties, out);
  if (node.items) refsOf(node.items, out);
}

/** Builds the schema set of the served group-versions from their v3 documents. */
export async function buildSchemaSet(sharedDir: string): Promise<SchemaSet> {
  const all = new Map<string, Json>();
  const kinds: Record<string, string> = {};
  const served = new Set<string>(SERVED_GROUP_VERSIONS);
  for (const gv of SERVED_GROUP_VERSIONS) {
    const path = `${sharedDir}/openapi/v3/${documentFileName(gv)}`;
    const doc = JSON.parse(await Deno.readTextFile(path)) as Json;
    const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
    const [group, version] = gv.includes("/") ? gv.split("/") : ["", gv];
    for (const [name, schema] of Object.entries(schemas)) {
      all.set(name, schema);
      const gvks = schema["x-kubernetes-group-version-kind"];
      if (!Array.isArray(gvks)) continue;
      for (const g of gvks as { group: string; version: string; kind: string }[]) {
        // Kinds of any served group-version, whichever document holds them: policy/v1
        // Eviction is defined in the core v1 document (it is posted to pods/eviction). Meta
        // kinds such as DeleteOptions list every group; the first definition found stays.
        const gvOf = g.group ? `${g.group}/${g.version}` : g.version;
        const key = gvkKey(g.group, g.version, g.kind);
        if (served.has(gvOf) && (!kinds[key] || (g.group === group && g.version === version))) kinds[key] = name;
      }
    }
  }
  // Keep the definitions that the kinds reach.
  const definitions: Record<string, SchemaNode> = {};
  const pending = [...new Set(Object.values(kinds))];
  while (pending.length) {
    const name = pending.pop()!;
    if (definitions[name]) continue;
    const schema = all.get(name);
    if (!schema) throw new Error(`definition ${name} is referenced but not defined`);
    const node = reduceSchema(name, schema);
    definitions[name] = node;
    const refs = new Set<string>();
    refsOf(node, refs);
    for (const r of refs) if (!definitions[r]) pending.push(r);
  }
  const sortedDefinitions: Record<string, SchemaNode> = {};
  for (const name of Object.keys(definitions).sort()) sortedDefinitions[name] = definitions[name];
  const sortedKinds: Record<string, string> = {};
  for (const key of Object.keys(kinds).sort()) sortedKinds[key] = kinds[key];
  return { definitions: sortedDefinitions, kinds: sortedKinds };
}

if (import.meta.main) {
  const { sharedDir, outDir } = generatorPaths();
  const set = await buildSchemaSet(sharedDir);
  const text = JSON.stringify(set) + "\n";
  await Deno.writeTextFile(`${outDir}/schemas.json`, text);
  console.log(
    `Wrote ${outDir}/schemas.json: ${Object.keys(set.kinds).length} kinds, ` +
      `${Object.keys(set.definitions).length} definitions, ${text.length} bytes.`,
  );
}
