/**
 * Generates `openapi/generated/protobuf.json`, the table the protobuf body decoder reads:
 * for every Kubernetes protobuf message, its fields by number with their JSON names and
 * kinds, and which message each top-level `apiVersion/kind` decodes with.
 *
 * Inputs: `../shared/k8s/protobuf-fields.json` (field numbers) and the v2 swagger (JSON
 * names, embedded structs, required fields, group-version-kinds). Output is deterministic
 * and carries no descriptions. Run from the repository root:
 * `deno run -A openapi/gen_protobuf.ts`.
 *
 * Table shape (`ProtobufTable`):
 * - `m`: message name (without `k8s.io.`) → rows `[number, jsonName, type, flags]`.
 *   `type` is a scalar (`string`, `bytes`, `bool`, `int32`, `int64`, `uint32`, `uint64`,
 *   `double`, `float`), a special JSON form (`time`, `microtime`, `duration`, `quantity`,
 *   `intstr`, `raw`, `fieldsv1`, `strings` = a message wrapping a string list such as
 *   `ExtraValue`), another message's name, or `map:<valueType>` (keys are strings).
 *   `flags`: 1 = repeated, 2 = inline (a Go embedded struct, flattened into the parent),
 *   4 = keep zero values (required in the schema, or a pointer whose zero means something).
 * - `k`: `apiVersion/kind` (e.g. `v1/ConfigMap`, `apps/v1/Deployment`) → message name.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const SHARED = Deno.env.get("KUBEDENO_SHARED_K8S") ?? `${ROOT}../shared/k8s`;
const OUT = `${ROOT}openapi/generated/protobuf.json`;

/** Row flags. */
export const REPEATED = 1;
export const INLINE = 2;
export const KEEP_ZERO = 4;

/** One field row: `[number, jsonName, type, flags]`. */
export type FieldRow = [number, string, string, number];

/** The generated table. */
export interface ProtobufTable {
  m: Record<string, FieldRow[]>;
  k: Record<string, string>;
}

interface ProtoField {
  name: string;
  number: number;
  type?: string;
  map?: [string, string];
  repeated?: boolean;
}

interface Definition {
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string }[];
}

/** Messages whose JSON form is not an object of their fields. */
const SPECIAL: Record<string, string> = {
  "apimachinery.pkg.apis.meta.v1.Time": "time",
  "apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
  "apimachinery.pkg.apis.meta.v1.Duration": "duration",
  "apimachinery.pkg.apis.meta.v1.FieldsV1": "fieldsv1",
  "apimachinery.pkg.api.resource.Quantity": "quantity",
  "apimachinery.pkg.api.resource.QuantityValue": "quantity",
  "apimachinery.pkg.util.intstr.IntOrString": "intstr",
  "apimachinery.pkg.runtime.RawExtension": "raw",
};

/**
 * JSON names of Go pointer scalars (`*int32`, `*bool`, `*string`, …) whose zero value differs
 * from leaving them out (`replicas: 0`, `runAsUser: 0`, `storageClassName: ""`). On the wire a
 * non-pointer zero and a pointer zero look alike; these keep their zeros, other optional
 * scalars drop them as Go's `omitempty` JSON would.
 */
const MEANINGFUL_ZEROS = new Set([
  "activeDeadlineSeconds",
  "allocateLoadBalancerNodePorts",
  "allowPrivilegeEscalation",
  "automountServiceAccountToken",
  "backoffLimit",
  "backoffLimitPerIndex",
  "completions",
  "defaultMode",
  "enableServiceLinks",
  "expirationSeconds",
  "failedJobsHistoryLimit",
  "fsGroup",
  "hostUsers",
  "immutable",
  "manualSelector",
  "maxFailedIndexes",
  "mode",
  "parallelism",
  "priority",
  "privileged",
  "progressDeadlineSeconds",
  "readOnlyRootFilesystem",
  "replicas",
  "revisionHistoryLimit",
  "runAsGroup",
  "runAsNonRoot",
  "runAsUser",
  "setHostnameAsFQDN",
  "shareProcessNamespace",
  "startingDeadlineSeconds",
  "storageClassName",
  "successfulJobsHistoryLimit",
  "suspend",
  "terminationGracePeriodSeconds",
  "ttlSecondsAfterFinished",
]);

/** `k8s.io.api.core.v1.Pod` or `.k8s.io.api.core.v1.Pod` → `api.core.v1.Pod`. */
function shortName(protoName: string): string {
  const name = protoName.replace(/^\./, "");
  return name.startsWith("k8s.io.") ? name.slice("k8s.io.".length) : name;
}

