/**
 * Server-side apply and managed-fields tracking, as a pure library over JSON objects.
 *
 * `update` records a non-apply write (create, update, any non-apply patch): the fields that
 * changed become the writer's, leave every other manager, and removed fields leave everyone.
 * `apply` merges an applied configuration into the live object by its schema, removes what the
 * applier applied before and no longer applies (unless someone else owns it), and refuses to
 * change fields other managers own unless forced. Both return the object to store, with
 * `metadata.managedFields` rewritten.
 *
 * Order in a request (as kube-apiserver does it):
 *   create/update/patch: `validateWriteOptions` → decode (patch: apply the patch to the live
 *     object) → default → `update(live, obj)` → mutating admission (then
 *     `checkManagedFieldsAfterAdmission`) → strategy (prepareForCreate/Update) → validate →
 *     `ignoreManagedFieldsTimestamps(obj, live)` for updates → store.
 *   apply: `validateWriteOptions("apply")` → parse the body → `apply(live, config)` →
 *     `checkName` → default → admission → strategy → validate → (as above) → store.
 */

import type { SchemaNode, Schemas } from "../../openapi/schema.ts";
import { type FieldError, invalid, StatusError } from "../../machinery/status.ts";
import { clone, type KubeObject } from "../../machinery/object_meta.ts";
import { MergeTypes, type TypeRef } from "./atoms.ts";
import { emptyObject } from "./empty.ts";
import { FieldSet } from "./fieldset.ts";
import { goJson } from "./gojson.ts";
import {
  decodeManagedFields,
  encodeManagedFields,
  isResetManagedFields,
  Managed,
  ManagedFieldsError,
  managedFieldsProblem,
  managerIdentifier,
  normalizeTime,
  parseIdentifier,
} from "./managed.ts";
import { fieldPath, type Path, pathString, valuesEqual } from "./path.ts";
import { CUSTOM_RESOURCE_RESET, type ResetFields, resetFieldsFor, ResetFilter } from "./reset_fields.ts";
import {
  compare,
  type Comparison,
  ensureNamedFieldsAreMembers,
  merge,
  removeItems,
  toFieldSet,
  TypedError,
  validate,
} from "./typed.ts";

/** The annotation client-side apply keeps the last applied configuration in. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** The most update (non-apply) managers kept; older ones merge into `ancient-changes`. */
export const DEFAULT_MAX_UPDATE_MANAGERS = 10;

/** Longest field manager name accepted. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/** Longest annotations total (keys and values) an object may carry. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

const CURRENT_OPERATION = "current-operation";
const BEFORE_FIRST_APPLY = "before-first-apply";
const ANCIENT_CHANGES = "ancient-changes";

/** Fields no manager ever owns. */
const STRIPPED = FieldSet.of(
  fieldPath("apiVersion"),
  fieldPath("kind"),
  fieldPath("metadata"),
  fieldPath("metadata", "name"),
  fieldPath("metadata", "namespace"),
  fieldPath("metadata", "creationTimestamp"),
  fieldPath("metadata", "selfLink"),
  fieldPath("metadata", "uid"),
  fieldPath("metadata", "clusterName"),
  fieldPath("metadata", "generation"),
  fieldPath("metadata", "managedFields"),
  fieldPath("metadata", "resourceVersion"),
);

/** What is written: the kind (as the request's group/version serves it) and where. */
export interface WriteTarget {
  group: string;
  version: string;
  kind: string;
  /** The plural resource name, for the reset-field table (e.g. `deployments`). */
  resource?: string;
  /** `status`, `scale`, …; empty or absent for the main resource. */
  subresource?: string;
  /** Reset fields to use instead of the built-in table. */
  resetFields?: ResetFields;
  /** A custom resource's structural schema (root node), when the kind is not built in. */
  schema?: SchemaNode;
  /** For a custom resource: whether it has a status subresource (selects reset fields). */
  hasStatusSubresource?: boolean;
}

