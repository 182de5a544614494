/**
 * Content negotiation: which encoding a response takes (JSON, YAML, Table, …) from `Accept`,
 * and how a request body is decoded from `Content-Type`.
 */

import YAML from "yaml";
import {
  badRequest,
  MAX_REQUEST_BODY_BYTES,
  notAcceptable,
  requestEntityTooLarge,
  unsupportedMediaType,
} from "../machinery/status.ts";

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Splits an Accept or Content-Type header into media types with lower-cased parameters. */
export function parseMediaTypes(header: string | null | undefined): MediaType[] {
  if (!header) return [];
  return header.split(",").map((part) => {
    const [type, ...params] = part.split(";").map((s) => s.trim());
    const out: MediaType = { type: type.toLowerCase(), params: {} };
    for (const p of params) {
      const eq = p.indexOf("=");
      if (eq > 0) {
        out.params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, "");
      }
    }
    return out;
  }).filter((m) => m.type);
}

export const JSON_TYPE = "application/json";
export const YAML_TYPE = "application/yaml";
export const PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf";

/** What a response body for an object or list is encoded as. */
export type OutputFormat =
  | { kind: "json" }
  | { kind: "yaml" }
  | { kind: "table"; version: "v1" | "v1beta1" }
  | { kind: "metadata"; version: "v1" | "v1beta1"; list: boolean };

function matchesJson(type: string): boolean {
  return type === JSON_TYPE || type === "application/*" || type === "*/*";
}

/**
 * Chooses the output format for a resource request. `as=Table` is honoured for get and list
 * (and watch); PartialObjectMetadata likewise. Unknown-only accepts are a 406.
 */
export function negotiateOutput(accept: string | null, options: { allowTable: boolean }): OutputFormat {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return { kind: "json" };
  for (const m of types) {
    const as = m.params["as"];
    if (as) {
      if (m.type !== JSON_TYPE || m.params["g"] !== "meta.k8s.io") continue;
      const version = m.params["v"];
      if (version !== "v1" && version !== "v1beta1") continue;
      if (as === "Table" && options.allowTable) return { kind: "table", version };
      if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") {
        return { kind: "metadata", version, list: as === "PartialObjectMetadataList" };
      }
      continue;
    }
    if (matchesJson(m.type)) return { kind: "json" };
    if (m.type === YAML_TYPE) return { kind: "yaml" };
    // Protobuf responses are not produced; a client that also takes JSON gets JSON.
  }
  throw notAcceptable([JSON_TYPE, YAML_TYPE]);
}

/** Reads a request body up to the 3 MiB limit kube-apiserver enforces; 413 beyond it. */
export async function readBody(req: Request, limit = MAX_REQUEST_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    await req.body?.cancel().catch(() => {});
    throw requestEntityTooLarge(limit);
  }
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw requestEntityTooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

const decoder = new TextDecoder("utf-8");

/** Decodes JSON text into an object, with upstream-like wording for malformed input. */
export function decodeJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding request body: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("error decoding request body: the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Decodes YAML text (one document) into an object. */
export function decodeYamlObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    const docs = YAML.parseAllDocuments(text, { uniqueKeys: false });
    const list = Array.isArray(docs) ? docs : [docs];
    const errors = list.flatMap((d) => d.errors);
    if (errors.length) throw errors[0];
    if (list.length > 1) throw new Error("expected a single YAML document");
    value = list[0]?.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("error decoding YAML: the body must be an object");
  }
  return value as Record<string, unknown>;
}

/**
 * Keys repeated within one YAML mapping, worded as upstream's YAML decoder reports them:
 * `line 5: key "name" already set in map` (lines counted from 1).
 */
export function yamlDuplicateKeys(text: string): string[] {
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: false, lineCounter: lines });
  const found: { offset: number; text: string }[] = [];
  const visit = (node: unknown): void => {
    if (YAML.isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined) {
          if (seen.has(key)) {
            const offset = (pair.key as YAML.Scalar).range?.[0] ?? 0;
            found.push({
              offset,
              text: `line ${lines.linePos(offset).line}: key ${JSON.stringify(key)} already set in map`,
            });
          }
          seen.add(key);
        }
        visit(pair.value);
      }
    } else if (YAML.isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents);
  return found.sort((a, b) => a.offset - b.offset).map((f) => f.text);
}

/** A decoded object body with the form it came in, and its text for JSON and YAML. */
export interface DecodedBody {
  object: Record<string, unknown>;
  format: "json" | "yaml" | "protobuf";
  text: string;
}

/** Decodes an object body by its Content-Type, keeping its text for field validation. */
export async function decodeObjectBodyWithSource(
  contentType: string | null,
  body: Uint8Array,
): Promise<DecodedBody> {
  const type = parseMediaTypes(contentType)[0]?.type ?? JSON_TYPE;
  if (type === JSON_TYPE || type === "*/*") {
    const text = decoder.decode(body);
    return { object: decodeJsonObject(text), format: "json", text };
  }
  if (type === YAML_TYPE || type === "application/x-yaml" || type === "text/yaml") {
    const text = decoder.decode(body);
    return { object: decodeYamlObject(text), format: "yaml", text };
  }
  return { object: await decodeObjectBody(contentType, body), format: "protobuf", text: "" };
}

/** The media types an object body (POST/PUT) may be sent in. */
export const OBJECT_BODY_TYPES = [JSON_TYPE, YAML_TYPE, PROTOBUF_TYPE];

/** Decodes an object body (create/update) by its Content-Type. */
export async function decodeObjectBody(
  contentType: string | null,
  body: Uint8Array,
): Promise<Record<string, unknown>> {
  const type = parseMediaTypes(contentType)[0]?.type ?? JSON_TYPE;
  switch (type) {
    case JSON_TYPE:
    case "*/*":
      return decodeJsonObject(decoder.decode(body));
    case YAML_TYPE:
    case "application/x-yaml":
    case "text/yaml":
      return decodeYamlObject(decoder.decode(body));
    case PROTOBUF_TYPE:
      try {
        const { decodeKubernetesProtobuf } = await import("../machinery/protobuf/decode.ts");
        return decodeKubernetesProtobuf(body);
      } catch (err) {
        throw badRequest(`error decoding protobuf body: ${(err as Error).message}`);
      }
  }
  throw unsupportedMediaType(type, OBJECT_BODY_TYPES);
}