/** The last dotted part: `api.core.v1.Pod` → `Pod`. */
function baseName(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

/** Compares names the way proto and JSON spellings differ (`uID`/`uid`, `ref`/`$ref`, `x-kubernetes-…`). */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function loadInputs(): { protos: Map<string, ProtoField[]>; defs: Record<string, Definition> } {
  const raw = JSON.parse(Deno.readTextFileSync(`${SHARED}/protobuf-fields.json`)).messages as Record<
    string,
    { fields: ProtoField[] }
  >;
  const protos = new Map<string, ProtoField[]>();
  for (const name of Object.keys(raw).sort()) protos.set(shortName(name), raw[name].fields);
  const defs = JSON.parse(Deno.readTextFileSync(`${SHARED}/openapi/v2/swagger.json`)).definitions;
  return { protos, defs };
}

/** Builds the table from the two inputs. */
export function buildTable(
  protos: Map<string, ProtoField[]>,
  defs: Record<string, Definition>,
): ProtobufTable {
  const defOf = (message: string): Definition | undefined => {
    const def = defs[`io.k8s.${message}`];
    return def?.properties ? def : undefined;
  };
  const fieldType = (f: ProtoField): string => shortName(f.type ?? "string");
  const isMessage = (type: string) => protos.has(type) && !(type in SPECIAL);

  /** A message that only wraps a list of strings (`ExtraValue`, `Verbs`): JSON is the list. */
  const isStringList = (message: string): boolean => {
    const fields = protos.get(message);
    return !defOf(message) && fields?.length === 1 && fields[0].name === "items" && !!fields[0].repeated &&
      fields[0].type === "string";
  };

  // Embedded structs of messages that have a definition: a message-typed field that is not a
  // property, whose own (flattened) fields are.
  const inlineMemo = new Map<string, Set<string>>();
  const flatNames = (message: string, seen: Set<string>): Set<string> => {
    const out = new Set<string>();
    if (seen.has(message)) return out;
    seen.add(message);
    for (const f of protos.get(message) ?? []) {
      if (inlineFields(message).has(f.name)) {
        for (const n of flatNames(fieldType(f), seen)) out.add(n);
      } else out.add(normalize(f.name));
    }
    return out;
  };
  const inlinePairs = new Set<string>();
  function inlineFields(message: string): Set<string> {
    let inline = inlineMemo.get(message);
    if (inline) return inline;
    inline = new Set();
    inlineMemo.set(message, inline);
    const def = defOf(message);
    if (!def) return inline;
    const props = new Set(Object.keys(def.properties!).map(normalize));
    for (const f of protos.get(message)!) {
      const type = fieldType(f);
      if (props.has(normalize(f.name)) || f.map || f.repeated || !isMessage(type)) continue;
      const inner = flatNames(type, new Set());
      if ([...inner].some((n) => props.has(n))) {
        inline.add(f.name);
        inlinePairs.add(`${f.name} ${baseName(type)}`);
      }
    }
    return inline;
  }
  for (const message of protos.keys()) inlineFields(message);

  // JSON spellings and required fields, learned from messages with definitions, reused for
  // same-named messages of other versions that have none (e.g. `v1beta1.Variable`).
  const spellingByBase = new Map<string, Map<string, string>>();
  const requiredByBase = new Map<string, Set<string>>();
  const spelling = new Map<string, string>();
  for (const [message, fields] of protos) {
    const def = defOf(message);
    if (!def) continue;
    const byNorm = new Map(Object.keys(def.properties!).map((p) => [normalize(p), p]));
    const names = new Map<string, string>();
    for (const f of fields) {
      const json = def.properties![f.name] ? f.name : byNorm.get(normalize(f.name));
      if (!json) continue;
      names.set(f.name, json);
      if (json !== f.name) spelling.set(f.name, json);
    }
    spellingByBase.set(baseName(message), names);
    requiredByBase.set(baseName(message), new Set(def.required ?? []));
  }

  const typeOf = (f: ProtoField): string => {
    if (f.map) {
      const value = shortName(f.map[1]);
      if (f.map[0] !== "string") throw new Error(`Map key ${f.map[0]} is not a string`);
      return `map:${valueType(value)}`;
    }
    return valueType(fieldType(f));
  };
  const valueType = (type: string): string =>
    SPECIAL[type] ??
      (isStringList(type) ? "strings" : protos.has(type) || isScalar(type) ? type : unknownType(type));

  const messages: Record<string, FieldRow[]> = {};
  for (const [message, fields] of protos) {
    if (message in SPECIAL || isStringList(message)) continue;
    const def = defOf(message);
    const inline = inlineFields(message);
    const names = spellingByBase.get(baseName(message));
    const required = def ? new Set(def.required ?? []) : requiredByBase.get(baseName(message)) ?? new Set();
    const rows: FieldRow[] = [];
    for (const f of fields) {
      const type = typeOf(f);
      let flags = f.repeated ? REPEATED : 0;
      const isInline = def ? inline.has(f.name) : inlinePairs.has(`${f.name} ${baseName(fieldType(f))}`);
      if (isInline) flags |= INLINE;
      const json = isInline ? f.name : (names?.get(f.name) ?? spelling.get(f.name) ?? f.name);
      if (def && !isInline && !def.properties![json]) {
        console.error(`warning: ${message}.${f.name} matches no property of its definition`);
      }
      if (required.has(json) || (MEANINGFUL_ZEROS.has(json) && !message.endsWith("Status"))) {
        flags |= KEEP_ZERO;
      }
      rows.push([f.number, json, type, flags]);
    }
    messages[message] = rows.sort((a, b) => a[0] - b[0]);
  }

  const kinds: Record<string, string> = {};
  for (const [message] of protos) {
    const def = defs[`io.k8s.${message}`];
    for (const gvk of def?.["x-kubernetes-group-version-kind"] ?? []) {
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      if (messages[message]) kinds[`${apiVersion}/${gvk.kind}`] = message;
    }
  }
  const sortedKinds = Object.fromEntries(
    Object.entries(kinds).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return { m: messages, k: sortedKinds };
}

function isScalar(type: string): boolean {
  return ["string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"].includes(type);
}

function unknownType(type: string): never {
  throw new Error(`Unknown protobuf type ${type}`);
}

if (import.meta.main) {
  const { protos, defs } = loadInputs();
  const table = buildTable(protos, defs);
  const text = JSON.stringify(table);
  Deno.writeTextFileSync(OUT, text + "\n");
  console.log(
    `Wrote ${OUT}: ${Object.keys(table.m).length} messages, ${
      Object.keys(table.k).length
    } kinds, ${text.length} bytes.`,
  );
}
