/**
 * Runtime schemas of the built-in kinds: what validation, strategic merge patch and
 * server-side apply need to know about each field, without the spec's prose. The data is
 * generated (`deno task gen`) into `openapi/generated/schemas.json`; this file holds its shape
 * and the lookups over it.
 */

/** How a list merges: as one value, as a set of scalars, or as a map keyed by some fields. */
export type ListType = "atomic" | "set" | "map";

/** How a map or struct merges: as one value, or field by field. */
export type MapType = "atomic" | "granular";

/** One node of a schema: a field's type and the markers that decide how it merges. */
export interface SchemaNode {
  /** A named definition this node stands for; its other keys are then absent. */
  ref?: string;
  /** Absent means any JSON value. */
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  /** int32, int64, double, byte, date-time, quantity, … */
  format?: string;
  /** Fields of a struct. */
  properties?: Record<string, SchemaNode>;
  required?: string[];
  /** Values of a map (`true`: any value). */
  additionalProperties?: SchemaNode | true;
  /** Elements of a list. */
  items?: SchemaNode;
  /** A scalar default the schema declares. */
  default?: unknown;
  /** An integer or a string (`x-kubernetes-int-or-string`). */
  intOrString?: true;
  /** Any fields are kept below this node (`x-kubernetes-preserve-unknown-fields`). */
  preserveUnknownFields?: true;
  /** A whole object with its own apiVersion, kind and metadata (`x-kubernetes-embedded-resource`). */
  embeddedResource?: true;
  listType?: ListType;
  listMapKeys?: string[];
  /** For maps and structs (`x-kubernetes-map-type`). */
  mapType?: MapType;
  /** `merge`, `replace`, `retainKeys`, `merge,retainKeys` (`x-kubernetes-patch-strategy`). */
  patchStrategy?: string;
  patchMergeKey?: string;
}

/** The generated file: definitions by name and the definition of each group/version/kind. */
export interface SchemaSet {
  definitions: Record<string, SchemaNode>;
  /** `apps/v1/Deployment` or `v1/Pod` → definition name. */
  kinds: Record<string, string>;
}

/** `apps/v1/Deployment`, `v1/Pod`. */
export function gvkKey(group: string, version: string, kind: string): string {
  return group ? `${group}/${version}/${kind}` : `${version}/${kind}`;
}

/** The schemas of every built-in kind, with lookups that follow references. */
export class Schemas {
  readonly #set: SchemaSet;

  constructor(set: SchemaSet) {
    this.#set = set;
  }

  /** The root schema of a kind, or undefined for a kind without one. */
  forKind(group: string, version: string, kind: string): SchemaNode | undefined {
    const name = this.#set.kinds[gvkKey(group, version, kind)];
    return name ? this.#set.definitions[name] : undefined;
  }

  /** A reference to the root schema of a kind (keeps the definition's name), or undefined. */
  refForKind(group: string, version: string, kind: string): SchemaNode | undefined {
    const name = this.#set.kinds[gvkKey(group, version, kind)];
    return name ? { ref: name } : undefined;
  }

  /** The definition `name`, or undefined. */
  definition(name: string): SchemaNode | undefined {
    return this.#set.definitions[name];
  }

  /** `node` with its reference followed (to any depth); undefined stays undefined. */
  resolve(node: SchemaNode | undefined): SchemaNode | undefined {
    let n = node;
    for (let i = 0; n?.ref !== undefined && i < 16; i++) n = this.#set.definitions[n.ref];
    return n;
  }

  /** The schema of a struct field or map value below `node`, references followed. */
  child(node: SchemaNode | undefined, key: string): SchemaNode | undefined {
    const n = this.resolve(node);
    if (!n) return undefined;
    const prop = n.properties?.[key];
    if (prop) return this.resolve(prop);
    if (n.additionalProperties && n.additionalProperties !== true) return this.resolve(n.additionalProperties);
    return undefined;
  }

  /** The schema of the elements of a list below `node`, references followed. */
  element(node: SchemaNode | undefined): SchemaNode | undefined {
    return this.resolve(this.resolve(node)?.items);
  }
}

let loaded: Promise<Schemas> | undefined;

/** The generated schemas, read once. */
export function loadSchemas(): Promise<Schemas> {
  loaded ??= import("./generated/schemas.json", { with: { type: "json" } })
    .then((module) => new Schemas(module.default as SchemaSet));
  return loaded;
}