export interface UpdateOptions extends WriteTarget {
  /** The field manager (`fieldManager` parameter, or `managerFromUserAgent(...)`). */
  manager: string;
  /** When the write happens (defaults to now); recorded with whole seconds. */
  time?: Date | number | string;
}

export interface ApplyOptions extends UpdateOptions {
  force?: boolean;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function metaOf(o: Obj): Obj | undefined {
  return isObj(o.metadata) ? o.metadata : undefined;
}

/**
 * `o` without `metadata.managedFields`: a shallow copy (top level and metadata), for reading
 * only — its nested values are `o`'s own.
 */
function withoutManagedFields(o: Obj): Obj {
  const m = metaOf(o);
  if (!m || !("managedFields" in m)) return o;
  const { managedFields: _, ...rest } = m;
  return { ...o, metadata: rest };
}

function setManagedFields(o: Obj, managed: Managed): Obj {
  const entries = encodeManagedFields(managed);
  const m = metaOf(o);
  if (!entries) {
    if (m) delete m.managedFields;
    return o;
  }
  if (m) m.managedFields = entries;
  else o.metadata = { managedFields: entries };
  return o;
}

/** Apply conflicts: by manager identifier, the paths that would change. */
class Conflicts extends Error {
  constructor(readonly byManager: Map<string, FieldSet>) {
    super("conflicts");
  }

  list(): { manager: string; path: Path }[] {
    const out: { manager: string; path: Path }[] = [];
    const ids = [...this.byManager.keys()].sort();
    for (const id of ids) for (const path of this.byManager.get(id)!.paths()) out.push({ manager: id, path });
    return out;
  }
}

/** `"kubectl-client-side-apply" using apps/v1`, `"kubelet" with subresource "status" using v1`. */
export function printManager(id: string): string {
  const info = parseIdentifier(id);
  if (!info) return JSON.stringify(id);
  let s = JSON.stringify(info.manager ?? "");
  if (info.subresource) s += ` with subresource ${JSON.stringify(info.subresource)}`;
  if (info.operation === "Update") s += ` using ${info.apiVersion ?? ""}`;
  return s;
}

/** The 409 for apply conflicts, worded as upstream words it. */
function conflictError(conflicts: { manager: string; path: Path }[]): StatusError {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${
      pathString(conflicts[0].path)
    }`;
  } else {
    const byManager = new Map<string, Path[]>();
    for (const c of conflicts) {
      if (!byManager.has(c.manager)) byManager.set(c.manager, []);
      byManager.get(c.manager)!.push(c.path);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(id)}:`);
      for (const p of byManager.get(id)!) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new StatusError(409, "Conflict", message, { causes });
}

/**
 * An apply this server cannot merge. Upstream answers these with a bare 500; they come from the
 * request's content, so they are a 400 BadRequest here (a server error never means bad input).
 */
function plainError(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const slash = av.lastIndexOf("/");
  const group = slash >= 0 ? av.slice(0, slash) : "";
  const version = slash >= 0 ? av.slice(slash + 1) : av;
  return `${group}/${version}, Kind=${typeof kind === "string" ? kind : ""}`;
}

function objectGVKNN(o: Obj): string {
  const m = metaOf(o);
  const ns = typeof m?.namespace === "string" ? m.namespace : "";
  const name = typeof m?.name === "string" ? m.name : "";
  return `${ns}/${name}; ${gvkString(o.apiVersion, o.kind)}`;
}

/** The state one write works on. */
interface Ctx {
  target: WriteTarget;
  type: TypeRef;
  apiVersion: string;
  subresource: string;
  reset?: ResetFilter;
  time: string;
  /** Whether the write's entry carries a time (scale writes do not). */
  timed: boolean;
}

/**
 * Tracks managed fields and performs server-side apply for objects described by `schemas`.
 * Stateless between calls; one instance serves every kind.
 */
export class FieldManager {
  readonly #schemas: Schemas;
  readonly #types: MergeTypes;
  readonly #maxUpdateManagers: number;
  readonly #customTypes = new WeakMap<SchemaNode, TypeRef>();

