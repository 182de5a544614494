/**
 * Decoding a body against a kind's schema, as kube-apiserver's typed decoding does: a value of
 * the wrong type fails the request (400, worded like Go's JSON errors); unknown and duplicate
 * fields fail it, become warnings or are silently dropped, as `fieldValidation` says; unknown
 * fields never reach storage.
 */

import { badRequest, StatusError } from "../machinery/status.ts";
import type { SchemaNode, Schemas } from "./schema.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** The `fieldValidation` query parameter; absent means Warn, as upstream defaults. */
export function fieldValidationOf(params: URLSearchParams): FieldValidation {
  const value = params.get("fieldValidation");
  if (value === null || value === "") return "Warn";
  if (value === "Strict" || value === "Warn" || value === "Ignore") return value;
  throw badRequest(
    `fieldValidation: Unsupported value: ${
      JSON.stringify(value)
    }: supported values: "Ignore", "Strict", "Warn"`,
  );
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** True when anything goes below `node` (free-form objects, preserved unknown fields, no schema). */
function isFree(node: SchemaNode | undefined): boolean {
  if (!node) return true;
  if (node.preserveUnknownFields || node.embeddedResource) return true;
  if (node.intOrString) return false;
  if (node.type === undefined) return true;
  return node.type === "object" && !node.properties && !node.additionalProperties;
}

/** What a struct or map field below `node` is: its schema, or "unknown" for a struct's stranger. */
function fieldOf(schemas: Schemas, node: SchemaNode, key: string): SchemaNode | "unknown" {
  if (node.properties) {
    const prop = node.properties[key];
    if (prop) return schemas.resolve(prop) ?? {};
    if (node.additionalProperties === true) return {};
    if (node.additionalProperties) return schemas.resolve(node.additionalProperties) ?? {};
    return "unknown";
  }
  if (node.additionalProperties === true) return {};
  if (node.additionalProperties) return schemas.resolve(node.additionalProperties) ?? {};
  return {};
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Unknown and duplicate fields of a JSON text in document order, as upstream reports them for
 * JSON bodies: `duplicate field "metadata.name"`, `unknown field "spec.foo"`. A field both
 * unknown and repeated is reported once, as unknown. The text must be valid JSON.
 */
export function jsonFieldProblems(
  text: string,
  root: SchemaNode | undefined,
  schemas: Schemas,
  options: { duplicatesOnly?: boolean } = {},
): string[] {
  const duplicatesOnly = options.duplicatesOnly ?? false;
  const problems: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  /** The next backslash at or after `i` (-1: none); moves only forward, so the scan stays linear. */
  let backslash = text.indexOf("\\");
  /** Moves past the string at `i`; true when it holds an escape. */
  const skipString = (): boolean => {
    let escaped = false;
    i++;
    while (true) {
      const quote = text.indexOf('"', i);
      if (quote < 0) {
        i = text.length;
        return escaped;
      }
      if (backslash >= 0 && backslash < quote) escaped = true;
      // The quote ends the string unless an odd number of backslashes precede it.
      let slashes = 0;
      if (escaped) { for (let j = quote - 1; j >= i && text.charCodeAt(j) === 0x5c; j--) slashes++; }
      i = quote + 1;
      if (backslash >= 0 && backslash < i) backslash = text.indexOf("\\", i);
      if (slashes % 2 === 0) return escaped;
    }
  };
  const string = (): string => {
    const start = i;
    return skipString() ? JSON.parse(text.slice(start, i)) : text.slice(start + 1, i - 1);
  };
  const value = (path: string, node: SchemaNode | undefined): void => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b) object(path, node);
    else if (c === 0x5b) array(path, node);
    else if (c === 0x22) skipString();
    else {
      // A number, true, false or null: up to the next delimiter.
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) {
          break;
        }
        i++;
      }
    }
  };
  const object = (path: string, node: SchemaNode | undefined): void => {
    i++;
    const checked = !duplicatesOnly && node !== undefined && !isFree(node) &&
      (node.type === "object" || node.properties !== undefined);
    const seen = new Set<string>();
    ws();
    if (text[i] === "}") {
      i++;
      return;
    }
    while (i < text.length) {
      ws();
      const key = string();
      ws();
      i++; // ':'
      const childPath = join(path, key);
      let child: SchemaNode | undefined;
      if (checked) {
        const field = fieldOf(schemas, node!, key);
        if (field === "unknown") {
          if (!seen.has(key)) problems.push(`unknown field ${JSON.stringify(childPath)}`);
          child = undefined;
        } else {
          if (seen.has(key)) problems.push(`duplicate field ${JSON.stringify(childPath)}`);
          child = field;
        }
      } else if (duplicatesOnly && seen.has(key)) {
        problems.push(`duplicate field ${JSON.stringify(childPath)}`);
      }
      seen.add(key);
      value(childPath, checked ? child : undefined);
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      i++; // '}'
      break;
    }
  };
  const array = (path: string, node: SchemaNode | undefined): void => {
    i++;
    const element = node && !isFree(node) ? schemas.resolve(node.items) : undefined;
    ws();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (let n = 0; i < text.length; n++) {
      value(`${path}[${n}]`, element);
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      i++; // ']'
      break;
    }
  };
  value("", schemas.resolve(root));
  return problems;
}

