/**
 * Walks over JSON values guided by merge types: the field set a value sets, the difference
 * between two values as field sets, merging a partial configuration into an object, removing
 * field sets from a value, and checking a configuration against its type.
 *
 * `undefined` stands for an absent value, `null` for an explicit null; they are different
 * (an absent map entry is not a null one).
 */

import { type Atom, deduceAtom, DEDUCED, fieldType, type ListAtom, sameAtom, type TypeRef } from "./atoms.ts";
import { FieldSet } from "./fieldset.ts";
import { compareStrings, goSharpV, goType, goV } from "./gojson.ts";
import { comparePE, type Path, type PathElement, peString, serializePE, valuesEqual } from "./path.ts";
import { clone } from "../../machinery/object_meta.ts";

type Obj = Record<string, unknown>;

function isMap(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The entries of a map value in order, skipping undefined ones. */
function entries(m: Obj): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const k of Object.keys(m)) if (m[k] !== undefined) out.push([k, m[k]]);
  return out;
}

function has(m: Obj | null, k: string): boolean {
  return m !== null && Object.prototype.hasOwnProperty.call(m, k) && m[k] !== undefined;
}

/** Sets an own key (also `__proto__`, which plain assignment would not create). */
function put(m: Obj, k: string, v: unknown): void {
  if (k === "__proto__") {
    Object.defineProperty(m, k, { value: v, enumerable: true, writable: true, configurable: true });
  } else m[k] = v;
}

/** A map entry, or undefined when the map does not have it as its own key. */
function get(m: Obj | null, k: string): unknown {
  return m !== null && Object.prototype.hasOwnProperty.call(m, k) ? m[k] : undefined;
}

/** The list a value holds, or null for a null, absent or non-list value. */
function listOf(v: unknown): unknown[] | null {
  return Array.isArray(v) ? v : null;
}

/** The map a value holds, or null for a null, absent or non-map value. */
function mapOf(v: unknown): Obj | null {
  return isMap(v) ? v : null;
}

/** A problem found while walking a value. */
export class TypedError extends Error {}