  constructor(schemas: Schemas, options: { maxUpdateManagers?: number } = {}) {
    this.#schemas = schemas;
    this.#types = new MergeTypes(schemas);
    this.#maxUpdateManagers = options.maxUpdateManagers ?? DEFAULT_MAX_UPDATE_MANAGERS;
  }

  #ctx(opts: UpdateOptions): Ctx {
    let type: TypeRef;
    if (opts.schema) {
      type = this.#customTypes.get(opts.schema) ?? this.#types.forRoot(opts.schema);
      this.#customTypes.set(opts.schema, type);
    } else type = this.#types.forKind(opts.group, opts.version, opts.kind);
    const subresource = opts.subresource ?? "";
    let reset = opts.resetFields;
    if (!reset && opts.resource) reset = resetFieldsFor(opts.group, opts.resource, subresource);
    if (!reset && opts.hasStatusSubresource) {
      reset = subresource === "status" ? CUSTOM_RESOURCE_RESET.status : CUSTOM_RESOURCE_RESET.main;
    }
    if (!reset && subresource === "scale") reset = { includeOnly: [["spec", "replicas"]] };
    return {
      target: opts,
      type,
      apiVersion: opts.group ? `${opts.group}/${opts.version}` : opts.version,
      subresource,
      reset: reset ? new ResetFilter(reset) : undefined,
      time: normalizeTime(opts.time ?? Date.now()),
      timed: subresource !== "scale",
    };
  }

  /** The object a create starts from (the kind's zero value). */
  emptyObject(target: WriteTarget): Obj {
    if (target.schema) {
      return {
        apiVersion: target.group ? `${target.group}/${target.version}` : target.version,
        kind: target.kind,
      };
    }
    const key = `${target.group}/${target.version}/${target.kind}`;
    let empty = this.#empties.get(key);
    if (!empty) {
      empty = emptyObject(this.#schemas, target.group, target.version, target.kind);
      this.#empties.set(key, empty);
    }
    return clone(empty);
  }

  /** The zero value of each kind, made once (callers get copies). */
  readonly #empties = new Map<string, Obj>();

  /**
   * Records a non-apply write of `next` over `live` (undefined for a create) and returns `next`
   * with its managed fields set. Managed fields the client put in `next` are kept when valid
   * (an empty list, or a list of one empty entry, drops all tracking); otherwise the live
   * object's are used. Subresource writes always start from the live object's. Never throws:
   * on an internal error the live object's managed fields are kept.
   */
  update(live: KubeObject | undefined, next: KubeObject, opts: UpdateOptions): KubeObject {
    const ctx = this.#ctx(opts);
    const isCreate = live === undefined || !metaOf(live)?.uid;
    const liveObj: Obj = live ?? this.emptyObject(opts);
    let managed: Managed;
    if (ctx.subresource) managed = decodeOrEmpty(metaOf(liveObj)?.managedFields);
    else {
      const requested = metaOf(next)?.managedFields;
      if (isResetManagedFields(requested)) managed = new Managed();
      else {
        try {
          managed = decodeManagedFields(requested);
        } catch {
          managed = new Managed();
        }
        if (managed.fields.size === 0) managed = decodeOrEmpty(metaOf(liveObj)?.managedFields);
      }
    }
    const newObj = withoutManagedFields(next);
    try {
      // Objects that stopped being tracked stay untracked until their next apply.
      if (managed.fields.size === 0 && !isCreate) return setManagedFields(newObj, managed) as KubeObject;
      this.#updateChain(ctx, withoutManagedFields(liveObj), newObj, managed, opts.manager);
      return setManagedFields(newObj, managed) as KubeObject;
    } catch (e) {
      if (!(e instanceof TypedError || e instanceof ManagedFieldsError)) throw e;
      const m = metaOf(newObj);
      const kept = metaOf(liveObj)?.managedFields;
      if (m) {
        if (kept === undefined) delete m.managedFields;
        else m.managedFields = clone(kept);
      }
      return newObj as KubeObject;
    }
  }

  /**
   * Applies `config` (the decoded apply body) to `live` (undefined when the object does not
   * exist: the result is then the object to create). Throws StatusErrors: 400 for a body of
   * the wrong kind or carrying managedFields, 409 for conflicts, 500 for a body that does not
   * fit the schema. The result still needs defaulting.
   */
  apply(live: KubeObject | undefined, config: unknown, opts: ApplyOptions): KubeObject {
    const ctx = this.#ctx(opts);
    const manager = opts.manager;
    const liveObj: Obj = live ?? this.emptyObject(opts);
    let managed: Managed;
    try {
      managed = decodeManagedFields(metaOf(liveObj)?.managedFields);
    } catch (e) {
      if (e instanceof ManagedFieldsError) throw plainError(`failed to decode managed fields: ${e.message}`);
      throw e;
    }
    if (!isObj(config)) throw new StatusError(400, "BadRequest", "invalid object type: /, Kind=");
    const wantVersion = ctx.apiVersion;
    if (config.apiVersion !== wantVersion || config.kind !== opts.kind) {
      throw new StatusError(
        400,
        "BadRequest",
        `invalid object type: ${gvkString(config.apiVersion, config.kind)}`,
      );
    }

    const attempt = (force: boolean) =>
      this.#applyChain(ctx, live === undefined, liveObj, config, managed.copy(), manager, force);
    const result = this.#withLastAppliedConflicts(
      ctx,
      liveObj,
      manager,
      () => attempt(opts.force ?? false),
      () => attempt(true),
    );

    const object = result.object;
    if (manager === "kubectl" && hasLastApplied(object)) setLastApplied(object, buildLastApplied(config));
    return setManagedFields(object, result.managed) as KubeObject;
  }

  /**
   * Runs an apply; when `kubectl` conflicts only on fields it applied client-side (the
   * last-applied annotation) and nobody changed since, runs it again forced.
   */
  #withLastAppliedConflicts<T>(ctx: Ctx, liveObj: Obj, manager: string, run: () => T, forced: () => T): T {
    try {
      return run();
    } catch (e) {
      if (!(e instanceof Conflicts)) throw e;
      let remaining = e.list();
      if (manager === "kubectl") {
        const allowed = this.#allowedConflictsFromLastApplied(ctx, liveObj);
        if (allowed) {
          remaining = remaining.filter((c) => !allowed.has(c.path));
          if (remaining.length === 0) return forced();
        }
      }
      throw conflictError(remaining);
    }
  }

  // -------------------------------------------------------------------------------------------
  // The update path

  /** Records an update by `manager` into `managed` (identifiers, times, the update cap). */
  #updateChain(ctx: Ctx, liveObj: Obj, newObj: Obj, managed: Managed, manager: string): void {
    const id = managerIdentifier({
      manager: manager || "unknown",
      operation: "Update",
      apiVersion: ctx.apiVersion,
      subresource: ctx.subresource,
    });
    this.#smdUpdate(ctx, liveObj, newObj, managed, CURRENT_OPERATION);
    strip(managed, CURRENT_OPERATION);
    const vs = managed.fields.get(CURRENT_OPERATION);
    if (vs) {
      managed.fields.delete(CURRENT_OPERATION);
      const previous = managed.fields.get(id);
      managed.fields.set(id, previous ? { ...vs, set: vs.set.union(previous.set) } : vs);
      if (ctx.timed) managed.times.set(id, ctx.time);
      else managed.times.delete(id);
    }
    this.#capUpdateManagers(managed);
  }

  #filter(ctx: Ctx, s: FieldSet): FieldSet {
    return ctx.reset ? ctx.reset.filter(s) : s;
  }

  /** Takes changed fields from other managers (or refuses, unless forced); drops removed ones. */
  #updateManagers(
    ctx: Ctx,
    live: Obj,
    next: Obj,
    managed: Managed,
    workflow: string,
    force: boolean,
  ): Comparison {
    const raw = compare(live, next, ctx.type);
    const cmp: Comparison = {
      removed: this.#filter(ctx, raw.removed),
      modified: this.#filter(ctx, raw.modified),
      added: this.#filter(ctx, raw.added),
    };
    const changed = cmp.modified.union(cmp.added);
    const conflicts = new Map<string, FieldSet>();
    for (const [id, vs] of managed.fields) {
      if (id === workflow) continue;
      const c = vs.set.intersection(changed);
      if (!c.empty()) conflicts.set(id, c);
    }
    if (!force && conflicts.size) throw new Conflicts(conflicts);
    for (const [id, vs] of managed.fields) {
      if (id === workflow) continue;
      let set = vs.set;
      const c = conflicts.get(id);
      if (c) set = set.difference(c);
      if (!cmp.removed.empty()) set = set.difference(cmp.removed);
      if (set.empty()) {
        managed.fields.delete(id);
      } else managed.fields.set(id, { ...vs, set });
    }
    return cmp;
  }

  #smdUpdate(ctx: Ctx, live: Obj, next: Obj, managed: Managed, manager: string): void {
    const cmp = this.#updateManagers(ctx, live, next, managed, manager, true);
    const previous = managed.fields.get(manager)?.set ?? new FieldSet();
    const set = this.#filter(ctx, previous.difference(cmp.removed).union(cmp.modified).union(cmp.added));
    if (set.empty()) managed.fields.delete(manager);
    else managed.fields.set(manager, { set, apiVersion: ctx.apiVersion, applied: false });
  }

  #capUpdateManagers(managed: Managed): void {
    const updaters = [...managed.fields.entries()].filter(([, vs]) => !vs.applied).map(([id]) => id);
    if (updaters.length <= this.#maxUpdateManagers) return;
    const secs = (id: string) => {
      const t = managed.times.get(id);
      return t ? Math.floor(Date.parse(t) / 1000) : 0;
    };
    updaters.sort((a, b) => (secs(a) !== secs(b) ? secs(a) - secs(b) : a < b ? -1 : a > b ? 1 : 0));
    const firstByVersion = new Map<string, string>();
    let length = updaters.length;
    for (let i = 0; i < updaters.length && length > this.#maxUpdateManagers; i++) {
      const id = updaters[i];
      const vs = managed.fields.get(id)!;
      const time = managed.times.get(id);
      const bucket = managerIdentifier({
        manager: ANCIENT_CHANGES,
        operation: "Update",
        apiVersion: vs.apiVersion,
      });
      const first = firstByVersion.get(vs.apiVersion);
      if (first === undefined) {
        firstByVersion.set(vs.apiVersion, id);
        continue;
      }
      if (!managed.fields.has(bucket)) {
        const s = managed.fields.get(first)!;
        managed.fields.delete(first);
        managed.fields.set(bucket, s);
      }
      managed.fields.set(bucket, { ...vs, set: vs.set.union(managed.fields.get(bucket)!.set) });
      managed.fields.delete(id);
      length--;
      if (time !== undefined) managed.times.set(bucket, time);
      else managed.times.delete(bucket);
    }
  }

  // -------------------------------------------------------------------------------------------
  // The apply path

  #applyChain(
    ctx: Ctx,
    creating: boolean,
    liveObj: Obj,
    config: Obj,
    managed: Managed,
    manager: string,
    force: boolean,
  ): { object: Obj; managed: Managed } {
    const live = withoutManagedFields(liveObj);
    // Fields set before anything was applied belong to a placeholder manager.
    if (managed.fields.size === 0 && !creating) {
      this.#updateChain(ctx, this.emptyObject(ctx.target), live, managed, BEFORE_FIRST_APPLY);
    }
    const id = managerIdentifier({ manager, operation: "Apply", subresource: ctx.subresource });

    if (metaOf(config)?.managedFields !== undefined && metaOf(config)?.managedFields !== null) {
      throw new StatusError(400, "BadRequest", "metadata.managedFields must be nil");
    }
    const problem = validate(config, ctx.type);
    if (problem) throw plainError(`failed to create typed patch object (${objectGVKNN(config)}): ${problem}`);

    let merged: Obj;
    try {
      merged = (merge(creating ? undefined : live, config, ctx.type) as Obj | undefined) ?? {};
    } catch (e) {
      if (e instanceof TypedError) throw plainError(`failed to merge config: ${e.message}`);
      throw e;
    }
    const lastSet = managed.fields.get(id);
    const set = this.#filter(ctx, toFieldSet(config, ctx.type));
    managed.fields.set(id, { set, apiVersion: ctx.apiVersion, applied: true });
    merged = this.#prune(ctx, merged, managed, lastSet?.set);
    const base = creating ? this.emptyObject(ctx.target) : live;
    this.#updateManagers(ctx, base, merged, managed, id, force);
    strip(managed, id);

    if (!creating && valuesEqual(live, merged)) {
      // Nothing changed: the live object stays as it is and the applier's time is not bumped.
      return { object: clone(liveObj), managed };
    }
    managed.times.set(id, ctx.time);
    return { object: merged, managed };
  }

  /**
   * Removes what `manager` applied last time and no longer applies, unless another manager
   * (or the new configuration) owns it.
   */
  #prune(ctx: Ctx, merged: Obj, managed: Managed, lastSet: FieldSet | undefined): Obj {
    if (!lastSet || lastSet.empty()) return merged;
    const t = ctx.type;
    const ensure = (s: FieldSet) => ensureNamedFieldsAreMembers(s, t);
    const last = ensure(lastSet);
    const pruned = (removeItems(merged, last, t) ?? {}) as Obj;
    let owned = new FieldSet();
    for (const vs of managed.fields.values()) owned = owned.union(vs.set);
    const mergedSet = ensure(toFieldSet(merged, t));
    const keep = ensure(toFieldSet(pruned, t)).union(ensure(owned));
    const ownedBack = (removeItems(merged, mergedSet.difference(keep), t) ?? {}) as Obj;
    const stillThere = ensure(toFieldSet(ownedBack, t));
    return (removeItems(merged, mergedSet.difference(stillThere).intersection(last), t) ?? {}) as Obj;
  }

  /** Fields whose conflicts `kubectl` may take over: what it applied client-side, unchanged since. */
  #allowedConflictsFromLastApplied(ctx: Ctx, liveObj: Obj): FieldSet | undefined {
    const annotations = metaOf(liveObj)?.annotations;
    const text = isObj(annotations) ? annotations[LAST_APPLIED_ANNOTATION] : undefined;
    if (typeof text !== "string" || text === "") return undefined;
    let lastApplied: unknown;
    try {
      lastApplied = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isObj(lastApplied) || lastApplied.apiVersion !== ctx.apiVersion) return undefined;
    if (validate(lastApplied, ctx.type)) return undefined;
    const set = toFieldSet(lastApplied, ctx.type);
    const cmp = compare(lastApplied, withoutManagedFields(liveObj), ctx.type);
    return set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
  }
}

