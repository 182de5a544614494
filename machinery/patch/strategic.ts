/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) applied the way
 * kube-apiserver v1.33 applies it to built-in kinds, with the patch metadata (patch strategy,
 * merge key) read from the project's runtime schemas.
 *
 * What a patch can say:
 * - maps merge key by key; `null` removes a key;
 * - lists whose field has patch strategy `merge` merge element by element: maps matched by the
 *   field's merge key, scalars as an ordered union; every other list is replaced whole;
 * - fields with patch strategy `replace` are replaced whole;
 * - `$patch: replace` (a map, or an element `{"$patch": "replace"}` of a merging list) replaces
 *   instead of merging; `$patch: delete` empties a map or removes the list elements whose merge
 *   key matches; `$patch: merge` is refused, as the reference server refuses it;
 * - `$retainKeys: [...]` clears the keys of the original map not listed (discriminated unions
 *   such as volume sources and the deployment strategy);
 * - `$deleteFromPrimitiveList/<field>: [...]` removes scalars from a merging scalar list;
 * - `$setElementOrder/<field>: [...]` orders a merging list: listed elements first in the given
 *   order, elements only the original has interleaved where they stood.
 *
 * Quirks of the reference implementation are kept on purpose because clients see them: a new
 * value (no counterpart in the original) holding a `$patch` map is dropped, `$patch: delete` on a
 * map leaves `{}`, errors other than a few malformed-directive cases are plain 500s.
 *
 * The reference server converts the patched map back into its typed object, which silently drops
 * directive keys and `null`s that were copied verbatim from the patch (elements appended to a
 * merging list, lists and maps replaced whole). That conversion is emulated for the copied parts
 * only, so the result never carries directive keys; opaque values (`RawExtension`, `JSON`, …)
 * are left as sent.
 */

import type { SchemaNode, Schemas } from "../../openapi/schema.ts";
import { StatusError } from "../status.ts";

/**
 * How the reference server reports a failure:
 * - `BadRequest`: 400, reason `BadRequest`, the error text as message;
 * - `Invalid`: 422, reason `Invalid`, message "the server rejected our request due to an error in
 *   our request" (the error text itself is not shown), empty details;
 * - `Internal`: 500, no reason, the error text as message;
 * - `Panic`: the reference server crashes the request: 500 with a plain-text body
 *   `This request caused apiserver to panic. Look in the logs for details.`
 */
export type StrategicMergePatchErrorKind = "BadRequest" | "Invalid" | "Internal" | "Panic";

/** The plain-text body of a request that made the reference server panic. */
export const PANIC_MESSAGE = "This request caused apiserver to panic. Look in the logs for details.";

/** The message a 422 from a strategic merge patch carries. */
export const INVALID_PATCH_MESSAGE = "the server rejected our request due to an error in our request";

/** A strategic merge patch that cannot be applied; `message` is worded as upstream words it. */
export class StrategicMergePatchError extends Error {
  readonly kind: StrategicMergePatchErrorKind;

  constructor(kind: StrategicMergePatchErrorKind, message: string) {
    super(message);
    this.name = "StrategicMergePatchError";
    this.kind = kind;
  }

  /** The HTTP status the reference server answers with. */
  get code(): number {
    return this.kind === "BadRequest" ? 400 : this.kind === "Invalid" ? 422 : 500;
  }

  /**
   * The `Status` error the reference server answers with. For `Panic` it answers with plain
   * text instead; the StatusError then carries that text and reason `InternalError`.
   */
  toStatusError(): StatusError {
    switch (this.kind) {
      case "BadRequest":
        return new StatusError(400, "BadRequest", this.message);
      case "Invalid":
        return new StatusError(422, "Invalid", INVALID_PATCH_MESSAGE, {});
      // Upstream answers these with a 500; they come from the patch, so they are a 400 here (a
      // server error never means bad input).
      case "Internal":
        return new StatusError(400, "BadRequest", this.message);
      case "Panic":
        return new StatusError(400, "BadRequest", "the patch could not be applied: it has a null where a list element was expected");
    }
  }
}

