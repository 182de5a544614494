/**
 * Generates `openapi/generated/protobuf.json`: for every Kubernetes protobuf message, its fields
 * by number with their JSON names and types, and which top-level kind decodes with which
 * message. Inputs: ../shared/k8s/protobuf-fields.json and the v2 swagger (for JSON names and
 * embedded structs). Deterministic, no prose.
 *
 * A field row is `[number, jsonName, type, flags]`: type is a scalar (`string`, `int32`,
 * `int64`, `bool`, `bytes`, `double`), a message name, or `map:<key>:<value>`; flags bit 1 =
 * repeated, bit 2 = inline (a Go embedded struct whose fields sit in the parent's JSON).
 */

const ROOT = new URL("..", import.meta.url).pathname;
const SHARED = Deno.env.get("KUBEDENO_SHARED_K8S") ?? `${ROOT}../shared/k8s`;

interface ProtoField {
  name: string;
  number: number;
  type?: string;
  map?: [string, string];
  repeated?: boolean;
}

export type FieldRow = [number, string, string, number];

export interface ProtobufTable {
  /** Message name (without the `k8s.io.` prefix) → fields. */
  messages: Record<string, FieldRow[]>;
  /** `group/version/Kind` ("" group for core) → message name. */
  kinds: Record<string, string>;
}

/** `k8s.io.api.core.v1.Pod` → `api.core.v1.Pod`, the short form the table uses. */
export function shortName(protoName: string): string {
  const name = protoName.replace(/^\./, "");
  return name.startsWith("k8s.io.") ? name.slice("k8s.io.".length) : name;
}

const pf = JSON.parse(await Deno.readTextFile(`${SHARED}/protobuf-fields.json`)).messages as Record<
  string,
  { fields: ProtoField[] }
>;
const swagger = JSON.parse(await Deno.readTextFile(`${SHARED}/openapi/v2/swagger.json`)).definitions as Record<
  string,
  { properties?: Record<string, unknown>; "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string }[] }
>;

const definitionOf = (proto: string) => swagger[`io.k8s.${proto.slice("k8s.io.".length)}`];

const table: ProtobufTable = { messages: {}, kinds: {} };
for (const name of Object.keys(pf).sort()) {
  const def = definitionOf(name);
  const props = def?.properties ? Object.keys(def.properties) : undefined;
  const rows: FieldRow[] = [];
  for (const f of pf[name].fields) {
    let json = f.name;
    let flags = f.repeated ? 1 : 0;
    if (props && !props.includes(f.name)) {
      const caseless = props.find((p) => p.toLowerCase() === f.name.toLowerCase());
      if (caseless) json = caseless;
      else if (f.type && pf[f.type]) {
        // A nested message whose own fields are the parent's JSON properties: embedded.
        const inner = pf[f.type].fields.map((x) => x.name.toLowerCase());
        if (inner.some((n) => props.some((p) => p.toLowerCase() === n))) flags |= 2;
      }
    }
    const type = f.map ? `map:${shortName(f.map[0])}:${shortName(f.map[1])}` : shortName(f.type ?? "string");
    rows.push([f.number, json, type, flags]);
  }
  table.messages[shortName(name)] = rows.sort((a, b) => a[0] - b[0]);
  for (const gvk of def?.["x-kubernetes-group-version-kind"] ?? []) {
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    if (!(key in table.kinds) || !name.includes(".apimachinery.")) table.kinds[key] = shortName(name);
  }
}
const sortedKinds = Object.fromEntries(Object.entries(table.kinds).sort(([a], [b]) => a.localeCompare(b)));
await Deno.writeTextFile(
  `${ROOT}openapi/generated/protobuf.json`,
  JSON.stringify({ messages: table.messages, kinds: sortedKinds }) + "\n",
);
console.log(`Generated ${Object.keys(table.messages).length} messages, ${Object.keys(sortedKinds).length} kinds.`);