function decodeOrEmpty(list: unknown): Managed {
  try {
    return decodeManagedFields(list);
  } catch {
    return new Managed();
  }
}

/** Removes the fields no manager owns from `id`'s set (dropping it if nothing is left). */
function strip(managed: Managed, id: string): void {
  const vs = managed.fields.get(id);
  if (!vs) return;
  const set = vs.set.difference(STRIPPED);
  if (set.empty()) managed.fields.delete(id);
  else managed.fields.set(id, { ...vs, set });
}

function hasLastApplied(o: Obj): boolean {
  const a = metaOf(o)?.annotations;
  return isObj(a) && typeof a[LAST_APPLIED_ANNOTATION] === "string" && a[LAST_APPLIED_ANNOTATION] !== "";
}

/** The last-applied annotation value for an applied configuration (compact JSON, sorted keys). */
export function buildLastApplied(config: Obj): string {
  const copy = clone(config);
  const m = metaOf(copy);
  if (m && isObj(m.annotations)) delete m.annotations[LAST_APPLIED_ANNOTATION];
  return goJson(copy) + "\n";
}

function setLastApplied(o: Obj, value: string): void {
  let m = metaOf(o);
  if (!m) {
    m = {};
    o.metadata = m;
  }
  const annotations: Record<string, unknown> = isObj(m.annotations) ? m.annotations : {};
  annotations[LAST_APPLIED_ANNOTATION] = value;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += k.length + String(v).length;
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
  m.annotations = annotations;
}

