/**
 * JSON patch (RFC 6902): add, remove, replace, move, copy and test operations addressed by
 * JSON pointers (RFC 6901).
 */

export interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** A patch that cannot be applied; the message says which operation and why. */
export class JsonPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonPatchError";
  }
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new JsonPatchError(`invalid JSON pointer: "${pointer}"`);
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return v !== null && typeof v === "object";
}

function arrayIndex(token: string, length: number, forAdd: boolean): number {
  if (forAdd && token === "-") return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchError(`invalid array index: "${token}"`);
  const i = Number(token);
  if (i > length || (!forAdd && i === length)) throw new JsonPatchError(`array index out of range: ${i}`);
  return i;
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Container; last: string } {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false)];
    else if (isContainer(node) && Object.hasOwn(node, t)) node = (node as Record<string, unknown>)[t];
    else throw new JsonPatchError(`doc is missing path: "${path}"`);
  }
  if (!isContainer(node)) throw new JsonPatchError(`doc is missing path: "${path}"`);
  return { parent: node, last: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, path: string): unknown {
  let node = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false)];
    else if (isContainer(node) && Object.hasOwn(node, t)) node = (node as Record<string, unknown>)[t];
    else throw new JsonPatchError(`doc is missing path: "${path}"`);
  }
  return node;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true), 0, value);
  else parent[last] = value;
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new JsonPatchError("cannot remove the whole document");
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false), 1);
  else if (Object.hasOwn(parent, last)) delete parent[last];
  else throw new JsonPatchError(`unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isContainer(v)) {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Applies the operations in order to `doc` (which may be mutated) and returns the result. */
export function applyJsonPatch(doc: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new JsonPatchError("a JSON patch must be an array of operations");
  for (const raw of operations) {
    if (!isContainer(raw) || Array.isArray(raw)) throw new JsonPatchError("a JSON patch operation must be an object");
    const op = raw as unknown as JsonPatchOperation;
    if (typeof op.path !== "string") throw new JsonPatchError(`operation "${op.op}" has no "path"`);
    switch (op.op) {
      case "add":
        if (!("value" in op)) throw new JsonPatchError(`add operation does not apply: missing value`);
        doc = add(doc, op.path, structuredClone(op.value));
        break;
      case "remove":
        doc = remove(doc, op.path);
        break;
      case "replace": {
        if (!("value" in op)) throw new JsonPatchError(`replace operation does not apply: missing value`);
        getAt(doc, op.path);
        const tokens = parsePointer(op.path);
        if (tokens.length === 0) {
          doc = structuredClone(op.value);
          break;
        }
        const { parent, last } = parentOf(doc, tokens, op.path);
        if (Array.isArray(parent)) parent[arrayIndex(last, parent.length, false)] = structuredClone(op.value);
        else parent[last] = structuredClone(op.value);
        break;
      }
      case "move": {
        if (typeof op.from !== "string") throw new JsonPatchError(`move operation has no "from"`);
        if (op.path.startsWith(op.from + "/")) throw new JsonPatchError("cannot move a value into itself");
        const value = getAt(doc, op.from);
        doc = remove(doc, op.from);
        doc = add(doc, op.path, value);
        break;
      }
      case "copy": {
        if (typeof op.from !== "string") throw new JsonPatchError(`copy operation has no "from"`);
        doc = add(doc, op.path, structuredClone(getAt(doc, op.from)));
        break;
      }
      case "test": {
        const actual = getAt(doc, op.path);
        if (!deepEqual(actual, op.value)) throw new JsonPatchError(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new JsonPatchError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}
