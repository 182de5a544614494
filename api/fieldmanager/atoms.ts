/**
 * The merge view of a schema: every node becomes an atom that is a scalar, a list (atomic, a
 * set, or keyed by some fields) or a map (a struct with declared fields and/or free keys,
 * atomic or granular), following the rules kube-apiserver uses to turn OpenAPI into merge
 * types: list-type markers first, `x-kubernetes-patch-strategy: merge` as a fallback, lists
 * atomic otherwise; maps and structs granular unless marked atomic; quantities, int-or-string,
 * RawExtension and date-times are opaque scalars; objects without declared fields and
 * preserve-unknown-fields subtrees take whatever shape their value has ("deduced").
 */

import type { SchemaNode, Schemas } from "../../openapi/schema.ts";

export type ScalarKind = "numeric" | "string" | "boolean" | "untyped";

export interface ListAtom {
  readonly elem: TypeRef;
  /** A set (no keys) or a keyed list; false for atomic lists. */
  readonly associative: boolean;
  readonly keys: readonly string[];
}

export interface FieldDef {
  readonly type: TypeRef;
  /** The scalar default the schema declares (used for missing key fields). */
  readonly default?: unknown;
}

export interface MapAtom {
  readonly fields: ReadonlyMap<string, FieldDef>;
  /** The type of keys that are not declared fields; undefined when such keys are not allowed. */
  readonly elem?: TypeRef;
  readonly atomic: boolean;
}

export interface Atom {
  readonly scalar?: ScalarKind;
  readonly list?: ListAtom;
  readonly map?: MapAtom;
}

/** A lazily resolved type. */
export interface TypeRef {
  atom(): Atom;
}

const NO_FIELDS: ReadonlyMap<string, FieldDef> = new Map();

class Fixed implements TypeRef {
  constructor(readonly a: Atom) {}
  atom(): Atom {
    return this.a;
  }
}

/** Anything; lists and maps inside are atomic. */
export const UNTYPED_ATOMIC: TypeRef = (() => {
  const self: { a?: Atom } = {};
  const ref: TypeRef = { atom: () => self.a! };
  self.a = {
    scalar: "untyped",
    list: { elem: ref, associative: false, keys: [] },
    map: { fields: NO_FIELDS, elem: ref, atomic: true },
  };
  return ref;
})();

/** Anything; maps inside are granular, lists atomic. */
export const DEDUCED: TypeRef = (() => {
  const self: { a?: Atom } = {};
  const ref: TypeRef = { atom: () => self.a! };
  self.a = {
    scalar: "untyped",
    list: { elem: UNTYPED_ATOMIC, associative: false, keys: [] },
    map: { fields: NO_FIELDS, elem: ref, atomic: false },
  };
  return ref;
})();

export const UNTYPED_SCALAR: TypeRef = new Fixed({ scalar: "untyped" });

const OPAQUE_DEFINITIONS = new Set([
  "io.k8s.apimachinery.pkg.api.resource.Quantity",
  "io.k8s.apimachinery.pkg.runtime.RawExtension",
]);

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

class NodeRef implements TypeRef {
  #atom?: Atom;
  constructor(
    private readonly types: MergeTypes,
    private readonly node: SchemaNode,
    private readonly preserve: boolean,
  ) {}
  atom(): Atom {
    this.#atom ??= this.types.build(this.node, this.preserve);
    return this.#atom;
  }
}

/** Merge types over the generated schemas, cached per schema node. */
export class MergeTypes {
  readonly #schemas: Schemas;
  readonly #cache = new WeakMap<SchemaNode, TypeRef>();
  readonly #preserveCache = new WeakMap<SchemaNode, TypeRef>();
  readonly #kinds = new Map<string, TypeRef>();

  constructor(schemas: Schemas) {
    this.#schemas = schemas;
  }

  get schemas(): Schemas {
    return this.#schemas;
  }

  /** The type of a kind's objects; `DEDUCED` when the kind has no schema. */
  forKind(group: string, version: string, kind: string): TypeRef {
    const id = `${group}/${version}/${kind}`;
    let r = this.#kinds.get(id);
    if (!r) {
      const node = this.#schemas.refForKind(group, version, kind);
      r = node ? this.ref(node, false) : DEDUCED;
      this.#kinds.set(id, r);
    }
    return r;
  }

  /** Whether the kind has a schema. */
  hasKind(group: string, version: string, kind: string): boolean {
    return this.#schemas.refForKind(group, version, kind) !== undefined;
  }