/**
 * Drops what typed decoding would not keep: fields a struct does not declare, and `null` struct
 * fields. Returns the unknown fields' paths, keys visited in sorted order (as upstream lists
 * them for YAML bodies and patch results).
 */
export function pruneUnknownFields(obj: Json, root: SchemaNode | undefined, schemas: Schemas): string[] {
  const unknown: string[] = [];
  const walk = (value: unknown, node: SchemaNode | undefined, path: string): void => {
    if (!node || isFree(node)) return;
    if (Array.isArray(value)) {
      const element = schemas.resolve(node.items);
      value.forEach((v, n) => walk(v, element, `${path}[${n}]`));
      return;
    }
    if (!isObject(value)) return;
    for (const key of Object.keys(value).sort()) {
      const field = fieldOf(schemas, node, key);
      const childPath = join(path, key);
      if (field === "unknown") {
        unknown.push(`unknown field ${JSON.stringify(childPath)}`);
        delete value[key];
        continue;
      }
      if (value[key] === null && node.properties?.[key]) {
        delete value[key];
        continue;
      }
      walk(value[key], field, childPath);
    }
  };
  walk(obj, schemas.resolve(root), "");
  return unknown;
}

/** Go's name for a definition: `v1.PodSpec`, `resource.Quantity`, `intstr.IntOrString`. */
function goTypeOfDefinition(name: string): string {
  const parts = name.split(".");
  return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
}