// ---------------------------------------------------------------------------------------------
// Request options

/**
 * The manager of a non-apply write without `fieldManager`: the User-Agent up to its first
 * `/`, without unprintable characters, cut to 128 bytes.
 */
export function managerFromUserAgent(userAgent: string | undefined | null): string {
  const prefix = (userAgent ?? "").split("/")[0];
  let out = "";
  let bytes = 0;
  for (const ch of prefix) {
    if (!isPrintable(ch)) continue;
    const n = new TextEncoder().encode(ch).length;
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** `fieldManager`, or the User-Agent prefix when it is empty. */
export function managerOrUserAgent(
  fieldManager: string | undefined,
  userAgent: string | undefined | null,
): string {
  return fieldManager ? fieldManager : managerFromUserAgent(userAgent);
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function isPrintable(ch: string): boolean {
  return PRINTABLE.test(ch);
}

/** Problems with a field manager name (length, unprintable characters). */
export function validateFieldManager(fieldManager: string, path = "fieldManager"): FieldError[] {
  const errors: FieldError[] = [];
  if (new TextEncoder().encode(fieldManager).length > FIELD_MANAGER_MAX_LENGTH) {
    errors.push({
      type: "FieldValueTooLong",
      field: path,
      detail: `may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`,
    });
  }
  let pos = 0;
  for (const ch of fieldManager) {
    if (!isPrintable(ch)) {
      const cp = ch.codePointAt(0)!;
      errors.push({
        type: "FieldValueInvalid",
        field: path,
        value: fieldManager,
        detail: `invalid character U+${cp.toString(16).toUpperCase().padStart(4, "0")} (at position ${pos})`,
      });
    }
    pos += new TextEncoder().encode(ch).length;
  }
  return errors;
}

/** Which request the options came with. */
export type WriteVerb = "create" | "update" | "patch" | "apply";

/**
 * Checks `fieldManager` and `force` as upstream checks Create/Update/PatchOptions; returns the
 * 422 to send (`PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is
 * required for apply patch`), or undefined.
 */
export function validateWriteOptions(
  verb: WriteVerb,
  options: { fieldManager?: string; force?: boolean | string | undefined },
): StatusError | undefined {
  const errors: FieldError[] = [];
  const fm = options.fieldManager ?? "";
  if (verb === "patch" && options.force !== undefined) {
    errors.push({
      type: "FieldValueForbidden",
      field: "force",
      detail: "may not be specified for non-apply patch",
    });
  }
  if (verb === "apply" && fm === "") {
    errors.push({ type: "FieldValueRequired", field: "fieldManager", detail: "is required for apply patch" });
  }
  errors.push(...validateFieldManager(fm));
  if (!errors.length) return undefined;
  const kind = verb === "create" ? "CreateOptions" : verb === "update" ? "UpdateOptions" : "PatchOptions";
  return invalid("meta.k8s.io", kind, "", errors);
}

/**
 * Checks the object a write produced against the name (and namespace) in the URL, as upstream
 * does after applying a patch: 400 `the name of the object (x based on URL) was undeterminable:
 * name must be provided`, or `… does not match the name on the URL (y)`.
 */
export function checkName(obj: KubeObject, name: string, namespace?: string): StatusError | undefined {
  const objName = obj.metadata?.name ?? "";
  if (!objName) {
    return new StatusError(
      400,
      "BadRequest",
      `the name of the object (${name} based on URL) was undeterminable: name must be provided`,
    );
  }
  if (objName !== name) {
    return new StatusError(
      400,
      "BadRequest",
      `the name of the object (${objName}) does not match the name on the URL (${name})`,
    );
  }
  const objNamespace = obj.metadata?.namespace ?? "";
  if (namespace && objNamespace && objNamespace !== namespace) {
    return new StatusError(
      400,
      "BadRequest",
      `the namespace of the object (${objNamespace}) does not match the namespace on the request (${namespace})`,
    );
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Around the write

/**
 * Undoes a change of managed-field times when nothing else changed, so that a write that only
 * bumped a timestamp (re-applying with values the server normalizes, a `creationTimestamp: null`
 * in the body) stores nothing. Call it on the object about to be stored, after the strategy has
 * run, with the stored object; it returns `next` (possibly with the old times restored).
 */
export function ignoreManagedFieldsTimestamps(next: KubeObject, old: KubeObject): KubeObject {
  const nm = next.metadata?.managedFields;
  const om = old.metadata?.managedFields;
  if (!Array.isArray(nm) || !Array.isArray(om) || nm.length === 0 || nm.length !== om.length) return next;
  const timeOf = (e: unknown) => (isObj(e) ? e.time : undefined);
  if (nm.every((e, i) => timeOf(e) === timeOf(om[i]))) return next;
  const withoutTime = (e: unknown) => {
    if (!isObj(e)) return e;
    const { time: _t, ...rest } = e;
    return rest;
  };
  if (!nm.every((e, i) => valuesEqual(withoutTime(e), withoutTime(om[i])))) return next;
  if (!valuesEqual(withoutManagedFields(next), withoutManagedFields(old))) return next;
  const out = clone(next);
  out.metadata!.managedFields = nm.map((e, i) => {
    const copy = clone(e) as Obj;
    const t = timeOf(om[i]);
    if (t === undefined) delete copy.time;
    else copy.time = t;
    return copy;
  });
  return out;
}

/**
 * After mutating admission: when admission left `metadata.managedFields` invalid, puts back what
 * it was before (`before`) and returns the warning to send; otherwise returns undefined.
 */
export function checkManagedFieldsAfterAdmission(obj: KubeObject, before: unknown): string | undefined {
  const after = obj.metadata?.managedFields;
  if (valuesEqual(after, before)) return undefined;
  const problem = managedFieldsProblem(after);
  if (!problem) return undefined;
  if (obj.metadata) {
    if (before === undefined) delete obj.metadata.managedFields;
    else obj.metadata.managedFields = clone(before) as unknown[];
  }
  return ".metadata.managedFields was in an invalid state after admission; this could be caused by an outdated " +
    `mutating admission controller; please fix your requests: ${problem}`;
}

/** Longest subresource name a managedFields entry may carry. */
const MAX_SUBRESOURCE_NAME_LENGTH = 256;

/** Object metadata validation of `metadata.managedFields` (operation, fieldsType, manager, subresource). */
export function validateManagedFieldsEntries(list: unknown, path = "metadata.managedFields"): FieldError[] {
  const errors: FieldError[] = [];
  if (!Array.isArray(list)) return errors;
  list.forEach((raw, i) => {
    const e = isObj(raw) ? raw : {};
    const p = `${path}[${i}]`;
    const operation = typeof e.operation === "string" ? e.operation : "";
    if (operation !== "Apply" && operation !== "Update") {
      errors.push({
        type: "FieldValueInvalid",
        field: `${p}.operation`,
        value: operation,
        detail: "must be `Apply` or `Update`",
      });
    }
    const fieldsType = typeof e.fieldsType === "string" ? e.fieldsType : "";
    if (fieldsType && fieldsType !== "FieldsV1") {
      errors.push({
        type: "FieldValueInvalid",
        field: `${p}.fieldsType`,
        value: fieldsType,
        detail: "must be `FieldsV1`",
      });
    }
    errors.push(...validateFieldManager(typeof e.manager === "string" ? e.manager : "", `${p}.manager`));
    const sub = typeof e.subresource === "string" ? e.subresource : "";
    if (sub.length > MAX_SUBRESOURCE_NAME_LENGTH) {
      errors.push({
        type: "FieldValueTooLong",
        field: `${p}.subresource`,
        detail: `may not be more than ${MAX_SUBRESOURCE_NAME_LENGTH} bytes`,
      });
    }
  });
  return errors;
}