// Upstream's fixed error texts.
const ERR_NO_LIST_OF_LISTS = "lists of lists are not supported";
const ERR_PRIMITIVE_LIST_FORMAT = "invalid patch format of primitive list";
const ERR_RETAIN_KEYS_FORMAT = "invalid patch format of retainKeys";
const ERR_SET_ORDER_FORMAT = "invalid patch format of setElementOrder list";

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER = "$setElementOrder";

const GO_MAP = "map[string]interface {}";
const GO_SLICE = "[]interface {}";

type JsonMap = Record<string, unknown>;

function badRequest(message: string): StrategicMergePatchError {
  return new StrategicMergePatchError("BadRequest", message);
}

function internal(message: string): StrategicMergePatchError {
  return new StrategicMergePatchError("Internal", message);
}

function panic(): StrategicMergePatchError {
  return new StrategicMergePatchError("Panic", PANIC_MESSAGE);
}

// ---------------------------------------------------------------------------------------------
// JSON values as the reference implementation sees them (Go's dynamic types).

function isMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function has(m: JsonMap, key: string): boolean {
  return Object.hasOwn(m, key);
}

function get(m: JsonMap, key: string): unknown {
  return Object.hasOwn(m, key) ? m[key] : undefined;
}

function set(m: JsonMap, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(m, key, { value, enumerable: true, writable: true, configurable: true });
  } else m[key] = value;
}

function isInt64(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) <= 9223372036854775807;
}

/** Go's dynamic type of a decoded JSON value (integers decode as int64, others as float64). */
function goType(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (Array.isArray(v)) return GO_SLICE;
  switch (typeof v) {
    case "object":
      return GO_MAP;
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "number":
      return isInt64(v) ? "int64" : "float64";
    default:
      return "unknown";
  }
}

/** Go's `==` on two interface values: false across types, a runtime panic on maps and slices. */
function goEqual(a: unknown, b: unknown): boolean {
  const ta = goType(a);
  if (ta !== goType(b)) return false;
  if (ta === GO_MAP || ta === GO_SLICE) throw panic();
  return a === b || (ta === "nil");
}

/** A key usable in a Go map keyed by interface values (maps and slices are unhashable). */
function hashKey(v: unknown): unknown {
  const t = goType(v);
  if (t === GO_MAP || t === GO_SLICE) throw panic();
  return v === undefined ? null : v;
}

function goFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (!Number.isFinite(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mantissa, expText] = f.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const digits = String(Math.abs(exp)).padStart(2, "0");
    return `${mantissa}e${exp < 0 ? "-" : "+"}${digits}`;
  }
  return String(f);
}