/** Go's name for the type of a field. */
function goType(schemas: Schemas, node: SchemaNode | undefined): string {
  if (!node) return "interface {}";
  if (node.ref) return goTypeOfDefinition(node.ref);
  if (node.intOrString) return "intstr.IntOrString";
  switch (node.type) {
    case "string":
      return node.format === "byte" ? "[]uint8" : "string";
    case "integer":
      return node.format === "int32" ? "int32" : "int64";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    case "array":
      return `[]${goType(schemas, node.items)}`;
    case "object":
      if (node.additionalProperties && node.additionalProperties !== true) {
        return `map[string]${goType(schemas, node.additionalProperties)}`;
      }
      return "map[string]interface {}";
  }
  return "interface {}";
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The offset Go's base64 decoder names for bad input, or -1 when the text decodes. */
function base64ErrorAt(s: string): number {
  for (let n = 0; n < s.length; n++) {
    const c = s[n];
    if (/[A-Za-z0-9+/]/.test(c)) continue;
    if (c === "=") {
      if (BASE64.test(s) && s.length % 4 === 0) return -1;
      return n;
    }
    if (c === "\r" || c === "\n") continue;
    return n;
  }
  const clean = s.replace(/[\r\n]/g, "");
  if (clean.length % 4 !== 0) return clean.length - (clean.length % 4);
  return -1;
}

/** The Go struct name of a definition reference: `io.k8s.api.core.v1.PodSpec` → `PodSpec`. */
function structName(ref: string | undefined): string {
  return ref ? ref.slice(ref.lastIndexOf(".") + 1) : "";
}

/** `json: cannot unmarshal …` for a value of the wrong JSON type. */
function mismatch(
  schemas: Schemas,
  node: SchemaNode,
  struct: string,
  path: string[],
  shown: string,
): string {
  return `json: cannot unmarshal ${shown} into Go struct field ${struct}.${path.join(".")} of type ${
    goType(schemas, node)
  }`;
}

/**
 * The first value of the wrong type below `root`, as the message upstream's decoding gives
 * (without the `<Kind> in version …` prefix), or undefined when every value fits. Every write runs
 * it, so the walk allocates nothing until it finds a problem: the path is a stack of keys, and the
 * struct a definition reference whose name is taken only for the message.
 */
export function typeProblem(obj: Json, root: SchemaNode | undefined, schemas: Schemas): string | undefined {
  const path: string[] = [];
  const check = (
    value: unknown,
    node: SchemaNode | undefined,
    structRef: string | undefined,
  ): string | undefined => {
    if (value === null || value === undefined || !node) return undefined;
    const resolved = schemas.resolve(node);
    if (!resolved) return undefined;
    if (resolved.format === "quantity") {
      if (typeof value === "number") return undefined;
      if (typeof value !== "string") {
        return mismatch(schemas, node, structName(structRef), path, jsonKind(value));
      }
      return QUANTITY.test(value.trim()) ? undefined : QUANTITY_ERROR;
    }
    if (resolved.intOrString) {
      if (typeof value === "string") return undefined;
      if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= 2 ** 31) {
        return undefined;
      }
      const shown = typeof value === "number" ? `number ${value}` : jsonKind(value);
      return `json: cannot unmarshal ${shown} into Go value of type int32`;
    }
    if (isFree(resolved) && resolved.type !== "object") return undefined;
    switch (resolved.type) {
      case "string":
        if (typeof value !== "string") {
          return mismatch(schemas, node, structName(structRef), path, jsonKind(value));
        }
        if (resolved.format === "byte") {
          const at = base64ErrorAt(value);
          if (at >= 0) return `illegal base64 data at input byte ${at}`;
        }
        if (resolved.format === "date-time" && value !== "" && !RFC3339.test(value)) {
          return `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${
            JSON.stringify(value)
          } as "2006"`;
        }
        return undefined;
      case "integer": {
        if (typeof value !== "number") {
          return mismatch(schemas, node, structName(structRef), path, jsonKind(value));
        }
        const limit = resolved.format === "int32" ? 2 ** 31 : 2 ** 63;
        if (!Number.isInteger(value) || value >= limit || value < -limit) {
          return mismatch(schemas, node, structName(structRef), path, `number ${value}`);
        }
        return undefined;
      }
      case "number":
        return typeof value === "number"
          ? undefined
          : mismatch(schemas, node, structName(structRef), path, jsonKind(value));
      case "boolean":
        return typeof value === "boolean"
          ? undefined
          : mismatch(schemas, node, structName(structRef), path, jsonKind(value));
      case "array": {
        if (!Array.isArray(value)) {
          return mismatch(schemas, node, structName(structRef), path, jsonKind(value));
        }
        for (const item of value) {
          const problem = check(item, resolved.items, structRef);
          if (problem) return problem;
        }
        return undefined;
      }
      case "object": {
        if (!isObject(value)) return mismatch(schemas, node, structName(structRef), path, jsonKind(value));
        if (isFree(resolved)) return undefined;
        const ref = node.ref ?? structRef;
        const properties = resolved.properties;
        const values = resolved.additionalProperties && resolved.additionalProperties !== true
          ? resolved.additionalProperties
          : undefined;
        for (const key in value) {
          const property = properties?.[key];
          if (property) {
            // A property: the path grows and the enclosing struct is this object's.
            path.push(key);
            const problem = check(value[key], property, ref);
            path.pop();
            if (problem) return problem;
          } else if (values) {
            // A map's value: reported at the map's own path, in the map's struct.
            const problem = check(value[key], values, structRef);
            if (problem) return problem;
          }
        }
        return undefined;
      }
    }
    return undefined;
  };
  const resolved = schemas.resolve(root);
  if (!resolved?.properties) return undefined;
  for (const key in obj) {
    const child = resolved.properties[key];
    if (!child) continue;
    path.push(key);
    const problem = check(obj[key], child, root?.ref);
    path.pop();
    if (problem) return problem;
  }
  return undefined;
}

const JSON_PATCH_OPERATION_FIELDS = new Set(["op", "path", "value", "from"]);

/** Unknown and repeated fields of the operations of a JSON patch (RFC 6902) text. */
export function jsonPatchFieldProblems(text: string, schemas: Schemas): string[] {
  const problems: string[] = [];
  for (const p of jsonFieldProblems(text, undefined, schemas, { duplicatesOnly: true })) {
    problems.push(`json patch ${p}`);
  }
  const ops = JSON.parse(text);
  if (Array.isArray(ops)) {
    ops.forEach((op, n) => {
      if (!isObject(op)) return;
      for (const key of Object.keys(op)) {
        if (!JSON_PATCH_OPERATION_FIELDS.has(key)) problems.push(`json patch unknown field "[${n}].${key}"`);
      }
    });
  }
  // By operation; within one, unknown fields before repeated ones.
  const order = (p: string) => Number(/"\[(\d+)\]/.exec(p)?.[1] ?? 0) * 2 + (p.includes("unknown") ? 0 : 1);
  return problems.map((p, n) => ({ p, n })).sort((a, b) => order(a.p) - order(b.p) || a.n - b.n).map((x) =>
    x.p
  );
}

/** The 400 upstream gives for a body its decoder refuses. */
export function cannotBeHandled(kind: string, version: string, problem: string): StatusError {
  return badRequest(
    `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: ${problem}`,
  );
}

/** The value of a `Warning` header carrying `texts` (299, no agent, each text quoted). */
export function warningHeader(texts: string[]): string {
  return texts.map((t) => `299 - ${JSON.stringify(t)}`).join(", ");
}
