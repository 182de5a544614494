/**
 * Sets of field paths, kept as a tree: at each level the path elements that are members (the
 * path ending there is in the set) and the children (sets of longer paths). This is the shape
 * FieldsV1 serializes: a member without children is `"f:x":{}`, a member with children carries
 * `".":{}` among them.
 */

import { comparePE, parsePE, type Path, type PathElement, PathElementError, serializePE } from "./path.ts";

interface Child {
  pe: PathElement;
  set: FieldSet;
}

/** A set of paths. Instances are treated as immutable by the operations that return new sets. */
export class FieldSet {
  /** Members at this level, by serialized path element. */
  readonly members = new Map<string, PathElement>();
  /** Non-empty child sets, by serialized path element. */
  readonly children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds `path` (mutates this set). The empty path is ignored. */
  insert(path: Path): void {
    if (path.length === 0) return;
    let node = this.#self();
    for (let i = 0; i < path.length - 1; i++) {
      const k = serializePE(path[i]);
      let c = node.children.get(k);
      if (!c) {
        c = { pe: path[i], set: new FieldSet() };
        node.children.set(k, c);
      }
      node = c.set;
    }
    const last = path[path.length - 1];
    node.members.set(serializePE(last), last);
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this.#self();
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(serializePE(path[i]))?.set;
    return node ? node.members.has(serializePE(path[path.length - 1])) : false;
  }

  #self(): FieldSet {
    return this;
  }

  empty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** The set of paths below `pe` (with `pe` removed from their front). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializePE(pe))?.set ?? EMPTY;
  }

  /** Whether `pe` is a member at this level. */
  hasMember(pe: PathElement): boolean {
    return this.members.has(serializePE(pe));
  }

  copy(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, c] of this.children) out.children.set(k, { pe: c.pe, set: c.set.copy() });
    return out;
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, pe] of other.members) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      out.children.set(k, { pe: c.pe, set: o ? c.set.union(o.set) : c.set.copy() });
    }
    for (const [k, c] of other.children) {
      if (!this.children.has(k)) out.children.set(k, { pe: c.pe, set: c.set.copy() });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const s = c.set.intersection(o.set);
      if (!s.empty()) out.children.set(k, { pe: c.pe, set: s });
    }
    return out;
  }

  /** The paths of this set that are not in `other` (exact paths only). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (!o) {
        out.children.set(k, { pe: c.pe, set: c.set.copy() });
        continue;
      }
      const s = c.set.difference(o.set);
      if (!s.empty()) out.children.set(k, { pe: c.pe, set: s });
    }
    return out;
  }

  /** Like `difference`, and a member of `other` also removes every path below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (other.members.has(k)) continue;
      const o = other.children.get(k);
      if (!o) {
        out.children.set(k, { pe: c.pe, set: c.set.copy() });
        continue;
      }
      const s = c.set.recursiveDifference(o.set);
      if (!s.empty()) out.children.set(k, { pe: c.pe, set: s });
    }
    return out;
  }

  /** Every path in the set: at each level the members first, then the children, each sorted. */
  paths(): Path[] {
    const out: Path[] = [];
    this.#collect([], out);
    return out;
  }

  #collect(prefix: PathElement[], out: Path[]): void {
    for (const pe of sortedPEs([...this.members.values()])) out.push([...prefix, pe]);
    for (const c of sortedChildren([...this.children.values()])) c.set.#collect([...prefix, c.pe], out);
  }

  size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.set.size();
    return n;
  }

  equals(other: FieldSet): boolean {
    if (this.members.size !== other.members.size || this.children.size !== other.children.size) return false;
    for (const k of this.members.keys()) if (!other.members.has(k)) return false;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (!o || !c.set.equals(o.set)) return false;
    }
    return true;
  }

  /** The set as a FieldsV1 object: keys in upstream's order, `"."` for a member with children. */
  toFieldsV1(): Record<string, unknown> {
    return this.#emit(false);
  }

  #emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (includeSelf && !this.empty()) out["."] = {};
    const keys = new Map<string, PathElement>();
    for (const [k, pe] of this.members) keys.set(k, pe);
    for (const [k, c] of this.children) keys.set(k, c.pe);
    const sorted = [...keys.entries()].sort((a, b) => comparePE(a[1], b[1]));
    for (const [k] of sorted) {
      const child = this.children.get(k);
      if (child) out[k] = child.set.#emit(this.members.has(k));
      else out[k] = {};
    }
    return out;
  }

  /** Reads a FieldsV1 object. Throws a FieldsV1Error for a malformed one. */
  static fromFieldsV1(v: unknown): FieldSet {
    if (v === undefined || v === null) return new FieldSet();
    const [set] = readV1(v);
    return set ?? new FieldSet();
  }

  toString(): string {
    return JSON.stringify(this.toFieldsV1());
  }
}

const EMPTY = new FieldSet();

/** A malformed FieldsV1 value. */
export class FieldsV1Error extends Error {}

/** Returns the child set (undefined when none) and whether the value marks its own path. */
function readV1(v: unknown): [FieldSet | undefined, boolean] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new FieldsV1Error(`expected an object, got ${JSON.stringify(v)}`);
  }
  let children: FieldSet | undefined;
  let isMember = false;
  for (const [key, sub] of Object.entries(v as Record<string, unknown>)) {
    if (key === ".") {
      isMember = true;
      continue;
    }
    let pe: PathElement | undefined;
    try {
      pe = parsePE(key);
    } catch (e) {
      if (e instanceof PathElementError) throw new FieldsV1Error(`parsing key as path element: ${e.message}`);
      throw e;
    }
    if (!pe) continue;
    const [grand, childIsMember] = readV1(sub);
    const k = serializePE(pe);
    if (childIsMember) {
      children ??= new FieldSet();
      children.members.set(k, pe);
    }
    if (grand) {
      children ??= new FieldSet();
      const existing = children.children.get(k);
      children.children.set(k, { pe, set: existing ? existing.set.union(grand) : grand });
    }
  }
  if (!children) isMember = true;
  return [children, isMember];
}

function sortedPEs(pes: PathElement[]): PathElement[] {
  return pes.sort(comparePE);
}

function sortedChildren(cs: Child[]): Child[] {
  return cs.sort((a, b) => comparePE(a.pe, b.pe));
}