/** A value printed with Go's `%v` (`verb` "v") or `%s` (`verb` "s"), as error texts show it. */
function goFormat(v: unknown, verb: "v" | "s" = "v"): string {
  if (v === null || v === undefined) return verb === "v" ? "<nil>" : "%!s(<nil>)";
  if (Array.isArray(v)) return `[${v.map((e) => goFormat(e, verb)).join(" ")}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${goFormat(v[k], verb)}`).join(" ")}]`;
  }
  if (typeof v === "string") return v;
  let text: string;
  let type: string;
  if (typeof v === "number") {
    type = isInt64(v) ? "int64" : "float64";
    text = type === "int64" ? BigInt(v).toString() : goFloat(v);
  } else {
    type = typeof v === "boolean" ? "bool" : typeof v;
    text = String(v);
  }
  return verb === "v" ? text : `%!s(${type}=${text})`;
}

function errBadArgType(expected: string, actual: unknown): StrategicMergePatchError {
  const actualType = actual === null || actual === undefined ? "%!s(<nil>)" : goType(actual);
  return internal(`expected a ${expected}, but received a ${actualType}`);
}

function errNoMergeKey(m: JsonMap, key: string): StrategicMergePatchError {
  return internal(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

function errBadPatchType(directive: unknown, m: JsonMap): StrategicMergePatchError {
  return internal(`unknown patch type: ${goFormat(directive, "s")} in map: ${goFormat(m)}`);
}

function isDirectiveKey(key: string): boolean {
  return key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) ||
    key.startsWith(DELETE_FROM_PRIMITIVE_LIST);
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isMap(v)) {
    const out: JsonMap = {};
    for (const k of Object.keys(v)) set(out, k, clone(v[k]));
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Patch metadata: what the reference server reads from the Go struct tags of the kind, here
// read from the runtime schemas.

type Shape = "none" | "struct" | "map" | "slice" | "primitive" | "opaque";

interface FieldMeta {
  /** `merge`, `replace` or "" (the `retainKeys` part is not needed to apply a patch). */
  strategy: string;
  mergeKey: string;
}

const NO_FIELD_META: FieldMeta = { strategy: "", mergeKey: "" };

/** A point of the schema: the resolved node, the Go type name it stands for, its shape. */
class Meta {
  readonly shape: Shape;

  constructor(
    readonly schemas: Schemas | undefined,
    readonly node: SchemaNode | undefined,
    readonly name: string,
    readonly named: boolean,
  ) {
    this.shape = shapeOf(node, named);
  }

  /** The schema of the struct field `key`, with its patch metadata (errors as upstream). */
  field(key: string): { meta: Meta; fieldMeta: FieldMeta } {
    switch (this.shape) {
      case "none":
        return { meta: this, fieldMeta: NO_FIELD_META };
      case "struct": {
        const props = this.node!.properties!;
        if (!Object.hasOwn(props, key)) {
          throw internal(`unable to find api field in struct ${this.name} for the json field "${key}"`);
        }
        const raw = props[key];
        return { meta: metaOf(this.schemas, raw, ""), fieldMeta: fieldMetaOf(raw) };
      }
      case "opaque":
        throw internal(`unable to find api field in struct ${this.name} for the json field "${key}"`);
      default:
        throw internal(
          `merging an object in json but data type is not struct, instead is: ${this.goKind()}`,
        );
    }
  }

  /** The element schema of the list field `key`, with the field's patch metadata. */
  sliceField(key: string): { meta: Meta; fieldMeta: FieldMeta } {
    const { meta, fieldMeta } = this.field(key);
    if (meta.shape === "none") return { meta, fieldMeta };
    // A struct-typed field may be a pointer, whose pointee the reference takes as the element.
    if (meta.shape === "struct" || meta.shape === "opaque") return { meta, fieldMeta };
    if (meta.shape !== "slice") throw internal("expected slice or array type, but got: struct");
    const element = metaOf(this.schemas, meta.node!.items, "");
    if (element.shape === "slice") throw internal("unexpected slice of slice");
    return { meta: element, fieldMeta };
  }

  /** The schema below `key` without complaints: unknown places have no schema. */
  child(key: string): Meta {
    if (this.shape === "struct") {
      const props = this.node!.properties!;
      return Object.hasOwn(props, key) ? metaOf(this.schemas, props[key], "") : NONE;
    }
    if (this.shape === "map") {
      const values = this.node!.additionalProperties;
      return values && values !== true ? metaOf(this.schemas, values, "") : NONE;
    }
    return this.shape === "none" ? this : NONE;
  }

  /** The schema of list elements without complaints. */
  element(): Meta {
    return this.shape === "slice" ? metaOf(this.schemas, this.node!.items, "") : NONE;
  }

  /** The Go kind upstream names in "cannot merge lists without merge key for <kind>". */
  goKind(): string {
    switch (this.shape) {
      case "struct":
      case "opaque":
      case "none":
        return "struct";
      case "map":
        return "map";
      case "slice":
        return "slice";
      default:
        break;
    }
    const n = this.node!;
    if (n.type === "integer") return n.format === "int32" ? "int32" : "int64";
    if (n.type === "number") return "float64";
    if (n.type === "boolean") return "bool";
    return "string";
  }
}

function shapeOf(node: SchemaNode | undefined, named: boolean): Shape {
  if (!node) return "none";
  if (node.properties) return "struct";
  if (node.additionalProperties !== undefined) return "map";
  if (node.type === "array") return "slice";
  if (node.type && node.type !== "object" && !(named && node.format === "date-time")) return "primitive";
  return "opaque";
}

const NONE = new Meta(undefined, undefined, "", false);

function shortName(definition: string): string {
  const dot = definition.lastIndexOf(".");
  return dot < 0 ? definition : definition.slice(dot + 1);
}

/** Follows references, remembering the last definition's name (the Go type's name). */
function metaOf(schemas: Schemas | undefined, node: SchemaNode | undefined, fallbackName: string): Meta {
  if (!schemas || !node) return NONE;
  let n: SchemaNode | undefined = node;
  let name = fallbackName;
  let named = false;
  for (let i = 0; n?.ref !== undefined && i < 16; i++) {
    name = shortName(n.ref);
    named = true;
    n = schemas.definition(n.ref);
  }
  return n ? new Meta(schemas, n, name, named) : NONE;
}

function fieldMetaOf(raw: SchemaNode | undefined): FieldMeta {
  const strategies = (raw?.patchStrategy ?? "").split(",");
  let strategy: string;
  if (strategies.length === 1) strategy = strategies[0] === "retainKeys" ? "" : strategies[0];
  else if (strategies.length === 2 && strategies.includes("retainKeys")) {
    strategy = strategies[0] === "retainKeys" ? strategies[1] : strategies[0];
  } else throw internal(`unexpected patch strategy: [${strategies.join(" ")}]`);
  return { strategy, mergeKey: raw?.patchMergeKey ?? "" };
}

// ---------------------------------------------------------------------------------------------
// Emulating the typed round trip for values copied verbatim from the patch.

/** Drops directive keys and null-valued keys below `v`, except inside opaque values. */
function sanitize(v: unknown, meta: Meta): unknown {
  if (meta.shape === "opaque") return v;
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      const value = v[k];
      if (value === null || isDirectiveKey(k)) delete v[k];
      else sanitize(value, meta.child(k));
    }
  } else if (Array.isArray(v)) {
    const element = meta.element();
    for (const e of v) sanitize(e, element);
  }
  return v;
}

function sanitizeElements(list: unknown[], element: Meta): unknown[] {
  for (const e of list) sanitize(e, element);
  return list;
}

/** Removes null-valued keys of maps at any depth (lists are walked too). */
function discardNulls(v: unknown): void {
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNulls(v[k]);
    }
  } else if (Array.isArray(v)) {
    for (const e of v) discardNulls(e);
  }
}

/**
 * A new value with every map holding `$patch` dropped (and the list elements that are such
 * maps); `keep` is false when the value itself is such a map.
 */
function removeDirectives(v: unknown): { value: unknown; keep: boolean } {
  if (isMap(v)) {
    if (has(v, DIRECTIVE)) return { value: undefined, keep: false };
    for (const k of Object.keys(v)) {
      const r = removeDirectives(v[k]);
      if (r.keep) set(v, k, r.value);
      else delete v[k];
    }
    return { value: v, keep: true };
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const e of v) {
      const r = removeDirectives(e);
      if (r.keep) out.push(r.value);
    }
    return { value: out, keep: true };
  }
  return { value: v, keep: true };
}

// ---------------------------------------------------------------------------------------------
// Ordering helpers.

type ElementKind = "map" | "scalar";

/** Go's `sort.SliceStable` (insertion sort in blocks of 20, then in-place symmetric merges). */
function stableSort<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const swap = (i: number, j: number) => {
    const t = data[i];
    data[i] = data[j];
    data[j] = t;
  };
  const lessAt = (i: number, j: number) => less(data[i], data[j]);
  const insertionSort = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) {
      for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
    }
  };
  const swapRange = (a: number, b: number, count: number) => {
    for (let i = 0; i < count; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number) => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}

/** Position of `item` in `list`, comparing merge key values for maps and values otherwise. */
function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: ElementKind): number {
  const valueOf = (x: unknown) => kind === "scalar" ? x : isMap(x) ? get(x, mergeKey) ?? null : null;
  const wanted = valueOf(item);
  for (let i = 0; i < list.length; i++) if (goEqual(wanted, valueOf(list[i]))) return i;
  return -1;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isMap(item)) throw errBadArgType(GO_MAP, item);
      if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Splits off the elements carrying `$patch: delete`. */
function extractToDeleteItems(list: unknown[]): { keep: unknown[]; toDelete: unknown[] } {
  const keep: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType(GO_MAP, v);
    if (has(v, DIRECTIVE) && v[DIRECTIVE] === "delete") toDelete.push(v);
    else keep.push(v);
  }
  return { keep, toDelete };
}

/** `toSort` ordered as in `order` (elements not found there compare as "less"). */
function normalizeSliceOrder(
  toSort: unknown[],
  order: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  let sorted = toSort.slice();
  let toDelete: unknown[] = [];
  if (kind === "map") {
    validateMergeKeyInLists(mergeKey, toSort, order);
    ({ keep: sorted, toDelete } = extractToDeleteItems(sorted));
  }
  stableSort(sorted, (x, y) => {
    const ix = indexIn(order, x, mergeKey, kind);
    if (ix >= 0) {
      const iy = indexIn(order, y, mergeKey, kind);
      if (iy >= 0) return ix < iy;
    }
    return true;
  });
  return sorted.concat(toDelete);
}

/**
 * Interleaves two lists that are each in their final relative order: an element of `left`
 * (server-only) goes before the next element of `right` (from the patch) when both stand in
 * `serverOrder` and it stood first there.
 */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const patchSorted = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const serverSorted = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(serverSorted, patchSorted, serverOrder, mergeKey, kind);
}

function partitionScalars(list: unknown[], by: unknown[]): { inPatch: unknown[]; serverOnly: unknown[] } {
  const present = new Set(by.map(hashKey));
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (present.has(hashKey(v)) ? inPatch : serverOnly).push(v);
  return { inPatch, serverOnly };
}

/** The first map in `list` whose `key` equals `value`; non-map elements are an error. */
function findByKey(list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isMap(v)) throw internal(`value for key ${i} is not a map`);
    if (has(v, key) && goEqual(v[key], value)) return i;
  }
  return -1;
}

function partitionMaps(
  list: unknown[],
  by: unknown[],
  mergeKey: string,
): { inPatch: unknown[]; serverOnly: unknown[] } {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType(GO_MAP, v);
    if (!has(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findByKey(by, mergeKey, v[mergeKey]) >= 0 ? inPatch : serverOnly).push(v);
  }
  return { inPatch, serverOnly };
}

/** The common element kind of the lists; mixed kinds, nested lists and nulls are refused. */
function sliceElementKind(...lists: unknown[][]): ElementKind {
  let first: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = goType(v);
      if (first === undefined) {
        if (t === "nil") throw panic();
        if (t === GO_SLICE) throw new StrategicMergePatchError("Invalid", ERR_NO_LIST_OF_LISTS);
        first = t;
      } else if (t !== first) {
        throw internal(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (first === undefined) throw internal("no elements in any of the given slices");
  return first === GO_MAP ? "map" : "scalar";
}

/** Go's in-place scalar deduplication (keeps the first of equal values, order reshuffled). */
function deduplicateScalars(s: unknown[]): unknown[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (goEqual(s[i], s[j])) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// The merge.

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badRequest(
      prefix === DELETE_FROM_PRIMITIVE_LIST ? ERR_PRIMITIVE_LIST_FORMAT : ERR_SET_ORDER_FORMAT,
    );
  }
  return key.slice(slash + 1);
}

/** `$patch` on a map: `replace` keeps the patch as the value, `delete` leaves an empty map. */
function directiveInMap(directive: unknown, patch: JsonMap, meta: Meta): JsonMap {
  if (directive === "replace") {
    delete patch[DIRECTIVE];
    return sanitize(patch, meta) as JsonMap;
  }
  if (directive === "delete") return {};
  throw errBadPatchType(directive, patch);
}

/** `$retainKeys`: keys of the original not listed are cleared; the patch may only set listed keys. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!has(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRequest(ERR_RETAIN_KEYS_FORMAT);
  const keep = new Set(list.map(hashKey));
  for (const k of Object.keys(patch)) {
    if (patch[k] === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) {
      continue;
    }
    if (!keep.has(k)) throw badRequest(ERR_RETAIN_KEYS_FORMAT);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/**
 * Checks that the patch list's elements (deletions and directives aside) appear in the
 * `$setElementOrder` list in the same relative order.
 */
function validatePatchWithSetOrderList(patchList: unknown[], orderList: unknown[], mergeKey: string): void {
  if (orderList.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList).keep : patchList;
  let p = 0;
  let o = 0;
  while (p < nonDelete.length && o < orderList.length) {
    const item = nonDelete[p];
    if (isMap(item) && has(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, orderList[o], mergeKey)) p++;
    o++;
  }
  if (p < nonDelete.length && o >= orderList.length) {
    throw internal(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${
        goFormat(orderList)
      }\n`,
    );
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return goEqual(left, right);
  if (!isMap(left)) throw errBadArgType(GO_MAP, left);
  if (!isMap(right)) throw errBadArgType(GO_MAP, right);
  if (!has(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!has(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return goEqual(left[mergeKey], right[mergeKey]);
}

/** Processes every `$setElementOrder/<field>` of `patch` together with `<field>` itself. */
function applySetElementOrder(original: JsonMap, patch: JsonMap, meta: Meta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType(GO_SLICE, order);
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = has(original, field);
    const foundPatch = has(patch, field);
    let originalList: unknown[] = [];
    let patchList: unknown[] = [];
    if (foundOriginal) {
      const v = original[field];
      if (!Array.isArray(v)) throw errBadArgType(GO_SLICE, v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[field];
      if (!Array.isArray(v)) throw errBadArgType(GO_SLICE, v);
      patchList = v;
    }
    const { meta: element, fieldMeta } = meta.sliceField(field);
    const mergeKey = fieldMeta.mergeKey;
    validatePatchWithSetOrderList(patchList, order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) {
      merged = sanitizeElements(removeDirectives(patchList).value as unknown[], element);
    } else if (foundOriginal && foundPatch) {
      ({ merged, view: originalList } = mergeSliceHandler(
        originalList,
        patchList,
        element,
        fieldMeta,
        false,
      ));
    } else continue;

    const { inPatch, serverOnly } = mergeKey
      ? partitionMaps(merged, order, mergeKey)
      : partitionScalars(merged, order);
    const kind = sliceElementKind(originalList, patchList);
    set(original, field, normalizeElementOrder(inPatch, serverOnly, order, originalList, mergeKey, kind));
    delete patch[field];
  }
}

function mergeMap(original: JsonMap | undefined, patch: JsonMap, meta: Meta): JsonMap {
  if (has(patch, DIRECTIVE)) return directiveInMap(patch[DIRECTIVE], patch, meta);
  const out = original ?? {};
  applyRetainKeys(out, patch);
  applySetElementOrder(out, patch, meta);

  for (const patchKey of Object.keys(patch)) {
    const patchV = patch[patchKey];
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }

    if (patchV === null) {
      delete out[key];
      continue;
    }

    const replaceWithPatch = () => {
      if (isDeleteList) return;
      discardNulls(patchV);
      const r = removeDirectives(patchV);
      if (r.keep) set(out, key, sanitize(r.value, meta.child(key)));
      else delete out[key];
    };

    if (!has(out, key)) {
      replaceWithPatch();
      continue;
    }
    const originalV = out[key];
    if (goType(originalV) !== goType(patchV)) {
      replaceWithPatch();
      continue;
    }
    if (isMap(originalV)) {
      const { meta: sub, fieldMeta } = meta.field(key);
      set(
        out,
        key,
        fieldMeta.strategy === "replace"
          ? sanitize(patchV, sub)
          : mergeMap(originalV, patchV as JsonMap, sub),
      );
    } else if (Array.isArray(originalV)) {
      const { meta: element, fieldMeta } = meta.sliceField(key);
      set(
        out,
        key,
        mergeSliceHandler(originalV, patchV as unknown[], element, fieldMeta, isDeleteList).merged,
      );
    } else {
      set(out, key, patchV);
    }
  }
  return out;
}

/**
 * A merged list, and `view`: what the reference implementation's caller afterwards sees through
 * its own slice header of the original list. There, removing elements shifts the shared backing
 * array in place and the first appended elements land in the freed tail, which
 * `$setElementOrder` then uses as the original order; the results depend on it.
 */
interface MergedList {
  merged: unknown[];
  view: unknown[];
}

function mergeSliceHandler(
  original: unknown[],
  patch: unknown[],
  element: Meta,
  fieldMeta: FieldMeta,
  isDeleteList: boolean,
): MergedList {
  if (fieldMeta.strategy === "merge" || isDeleteList) {
    return mergeSlice(original, patch, element, fieldMeta.mergeKey, isDeleteList);
  }
  return { merged: sanitizeElements(patch, element), view: original };
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  element: Meta,
  mergeKey: string,
  isDeleteList: boolean,
): MergedList {
  if (original.length === 0 && patch.length === 0) return { merged: original, view: original };
  const kind = sliceElementKind(original, patch);

  let base = original;
  let rest: unknown[] = patch;
  let view = original;
  let merged: unknown[];
  if (kind === "scalar") {
    if (isDeleteList) {
      const gone = new Set(patch.map(hashKey));
      return { merged: original.filter((v) => !gone.has(hashKey(v))), view };
    }
    merged = deduplicateScalars(original.concat(patch));
  } else {
    if (!mergeKey) throw internal(`cannot merge lists without merge key for ${element.goKind()}`);
    const special = applyListDirectives(original, patch, mergeKey, element);
    ({ base, rest, view } = special);
    merged = mergeListElements(base, rest, mergeKey, element);
    if (!special.replaced) {
      // Appended elements fill the slots the removals freed in the shared backing array.
      for (let i = base.length; i < view.length && i < merged.length; i++) view[i] = merged[i];
    }
  }

  const { inPatch, serverOnly } = mergeKey
    ? partitionMaps(merged, rest, mergeKey)
    : partitionScalars(merged, rest);
  return { merged: normalizeElementOrder(inPatch, serverOnly, rest, base, mergeKey, kind), view };
}

/**
 * Handles the elements of a merging list that carry `$patch`: `delete` removes the original's
 * elements with that merge key, `replace` makes the other patch elements the whole list.
 */
function applyListDirectives(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  element: Meta,
): { base: unknown[]; rest: unknown[]; view: unknown[]; replaced: boolean } {
  // Removal as the reference does it: later elements shift left in place, the last slot keeps
  // its stale value, the list's length shrinks.
  const buffer = original.slice();
  let length = buffer.length;
  const plain: unknown[] = [];
  let replace = false;
  for (const v of patch) {
    const item = v as JsonMap;
    if (!has(item, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === "delete") {
      if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const value = item[mergeKey];
      for (;;) {
        const i = findByKey(buffer.slice(0, length), mergeKey, value);
        if (i < 0) break;
        buffer.copyWithin(i, i + 1, length);
        length--;
      }
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw internal("merging lists cannot yet be specified in the patch");
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  if (replace) return { base: sanitizeElements(plain, element), rest: [], view: buffer, replaced: true };
  return { base: buffer.slice(0, length), rest: plain, view: buffer, replaced: false };
}

/** Merges each patch element into the original element with its merge key, or appends it. */
function mergeListElements(base: unknown[], patch: unknown[], mergeKey: string, element: Meta): unknown[] {
  const out = base.slice();
  for (const v of patch) {
    const item = v as JsonMap;
    if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const i = findByKey(out, mergeKey, item[mergeKey]);
    if (i >= 0) out[i] = mergeMap(out[i] as JsonMap, item, element);
    else out.push(sanitize(item, element));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Applies the strategic merge patch `patch` to `original` and returns the result; neither input
 * is modified. `schema` is the kind's root schema (`Schemas.refForKind` keeps the type's name
 * for error texts; `forKind` works too). Without a schema every map merges and every list is
 * replaced, directives still honoured. Throws StrategicMergePatchError.
 */
export function applyStrategicMergePatch(
  original: unknown,
  patch: unknown,
  schema: SchemaNode | undefined,
  schemas: Schemas,
): unknown {
  if (patch === null || patch === undefined) return clone(original);
  if (!isMap(patch)) {
    const what = Array.isArray(patch)
      ? "array"
      : typeof patch === "number"
      ? "number"
      : typeof patch === "boolean"
      ? "bool"
      : "string";
    throw badRequest(`json: cannot unmarshal ${what} into Go value of type ${GO_MAP}`);
  }
  const base = isMap(original) ? clone(original) as JsonMap : {};
  const kind = isMap(original) && typeof original.kind === "string" ? original.kind : "Object";
  const meta = schema ? metaOf(schemas, schema, kind) : NONE;
  return mergeMap(base, clone(patch) as JsonMap, meta);
}