  /**
   * The type of objects described by a custom root schema (a custom resource's structural
   * schema): `metadata` is always ObjectMeta.
   */
  forRoot(root: SchemaNode): TypeRef {
    const props = { ...(root.properties ?? {}) };
    props.metadata = { ref: OBJECT_META };
    if (!props.apiVersion) props.apiVersion = { type: "string" };
    if (!props.kind) props.kind = { type: "string" };
    return this.ref({ ...root, type: "object", properties: props }, false);
  }

  ref(node: SchemaNode, preserve: boolean): TypeRef {
    const cache = preserve ? this.#preserveCache : this.#cache;
    let r = cache.get(node);
    if (!r) {
      r = new NodeRef(this, node, preserve);
      cache.set(node, r);
    }
    return r;
  }

  /** Builds the atom of `node` (whose reference, if any, is not yet followed). */
  build(node: SchemaNode, preserve: boolean): Atom {
    if (node.ref !== undefined) {
      if (OPAQUE_DEFINITIONS.has(node.ref)) return { scalar: "untyped" };
      const def = this.#schemas.definition(node.ref);
      if (!def) return DEDUCED.atom();
      let atom = this.ref(def, preserve).atom();
      if (node.mapType && atom.map) {
        atom = { ...atom, map: { ...atom.map, atomic: node.mapType === "atomic" } };
      }
      return atom;
    }
    const keep = preserve || node.preserveUnknownFields === true;
    if (node.intOrString || node.format === "quantity") return { scalar: "untyped" };
    switch (node.type) {
      case undefined:
        return { scalar: "untyped", list: this.#list(node, keep), map: this.#map(node, keep) };
      case "object":
        return { map: this.#map(node, keep) };
      case "array":
        return { list: this.#list(node, keep) };
      case "integer":
      case "number":
        return { scalar: "numeric" };
      case "boolean":
        return { scalar: "boolean" };
      case "string":
        return { scalar: node.format === undefined || node.format === "byte" ? "string" : "untyped" };
      default:
        return { scalar: "untyped" };
    }
  }

  #map(node: SchemaNode, preserve: boolean): MapAtom {
    const fields = new Map<string, FieldDef>();
    for (const [name, prop] of Object.entries(node.properties ?? {})) {
      fields.set(name, { type: this.ref(prop, preserve), default: prop.default });
    }
    let elem: TypeRef | undefined;
    const ap = node.additionalProperties;
    if (ap === undefined) {
      if (preserve || fields.size === 0) elem = DEDUCED;
    } else if (ap === true) elem = DEDUCED;
    else elem = this.ref(ap, preserve);
    return { fields, elem, atomic: node.mapType === "atomic" };
  }

  #list(node: SchemaNode, preserve: boolean): ListAtom {
    const elem = node.items ? this.ref(node.items, preserve) : UNTYPED_ATOMIC;
    if (node.listType === "set") return { elem, associative: true, keys: [] };
    if (node.listType === "map") return { elem, associative: true, keys: node.listMapKeys ?? [] };
    if (node.listType === "atomic") return { elem, associative: false, keys: [] };
    const strategy = node.patchStrategy;
    if (strategy === "merge" || strategy === "merge,retainKeys") {
      return { elem, associative: true, keys: node.patchMergeKey ? [node.patchMergeKey] : [] };
    }
    return { elem, associative: false, keys: [] };
  }
}

/** The type of a struct field or map value, or undefined when the key is not allowed. */
export function fieldType(map: MapAtom, key: string): TypeRef | undefined {
  return map.fields.get(key)?.type ?? map.elem;
}

/** Which part of an atom applies to a value; the whole atom when none matches. */
export function deduceAtom(atom: Atom, v: unknown): Atom {
  if (v === undefined) return atom;
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
    if (atom.scalar) return atom.list || atom.map ? { scalar: atom.scalar } : atom;
  } else if (Array.isArray(v)) {
    if (atom.list) return atom.scalar || atom.map ? { list: atom.list } : atom;
  } else if (v !== null && typeof v === "object") {
    if (atom.map) return atom.scalar || atom.list ? { map: atom.map } : atom;
  }
  return atom;
}

/** Whether two deduced atoms are the same (by the parts they hold). */
export function sameAtom(a: Atom, b: Atom): boolean {
  return a.scalar === b.scalar && a.list === b.list && a.map === b.map;
}