/** The path element picking `item` out of an associative list, or an error message. */
export function listItemPE(list: ListAtom, item: unknown): PathElement | string {
  if (!list.associative) return "invalid indexing of non-associative list";
  if (list.keys.length > 0) {
    if (item === null) return "associative list with keys may not have a null element";
    if (!isMap(item)) return "associative list with keys may not have non-map elements";
    const key: [string, unknown][] = [];
    for (const name of list.keys) {
      if (has(item, name)) key.push([name, item[name]]);
      else {
        const elem = list.elem.atom();
        if (!elem.map) {
          return `couldn't find default value for ${name}: associative list may not have non-map types`;
        }
        const def = elem.map.fields.get(name)?.default;
        if (def !== undefined && def !== null) key.push([name, def]);
        else {
          return `associative list with keys has an element that omits key field ${
            JSON.stringify(name)
          } (and doesn't have default value)`;
        }
      }
    }
    key.sort((a, b) => compareStrings(a[0], b[0]));
    return { key };
  }
  if (isMap(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return "not supported: associative list with lists as elements";
  if (item === null) return "associative list without keys has an element that's an explicit null";
  return { value: item };
}

// ---------------------------------------------------------------------------------------------
// Field sets

/**
 * The field set of a value: every scalar and atomic value, every item of an associative list,
 * every key of a map that is not a declared field, and every empty or null field.
 */
export function toFieldSet(v: unknown, t: TypeRef): FieldSet {
  const set = new FieldSet();
  fieldSetOf(set, [], v, t);
  return set;
}

function fieldSetOf(set: FieldSet, path: PathElement[], v: unknown, t: TypeRef): void {
  const atom = deduceAtom(t.atom(), v);
  if (atom.map) {
    const m = mapOf(v);
    if (atom.map.atomic) return set.insert(path);
    if (!m) return;
    for (const [k, val] of entries(m)) {
      const declared = atom.map.fields.has(k);
      const ft = fieldType(atom.map, k) ?? DEDUCED;
      const p = [...path, { field: k }];
      fieldSetOf(set, p, val, ft);
      if (val === null || (isMap(val) && Object.keys(val).length === 0) || !declared) set.insert(p);
    }
    return;
  }
  if (atom.scalar) return set.insert(path);
  if (atom.list) {
    if (!atom.list.associative) return set.insert(path);
    const l = listOf(v);
    if (!l) return;
    const pes = l.map((item) => listItemPE(atom.list!, item));
    const seen = new Set<string>();
    const dups = new Set<string>();
    for (const pe of pes) {
      if (typeof pe === "string") continue;
      const k = serializePE(pe);
      if (seen.has(k)) {
        if (!dups.has(k)) {
          set.insert([...path, pe]);
          dups.add(k);
        }
      } else seen.add(k);
    }
    for (let i = 0; i < l.length; i++) {
      const pe = pes[i];
      if (typeof pe === "string" || dups.has(serializePE(pe))) continue;
      const p = [...path, pe];
      fieldSetOf(set, p, l[i], atom.list.elem);
      set.insert(p);
    }
  }
}

/** Marks every declared struct field that has children as a member too. */
export function ensureNamedFieldsAreMembers(s: FieldSet, t: TypeRef | undefined): FieldSet {
  const out = new FieldSet();
  const atom = t?.atom();
  for (const [k, pe] of s.members) out.members.set(k, pe);
  for (const [k, c] of s.children) {
    let ct: TypeRef | undefined;
    if ("field" in c.pe && atom?.map) {
      if (atom.map.fields.has(c.pe.field)) out.members.set(k, c.pe);
      ct = fieldType(atom.map, c.pe.field);
    } else if ("key" in c.pe && atom?.list) ct = atom.list.elem;
    out.children.set(k, { pe: c.pe, set: ensureNamedFieldsAreMembers(c.set, ct) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** What changed from one value to another, as field sets. */
export interface Comparison {
  removed: FieldSet;
  modified: FieldSet;
  added: FieldSet;
}

export function compare(lhs: unknown, rhs: unknown, t: TypeRef): Comparison {
  const c: Comparison = { removed: new FieldSet(), modified: new FieldSet(), added: new FieldSet() };
  compareNode(c, [], lhs, rhs, t);
  return c;
}

function compareNode(c: Comparison, path: PathElement[], l: unknown, r: unknown, t: TypeRef): void {
  const atom = t.atom();
  const al = deduceAtom(atom, l);
  const ar = deduceAtom(atom, r);
  let leaf: boolean;
  if (r === undefined) leaf = compareAtom(c, path, al, l, r);
  else if (l === undefined || sameAtom(al, ar)) leaf = compareAtom(c, path, ar, l, r);
  else {
    compareAtom(c, path, al, l, r);
    leaf = compareAtom(c, path, ar, l, r);
  }
  if (!leaf) {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
  }
}

function compareLeaf(c: Comparison, path: PathElement[], l: unknown, r: unknown): void {
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
  else if (!valuesEqual(l, r)) c.modified.insert(path);
}

/** Returns whether the value was handled as a leaf. */
function compareAtom(c: Comparison, path: PathElement[], atom: Atom, l: unknown, r: unknown): boolean {
  if (atom.map) {
    const lm = mapOf(l);
    const rm = mapOf(r);
    const emptyLeaf = (!lm || Object.keys(lm).length === 0) && (!rm || Object.keys(rm).length === 0);
    if (atom.map.atomic || emptyLeaf) {
      compareLeaf(c, path, l, r);
      return true;
    }
    const keys = new Set<string>();
    if (lm) { for (const [k] of entries(lm)) keys.add(k); }
    if (rm) { for (const [k] of entries(rm)) keys.add(k); }
    for (const k of keys) {
      const ft = fieldType(atom.map, k) ?? DEDUCED;
      compareNode(c, [...path, { field: k }], get(lm, k), get(rm, k), ft);
    }
    return false;
  }
  if (atom.scalar) {
    compareLeaf(c, path, l, r);
    return true;
  }
  if (atom.list) {
    const ll = listOf(l);
    const rl = listOf(r);
    const emptyLeaf = (!ll || ll.length === 0) && (!rl || rl.length === 0);
    if (!atom.list.associative || emptyLeaf) {
      compareLeaf(c, path, l, r);
      return true;
    }
    compareListItems(c, path, atom.list, ll ?? [], rl ?? []);
    return false;
  }
  return false;
}

interface Grouped {
  pe: PathElement;
  items: unknown[];
}

function groupItems(list: ListAtom, items: unknown[], into: Map<string, Grouped>, order: string[]): void {
  for (const item of items) {
    const pe = listItemPE(list, item);
    if (typeof pe === "string") continue;
    const k = serializePE(pe);
    const g = into.get(k);
    if (g) g.items.push(item);
    else {
      into.set(k, { pe, items: [item] });
      order.push(k);
    }
  }
}

function compareListItems(
  c: Comparison,
  path: PathElement[],
  list: ListAtom,
  l: unknown[],
  r: unknown[],
): void {
  const lv = new Map<string, Grouped>();
  const rv = new Map<string, Grouped>();
  const order: string[] = [];
  groupItems(list, l, lv, order);
  const rOrder: string[] = [];
  groupItems(list, r, rv, rOrder);
  for (const k of rOrder) if (!lv.has(k)) order.push(k);
  for (const k of order) {
    const lg = lv.get(k);
    const rg = rv.get(k);
    const pe = (lg ?? rg)!.pe;
    const ln = lg?.items.length ?? 0;
    const rn = rg?.items.length ?? 0;
    const p = [...path, pe];
    if (ln <= 1 && rn <= 1) {
      compareNode(c, p, lg?.items[0], rg?.items[0], list.elem);
    } else if (ln >= 2 && rn >= 2) {
      const same = ln === rn && lg!.items.every((x, i) => valuesEqual(x, rg!.items[i]));
      if (!same) c.modified.insert(p);
    } else if (ln >= 2) {
      if (rn !== 0) compareNode(c, p, undefined, rg!.items[0], list.elem);
      c.removed.insert(p);
    } else {
      if (ln !== 0) compareNode(c, p, lg!.items[0], undefined, list.elem);
      c.added.insert(p);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Merge

/**
 * Merges `rhs` (a partial configuration) into `lhs`: leaves and atomic values of `rhs` win,
 * granular maps are merged key by key, associative lists item by item (items of `rhs` in its
 * order, with items only `lhs` has kept near where they were). Nothing is removed.
 */
export function merge(lhs: unknown, rhs: unknown, t: TypeRef): unknown {
  return mergeNode(lhs, rhs, t, []);
}

function mergeNode(l: unknown, r: unknown, t: TypeRef, path: PathElement[]): unknown {
  const atom = t.atom();
  const al = deduceAtom(atom, l);
  const ar = deduceAtom(atom, r);
  if (r === undefined) return mergeAtom(al, l, r, path);
  if (l === undefined || sameAtom(al, ar)) return mergeAtom(ar, l, r, path);
  mergeAtom(al, l, r, path);
  return mergeAtom(ar, l, r, path);
}

function keepRight(l: unknown, r: unknown): unknown {
  return clone(r !== undefined ? r : l);
}

function mergeAtom(atom: Atom, l: unknown, r: unknown, path: PathElement[]): unknown {
  if (atom.map) {
    const lm = mapOf(l);
    const rm = mapOf(r);
    const emptyLeaf = (!lm || Object.keys(lm).length === 0) && (!rm || Object.keys(rm).length === 0);
    if (atom.map.atomic || emptyLeaf) return keepRight(l, r);
    if (!lm && !rm) return undefined;
    const out: Obj = {};
    const keys: string[] = [];
    if (lm) { for (const [k] of entries(lm)) keys.push(k); }
    if (rm) { for (const [k] of entries(rm)) if (!has(lm, k)) keys.push(k); }
    for (const k of keys) {
      const ft = fieldType(atom.map, k) ?? DEDUCED;
      const v = mergeNode(get(lm, k), get(rm, k), ft, [...path, { field: k }]);
      if (v !== undefined) put(out, k, v);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (atom.scalar) return keepRight(l, r);
  if (atom.list) {
    const ll = listOf(l);
    const rl = listOf(r);
    const emptyLeaf = (!ll || ll.length === 0) && (!rl || rl.length === 0);
    if (!atom.list.associative || emptyLeaf) return keepRight(l, r);
    return mergeListItems(atom.list, ll ?? [], rl ?? [], path);
  }
  return undefined;
}

interface Indexed {
  pes: PathElement[];
  keys: string[];
  observed: Map<string, unknown>;
}

function indexItems(list: ListAtom, items: unknown[], allowDuplicates: boolean, path: Path): Indexed {
  const out: Indexed = { pes: [], keys: [], observed: new Map() };
  const errors: string[] = [];
  items.forEach((item, i) => {
    const pe = listItemPE(list, item);
    if (typeof pe === "string") {
      errors.push(`element ${i}: ${pe}`);
      return;
    }
    const k = serializePE(pe);
    if (out.observed.has(k)) {
      if (!allowDuplicates) {
        errors.push(`duplicate entries for key ${peString(pe)}`);
        return;
      }
      // Duplicated items are not merged with anything.
      out.observed.set(k, null);
    } else out.observed.set(k, item);
    out.pes.push(pe);
    out.keys.push(k);
  });
  if (errors.length) throw new TypedError(prefixed(path, errors.map((message) => ({ path: "", message }))));
  return out;
}

function mergeListItems(list: ListAtom, l: unknown[], r: unknown[], path: PathElement[]): unknown {
  const rhs = indexItems(list, r, false, path);
  const lhs = indexItems(list, l, true, path);
  const out: unknown[] = [];
  const shared = rhs.keys.filter((k) => lhs.observed.has(k));
  let next: string | undefined = shared.shift();
  const mergedRHS = new Set<string>();
  const push = (v: unknown) => {
    if (v !== undefined) out.push(v);
  };
  let li = 0;
  let ri = 0;
  while (li < lhs.keys.length || ri < rhs.keys.length) {
    if (li < lhs.keys.length && ri < rhs.keys.length) {
      const k = lhs.keys[li];
      if (k === rhs.keys[ri]) {
        mergedRHS.add(k);
        push(mergeNode(lhs.observed.get(k), rhs.observed.get(k), list.elem, [...path, lhs.pes[li]]));
        li++;
        ri++;
        next = shared.shift();
        continue;
      }
      if (rhs.observed.has(k) && next !== undefined && next !== k) {
        li++;
        continue;
      }
    }
    if (li < lhs.keys.length) {
      const k = lhs.keys[li];
      if (!rhs.observed.has(k)) {
        push(mergeNode(l[li], undefined, list.elem, [...path, lhs.pes[li]]));
        li++;
        continue;
      } else if (mergedRHS.has(k)) li++;
    }
    if (ri < rhs.keys.length) {
      const k = rhs.keys[ri];
      mergedRHS.add(k);
      push(mergeNode(lhs.observed.get(k), rhs.observed.get(k), list.elem, [...path, rhs.pes[ri]]));
      ri++;
      if (next !== undefined && next === k) next = shared.shift();
    }
  }
  return out.length > 0 ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// Removal

/**
 * `v` without the fields, list items and map entries in `set`. A map or list left empty by the
 * removal is dropped (returned as undefined), as it would be once stored.
 */
export function removeItems(v: unknown, set: FieldSet, t: TypeRef): unknown {
  return removeNode(v, set, t);
}

function removeNode(v: unknown, set: FieldSet, t: TypeRef): unknown {
  const atom = deduceAtom(t.atom(), v);
  if (atom.map) {
    const m = mapOf(v);
    if (!m || Object.keys(m).length === 0 || atom.map.atomic) return undefined;
    const out: Obj = {};
    for (const [k, val] of entries(m)) {
      const pe = { field: k };
      if (set.hasMember(pe)) continue;
      const sub = set.withPrefix(pe);
      const nv = sub.empty() ? val : removeNode(val, sub, fieldType(atom.map, k) ?? DEDUCED);
      if (nv !== undefined) put(out, k, nv);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (atom.scalar) return v;
  if (atom.list) {
    const l = listOf(v);
    if (!l || l.length === 0 || !atom.list.associative) return undefined;
    const out: unknown[] = [];
    for (const item of l) {
      const pe = listItemPE(atom.list, item);
      if (typeof pe === "string") {
        out.push(item);
        continue;
      }
      if (set.hasMember(pe)) continue;
      const sub = set.withPrefix(pe);
      const nv = sub.empty() ? item : removeNode(item, sub, atom.list.elem);
      if (nv !== undefined) out.push(nv);
    }
    return out.length > 0 ? out : undefined;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Validation

interface Problem {
  path: string;
  message: string;
}

function prefixed(path: Path, problems: Problem[]): string {
  const p = path.map(peString).join("");
  return formatProblems(problems.map((e) => ({ path: p + e.path, message: e.message })));
}

/** The merge library's rendering of a list of problems. */
function formatProblems(problems: Problem[]): string {
  const one = (e: Problem) => (e.path ? `${e.path}: ${e.message}` : e.message);
  if (problems.length === 1) return one(problems[0]);
  return ["errors:", ...problems.map((e) => "  " + one(e))].join("\n");
}

/**
 * Checks that `v` fits its type: scalars of the declared kind, lists and maps where declared,
 * no undeclared fields, key fields present, and (unless allowed) no duplicate list items.
 * Returns the problems as upstream words them, or undefined.
 */
export function validate(v: unknown, t: TypeRef, allowDuplicates = false): string | undefined {
  const problems: Problem[] = [];
  validateNode(v, t, "", allowDuplicates, problems);
  return problems.length ? formatProblems(problems) : undefined;
}

function wrapped(v: unknown): string {
  return `&{${goV(v)}}`;
}

function validateScalar(kind: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  switch (kind) {
    case "numeric":
      if (typeof v !== "number") return `expected numeric (int or float), got ${goType(v)}`;
      return undefined;
    case "string":
      if (typeof v !== "string") return `expected string, got &value.valueUnstructured{Value:${goSharpV(v)}}`;
      return undefined;
    case "boolean":
      if (typeof v !== "boolean") return `expected boolean, got ${wrapped(v)}`;
      return undefined;
    default:
      if (typeof v !== "number" && typeof v !== "string" && typeof v !== "boolean") {
        return `expected any scalar, got ${wrapped(v)}`;
      }
      return undefined;
  }
}

function validateNode(v: unknown, t: TypeRef, path: string, allowDup: boolean, out: Problem[]): void {
  const atom = deduceAtom(t.atom(), v);
  if (atom.map) {
    if (v === null || v === undefined) return;
    if (!isMap(v)) {
      out.push({ path, message: `expected map, got ${wrapped(v)}` });
      return;
    }
    for (const [k, val] of entries(v)) {
      const ft = fieldType(atom.map, k);
      if (!ft) {
        out.push({ path: `${path}.${k}`, message: "field not declared in schema" });
        return;
      }
      validateNode(val, ft, `${path}.${k}`, allowDup, out);
    }
    return;
  }
  if (atom.scalar) {
    const message = validateScalar(atom.scalar, v);
    if (message) out.push({ path, message });
    return;
  }
  if (atom.list) {
    if (v === null || v === undefined) return;
    if (!Array.isArray(v)) {
      out.push({ path, message: `expected list, got ${wrapped(v)}` });
      return;
    }
    const seen = new Set<string>();
    for (let i = 0; i < v.length; i++) {
      let pe: PathElement;
      if (!atom.list.associative) pe = { index: i };
      else {
        const got = listItemPE(atom.list, v[i]);
        if (typeof got === "string") {
          out.push({ path, message: `element ${i}: ${got}` });
          return;
        }
        pe = got;
        const k = serializePE(pe);
        if (seen.has(k) && !allowDup) {
          out.push({ path, message: `duplicate entries for key ${peString(pe)}` });
        }
        seen.add(k);
      }
      validateNode(v[i], atom.list.elem, path + peString(pe), allowDup, out);
    }
    return;
  }
  out.push({ path, message: "schema error: invalid atom: inlined" });
}

/** Sorts path elements in place (exported for tests). */
export function sortPEs(pes: PathElement[]): PathElement[] {
  return pes.sort(comparePE);
}
