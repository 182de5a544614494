/**
 * The generic resource store: create, get, list, update, patch, delete, deletecollection and
 * watch for any kind, over the storage `Store`. It owns the order of the steps; a kind plugs
 * in a `Strategy`. A subresource (`status`) is the same store called with `subresource` set.
 */

import {
  alreadyExists,
  badRequest,
  conflict,
  continueExpired,
  type FieldError,
  invalid,
  notFound,
  resourceExpired,
  StatusError,
} from "../../machinery/status.ts";
import {
  clone,
  generateNameFrom,
  jsonEqual,
  type KubeObject,
  metaOf,
  newUid,
  type ObjectMeta,
  rfc3339,
} from "../../machinery/object_meta.ts";
import {
  isStorageError,
  type KeyValue,
  type Store,
  type Watcher,
  type WatchEvent,
} from "../../storage/store.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";
import { type Reservation, specOf, type Strategy, type StrategyContext } from "./strategy.ts";
import { decodeContinue, encodeContinue } from "./continue_token.ts";
import type { Converter } from "./conversion.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./meta_validation.ts";
import { type AdmissionChain, admissionName } from "../admission/mod.ts";
import {
  defaultGarbageCollectionPolicy,
  finalizersForGarbageCollection,
  type GarbageCollectionPolicy,
  validatePropagation,
} from "./propagation.ts";

/** Selects objects for list, watch and deletecollection. */
export interface ObjectFilter {
  matches(obj: KubeObject): boolean;
  /** Set when the filter pins `metadata.name` to one value (a point read suffices). */
  name?: string;
  /** True when the filter selects everything. */
  everything: boolean;
}

export const EVERYTHING: ObjectFilter = { matches: () => true, everything: true };

export interface ListParams {
  filter?: ObjectFilter;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: string;
  /** Let an update of a missing object create it (PUT of kinds that allow it, server-side apply). */
  allowCreate?: boolean;
  /** Records who changed what (managed fields) for this request. */
  tracker?: ChangeTracker;
}

/** Semantic checks of one kind. */
export interface ObjectValidator {
  validate(obj: KubeObject): FieldError[];
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
}

/** The per-request record of changes: called on the object the client wants, then on the result. */
export interface ChangeTracker {
  /** Before the strategy prepares `obj`; `live` is the stored object (undefined on create). */
  record(obj: KubeObject, live: KubeObject | undefined): KubeObject;
  /** On the object about to be stored by an update. */
  settle?(obj: KubeObject, live: KubeObject): KubeObject;
}

export interface DeleteOptionsBody {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  orphanDependents?: boolean;
  dryRun?: string[];
}

export interface DeleteResult {
  object: KubeObject;
  /** False when the object was only marked for deletion (finalizers, grace period). */
  deleted: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchSink {
  event(type: WatchEventType, obj: KubeObject): void;
  /** The initial events of `sendInitialEvents` are all out, as of `resourceVersion`. */
  initialEventsEnd?(resourceVersion: string): void;
  error(err: StatusError): void;
}

export interface WatchParams {
  filter?: ObjectFilter;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
}

/** Checks a namespace before content is created in it; throws a StatusError to refuse. */
export type NamespaceAdmission = (namespace: string, info: ResourceInfo, name: string) => Promise<void>;

export interface ResourceStoreOptions {
  info: ResourceInfo;
  strategy: Strategy;
  store: Store;
  /** The storage key prefix, e.g. `/registry/pods/`; defaults from the group and resource. */
  keyPrefix?: string;
  admitNamespace?: NamespaceAdmission;
  now?: () => number;
  /** Fills the defaults of the kind, as decoding does upstream (create, update and patch results). */
  defaulter?: (obj: KubeObject) => void;
  /** The kind's semantic checks (beyond metadata), run after the strategy prepared the object. */
  validator?: ObjectValidator;
  /** For a version served from another version's storage: how to convert on the way. */
  converter?: Converter;
  /** The admission plugins writes pass through (creates and updates). */
  admission?: AdmissionChain;
}

/** Told of every committed write of a store (not dry runs): the namespace ("" if cluster-scoped) and name. */
export type ChangeListener = (namespace: string, name: string) => void;

/** Preconditions of a direct write, as DeleteOptions carries them. */
export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/** `/registry/pods/`, `/registry/apps/deployments/`. */
export function defaultKeyPrefix(info: Pick<ResourceInfo, "group" | "resource">): string {
  return info.group ? `/registry/${info.group}/${info.resource}/` : `/registry/${info.resource}/`;
}

function parseResourceVersion(rv: string, what = "resource version"): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid ${what}: ${rv}`);
  const n = Number(rv);
  if (!Number.isSafeInteger(n)) throw badRequest(`invalid ${what}: ${rv}`);
  return n;
}

/** ObjectMeta's fields in the order upstream serializes them. */
const METADATA_ORDER = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
];

/** A copy of `meta` with its fields in upstream's order (so equal metadata stores equal bytes). */
/** Lists and maps of ObjectMeta that Go leaves out when empty (`omitempty`). */
const OMIT_EMPTY = new Set(["labels", "annotations", "ownerReferences", "finalizers", "managedFields"]);

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return value !== null && typeof value === "object" && Object.keys(value).length === 0;
}

function canonicalMetadata(meta: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = {};
  const keep = (key: string, value: unknown) =>
    value !== undefined && !(OMIT_EMPTY.has(key) && isEmpty(value));
  for (const key of METADATA_ORDER) if (keep(key, meta[key])) out[key] = meta[key];
  for (const [key, value] of Object.entries(meta)) if (!(key in out) && keep(key, value)) out[key] = value;
  return out;
}

export class ResourceStore {
  readonly info: ResourceInfo;
  readonly strategy: Strategy;
  readonly keyPrefix: string;
  readonly #store: Store;
  readonly #admitNamespace?: NamespaceAdmission;
  readonly #now: () => number;
  readonly #hasStatus: boolean;
  readonly #gr: { group: string; resource: string };
  readonly #converter?: Converter;
  readonly #defaulter?: (obj: KubeObject) => void;
  readonly #validator?: ObjectValidator;
  readonly #gcPolicy: GarbageCollectionPolicy;
  readonly #admission?: AdmissionChain;
  readonly #listeners: ChangeListener[] = [];
  /** One read-only object per store event, shared by every watcher of this store. */
  readonly #stamped = new WeakMap<WatchEvent<KubeObject>, KubeObject>();

  constructor(options: ResourceStoreOptions) {
    this.info = options.info;
    this.strategy = options.strategy;
    this.#store = options.store;
    this.keyPrefix = options.keyPrefix ?? defaultKeyPrefix(options.info);
    this.#admitNamespace = options.admitNamespace;
    this.#now = options.now ?? Date.now;
    this.#hasStatus = options.info.subresources.some((s) => s.name === "status");
    this.#gr = { group: options.info.group, resource: options.info.resource };
    this.#gcPolicy = defaultGarbageCollectionPolicy(
      options.info.group,
      options.info.version,
      options.info.resource,
    );
    this.#converter = options.converter;
    this.#defaulter = options.defaulter;
    this.#validator = options.validator;
    this.#admission = options.admission;
  }

  /** Calls `listener` after every committed write of this store (creates, updates, deletes). */
  onChange(listener: ChangeListener): void {
    this.#listeners.push(listener);
  }

  #changed(obj: KubeObject): void {
    if (this.#listeners.length === 0) return;
    const meta = metaOf(obj);
    for (const listener of this.#listeners) listener(meta.namespace ?? "", meta.name ?? "");
  }

  get apiVersion(): string {
    return this.info.group ? `${this.info.group}/${this.info.version}` : this.info.version;
  }

  /** The storage key of one object. */
  key(namespace: string, name: string): string {
    return this.info.namespaced ? `${this.keyPrefix}${namespace}/${name}` : `${this.keyPrefix}${name}`;
  }

  /** The prefix a list in `namespace` ("" = all) reads. */
  listPrefix(namespace: string): string {
    return this.info.namespaced && namespace ? `${this.keyPrefix}${namespace}/` : this.keyPrefix;
  }

  #ctx(subresource = ""): StrategyContext {
    return { info: this.info, subresource, now: this.#now() };
  }

  /** The stored value with `resourceVersion` stamped; `kv.value` is a fresh copy (Store contract). */
  #fromStorage(kv: KeyValue): KubeObject {
    const stored = kv.value as KubeObject;
    const obj = this.#converter ? this.#converter.fromStorage(stored) : stored;
    metaOf(obj).resourceVersion = String(kv.modRevision);
    return obj;
  }

  #toStorage(obj: KubeObject): KubeObject {
    const copy = { ...obj, metadata: canonicalMetadata(metaOf(obj)) };
    delete copy.metadata.resourceVersion;
    return this.#converter ? this.#converter.toStorage(copy) : copy;
  }

  /** The object of a store event as this version shows it, made once for all watchers. */
  #eventObject(ev: WatchEvent<KubeObject>): KubeObject {
    let obj = this.#stamped.get(ev);
    if (!obj) {
      const value = this.#converter ? this.#converter.fromStorage(ev.object.value) : ev.object.value;
      obj = { ...value, metadata: { ...metaOf(value), resourceVersion: String(ev.object.modRevision) } };
      this.#stamped.set(ev, obj);
    }
    return obj;
  }

  #notFound(name: string): StatusError {
    return notFound(this.#gr, name);
  }

  #invalid(name: string, errors: FieldError[]): StatusError {
    return invalid(this.info.group, this.info.kind, name, errors);
  }

  /** Checks apiVersion/kind of a body against this resource and fills them when absent. */
  checkTypeMeta(obj: KubeObject, subresourceKind?: { kind: string; apiVersion: string }): void {
    const want = subresourceKind ?? { kind: this.info.kind, apiVersion: this.apiVersion };
    if (obj.apiVersion !== undefined && obj.apiVersion !== want.apiVersion) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${want.apiVersion})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== want.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${want.kind})`);
    }
    obj.apiVersion = want.apiVersion;
    obj.kind = want.kind;
  }

  #checkNamespace(obj: KubeObject, namespace: string): void {
    const meta = metaOf(obj);
    if (this.info.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const kv = await this.#store.get(this.key(namespace, name));
    if (!kv) throw this.#notFound(name);
    return this.#fromStorage(kv);
  }

  async create(namespace: string, input: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    let obj = input;
    this.checkTypeMeta(obj);
    this.#checkNamespace(obj, namespace);
    this.#defaulter?.(obj);
    if (options.tracker) obj = options.tracker.record(obj, undefined);
    let meta = metaOf(obj);
    if (meta.resourceVersion) throw badRequest("resourceVersion should not be set on objects to be created");
    // A generated name is new by construction; only a name the client chose can be taken.
    const clientNamed = !!meta.name;
    const admission = this.#admission && {
      operation: "CREATE" as const,
      info: this.info,
      subresource: "",
      namespace: this.info.namespaced ? namespace : "",
      name: admissionName(obj),
      object: obj,
      dryRun: !!options.dryRun,
      exists: async () => {
        const name = metaOf(admission!.object).name;
        return clientNamed && !!name && !!(await this.#store.get(this.key(namespace, name)));
      },
    };
    if (admission) {
      await this.#admission!.admit(admission);
      obj = admission.object;
      meta = metaOf(obj);
    }
    if (!meta.name && meta.generateName) meta.name = generateNameFrom(meta.generateName);
    const ctx = this.#ctx();
    meta.uid = newUid();
    meta.creationTimestamp = rfc3339(ctx.now);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (this.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (this.#hasStatus && !this.strategy.keepStatusOnCreate) delete obj.status;
    this.strategy.prepareForCreate?.(obj, ctx);

    if (this.info.namespaced && this.#admitNamespace && meta.name) {
      await this.#admitNamespace(namespace, this.info, meta.name);
    }
    const errors = [
      ...validateObjectMeta(obj, this.info),
      ...(this.#validator?.validate(obj) ?? []),
      ...(this.strategy.validate?.(obj, ctx) ?? []),
    ];
    if (errors.length) throw this.#invalid(meta.name ?? "", errors);
    if (admission) {
      admission.object = obj;
      await this.#admission!.validate(admission);
    }
    const reservation = await this.strategy.beforeCreate?.(obj, { ...ctx, dryRun: !!options.dryRun });
    return this.#reserved(reservation, async () => {
      if (options.dryRun) {
        const existing = await this.#store.get(this.key(namespace, meta.name!));
        if (existing) throw alreadyExists(this.#gr, meta.name!);
        obj.metadata = canonicalMetadata(meta);
        return obj;
      }
      try {
        const kv = await this.#store.create(this.key(namespace, meta.name!), this.#toStorage(obj));
        obj.metadata = canonicalMetadata({ ...meta, resourceVersion: String(kv.modRevision) });
        this.#changed(obj);
        return obj;
      } catch (err) {
        if (isStorageError(err, "KeyExists")) throw alreadyExists(this.#gr, meta.name!);
        throw err;
      }
    });
  }

  /** Runs `write`, then commits `reservation`; rolls it back instead when `write` throws. */
  async #reserved<T>(reservation: Reservation | undefined, write: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (err) {
      await reservation?.rollback();
      throw err;
    }
    await reservation?.commit();
    return result;
  }

  /** Tells the strategy that `kv` left storage; its failures are logged, never returned. */
  async #deleted(kv: KeyValue): Promise<KubeObject> {
    const object = this.#fromStorage(kv);
    this.#changed(object);
    if (this.strategy.afterDelete) {
      await this.strategy.afterDelete(object, this.#ctx()).catch((err) => {
        console.error(`${this.#gr.resource} ${metaOf(object).name}: cleanup after delete failed:`, err);
      });
    }
    return object;
  }

  /**
   * Builds the object to store from `next` (what the client wants) and `old` (stored): system
   * metadata carried over, strategy hooks run, validation done. Throws StatusErrors.
   */
  #prepareUpdate(input: KubeObject, old: KubeObject, options: WriteOptions): KubeObject {
    const subresource = options.subresource ?? "";
    const ctx = this.#ctx(subresource);
    let next = input;
    let meta = metaOf(next);
    const oldMeta = metaOf(old);
    if (meta.resourceVersion && meta.resourceVersion !== oldMeta.resourceVersion) {
      throw conflict(this.#gr, oldMeta.name ?? "");
    }
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.resourceVersion = oldMeta.resourceVersion;
    if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (oldMeta.deletionGracePeriodSeconds !== undefined) {
      meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    } else delete meta.deletionGracePeriodSeconds;
    if (this.info.namespaced) meta.namespace = oldMeta.namespace;

    this.#defaulter?.(next);
    if (subresource === "status") {
      // The status subresource changes status only (and nothing of metadata but what we keep).
      const status = next.status;
      let result = clone(old);
      if (status === undefined) delete result.status;
      else result.status = status;
      if (options.tracker) result = options.tracker.record(result, old);
      this.strategy.prepareForUpdate?.(result, old, ctx);
      return this.#finishUpdate(result, old, ctx, options);
    }
    if (options.tracker) {
      next = options.tracker.record(next, old);
      meta = metaOf(next);
    }
    if (this.#hasStatus) {
      if (old.status === undefined) delete next.status;
      else next.status = clone(old.status);
    }
    if (this.strategy.tracksGeneration) {
      const gen = oldMeta.generation ?? 1;
      meta.generation = jsonEqual(specOf(next), specOf(old)) ? gen : gen + 1;
    } else {
      delete meta.generation;
    }
    this.strategy.prepareForUpdate?.(next, old, ctx);
    return this.#finishUpdate(next, old, ctx, options);
  }

  #finishUpdate(next: KubeObject, old: KubeObject, ctx: StrategyContext, options: WriteOptions): KubeObject {
    const errors = [
      ...validateObjectMeta(next, this.info),
      ...validateObjectMetaUpdate(next, old),
      ...(this.#validator?.validate(next) ?? []),
      ...(this.#validator?.validateUpdate(next, old) ?? []),
      ...(this.strategy.validate?.(next, ctx) ?? []),
      ...(this.strategy.validateUpdate?.(next, old, ctx) ?? []),
    ];
    if (errors.length) throw this.#invalid(metaOf(old).name ?? "", errors);
    return options.tracker?.settle ? options.tracker.settle(next, old) : next;
  }

  /** True when an update leaves a deleted object with nothing to wait for. */
  #shouldDeleteAfterUpdate(obj: KubeObject): boolean {
    const meta = metaOf(obj);
    return !!meta.deletionTimestamp && !(meta.finalizers?.length) && !meta.deletionGracePeriodSeconds &&
      !this.strategy.pendingFinalizers?.(obj);
  }

  /**
   * Replaces an object (PUT). `input` carries the client's object; for `subresource === "status"`
   * only its status is taken. Returns the stored object and whether it was created.
   */
  update(
    namespace: string,
    name: string,
    input: KubeObject,
    options: WriteOptions = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const subresource = options.subresource ?? "";
    this.checkTypeMeta(input);
    const meta = metaOf(input);
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    meta.name = name;
    this.#checkNamespace(input, namespace);
    if (meta.resourceVersion) parseResourceVersion(meta.resourceVersion, "resourceVersion");
    return this.#guaranteedUpdate(namespace, name, options, (current) => {
      if (!current) {
        if (!this.strategy.allowCreateOnUpdate || subresource) throw this.#notFound(name);
        return { create: clone(input) };
      }
      return { object: this.#prepareUpdate(clone(input), current, options) };
    });
  }

  /**
   * Changes an object by a function of its current state (PATCH). `applyPatch` returns the
   * object the client wants; it may throw a StatusError.
   */
  async patch(
    namespace: string,
    name: string,
    applyPatch: (current: KubeObject | undefined) => KubeObject,
    options: WriteOptions = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    return await this.#guaranteedUpdate(namespace, name, options, (current) => {
      if (!current && !options.allowCreate) throw this.#notFound(name);
      const next = applyPatch(current ? clone(current) : undefined);
      if (!next || typeof next !== "object" || Array.isArray(next)) {
        throw badRequest("the patch produced an object that is not a JSON object");
      }
      const meta = metaOf(next);
      if (!current) {
        if (meta.name !== name) {
          throw badRequest(
            `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
          );
        }
        return { create: next };
      }
      if (meta.name !== name) {
        throw this.#invalid(name, [{
          type: "FieldValueInvalid",
          field: "metadata.name",
          value: meta.name,
          detail: "field is immutable",
        }]);
      }
      if (next.apiVersion !== current.apiVersion || next.kind !== current.kind) {
        this.checkTypeMeta(next);
      }
      if (meta.resourceVersion) parseResourceVersion(String(meta.resourceVersion), "resourceVersion");
      return { object: this.#prepareUpdate(next, current, options) };
    });
  }

  /**
   * Changes the stored object by `change` alone — no strategy, validation or admission — for
   * writes the server makes on its own terms (a pod's binding), as upstream's subresources that
   * write storage directly. `change` gets a copy, may throw a StatusError, and is retried on a
   * newer object when another write got in first. Preconditions are checked on every attempt.
   */
  async directUpdate(
    namespace: string,
    name: string,
    change: (current: KubeObject) => KubeObject,
    options: { dryRun?: boolean; preconditions?: Preconditions } = {},
  ): Promise<KubeObject> {
    const key = this.key(namespace, name);
    const apply = (current: KubeObject) => {
      const meta = metaOf(current);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw conflict(
          this.#gr,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(
          this.#gr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
        );
      }
      const next = change(clone(current));
      metaOf(next).resourceVersion = meta.resourceVersion;
      return next;
    };
    if (options.dryRun) {
      const kv = await this.#store.get(key);
      if (!kv) throw this.#notFound(name);
      return apply(this.#fromStorage(kv));
    }
    try {
      const kv = await this.#store.guaranteedUpdate<KubeObject>(
        key,
        (current) => this.#toStorage(apply(this.#fromStorage(current!))),
      );
      const object = this.#fromStorage(kv);
      this.#changed(object);
      return object;
    } catch (err) {
      if (isStorageError(err, "KeyNotFound")) throw this.#notFound(name);
      throw err;
    }
  }

  async #guaranteedUpdate(
    namespace: string,
    name: string,
    options: WriteOptions,
    tryUpdate: (current: KubeObject | undefined) => { object: KubeObject } | { create: KubeObject },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = this.key(namespace, name);
    const beforeUpdate = async (obj: KubeObject, old: KubeObject) => {
      if (this.#admission) {
        await this.#admission.validate({
          operation: "UPDATE",
          info: this.info,
          subresource: options.subresource ?? "",
          namespace: this.info.namespaced ? namespace : "",
          name,
          object: obj,
          oldObject: old,
          dryRun: !!options.dryRun,
        });
      }
      return await this.strategy.beforeUpdate?.(obj, old, {
        ...this.#ctx(options.subresource),
        dryRun: !!options.dryRun,
      });
    };
    if (options.dryRun) {
      const kv = await this.#store.get(key);
      const old = kv ? this.#fromStorage(kv) : undefined;
      const result = tryUpdate(old);
      if ("create" in result) {
        return { object: await this.create(namespace, result.create, options), created: true };
      }
      await (await beforeUpdate(result.object, old!))?.commit();
      return { object: result.object, created: false };
    }
    let createRequested: KubeObject | undefined;
    let reservation: Reservation | undefined;
    try {
      const kv = await this.#store.guaranteedUpdate<KubeObject>(key, async (current) => {
        createRequested = undefined;
        // A retry on a newer object: what the last attempt reserved is not needed.
        await reservation?.rollback();
        reservation = undefined;
        const old = current ? this.#fromStorage(current) : undefined;
        const result = tryUpdate(old);
        if ("create" in result) {
          createRequested = result.create;
          // Abort the update: the create path below takes over.
          throw new CreateInstead();
        }
        reservation = await beforeUpdate(result.object, old!);
        return this.#toStorage(result.object);
      }, { allowCreate: options.allowCreate ?? this.strategy.allowCreateOnUpdate });
      await reservation?.commit();
      reservation = undefined;
      const object = this.#fromStorage(kv);
      this.#changed(object);
      if (this.#shouldDeleteAfterUpdate(object)) {
        await this.#store.delete(key, { expectedModRevision: kv.modRevision }).then(
          (gone) => this.#deleted(gone),
          (err) => {
            if (!isStorageError(err, "KeyNotFound") && !isStorageError(err, "Conflict")) throw err;
          },
        );
      }
      return { object, created: false };
    } catch (err) {
      await reservation?.rollback();
      if (err instanceof CreateInstead && createRequested) {
        return { object: await this.create(namespace, createRequested, options), created: true };
      }
      if (isStorageError(err, "KeyNotFound")) throw this.#notFound(name);
      throw err;
    }
  }

  /** Deletes one object, honouring preconditions, finalizers and grace periods. */
  async delete(namespace: string, name: string, options: DeleteOptionsBody = {}): Promise<DeleteResult> {
    const key = this.key(namespace, name);
    const dryRun = (options.dryRun ?? []).includes("All");
    const badOptions = validatePropagation(options);
    if (badOptions) throw badOptions;
    for (let attempt = 0;; attempt++) {
      const kv = await this.#store.get<KubeObject>(key);
      if (!kv) throw this.#notFound(name);
      const current = this.#fromStorage(kv);
      const meta = metaOf(current);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw conflict(
          this.#gr,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(
          this.#gr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
        );
      }
      const ctx = this.#ctx();
      this.strategy.checkDelete?.(current, ctx);
      let grace = 0;
      if (this.strategy.gracePeriod) {
        grace = await this.strategy.gracePeriod(
          current,
          { gracePeriodSeconds: options.gracePeriodSeconds },
          ctx,
        );
      }
      // Cascading deletion: `orphan` / `foregroundDeletion` as the options and the kind ask.
      const gcFinalizers = finalizersForGarbageCollection(meta.finalizers, options, this.#gcPolicy);
      const finalizers = gcFinalizers ?? meta.finalizers;
      const hasFinalizers = !!finalizers?.length || !!this.strategy.pendingFinalizers?.(current);
      if (!hasFinalizers && grace <= 0) {
        if (dryRun) return { object: current, deleted: true };
        try {
          const deleted = await this.#store.delete(key, { expectedModRevision: kv.modRevision });
          return { object: await this.#deleted(deleted), deleted: true };
        } catch (err) {
          if (isStorageError(err, "Conflict") && attempt < 100) continue;
          if (isStorageError(err, "KeyNotFound")) throw this.#notFound(name);
          throw err;
        }
      }
      // Mark for deletion: finalizers or a grace period keep the object for now.
      const marked = clone(current);
      const mmeta = metaOf(marked);
      if (gcFinalizers?.length) mmeta.finalizers = gcFinalizers;
      else if (gcFinalizers) delete mmeta.finalizers;
      const now = ctx.now;
      if (grace > 0) {
        const deadline = now + grace * 1000;
        const existing = mmeta.deletionTimestamp ? Date.parse(mmeta.deletionTimestamp) : Infinity;
        if (deadline < existing) {
          mmeta.deletionTimestamp = rfc3339(deadline);
          mmeta.deletionGracePeriodSeconds = grace;
        }
      } else if (!mmeta.deletionTimestamp) {
        mmeta.deletionTimestamp = rfc3339(now);
        mmeta.deletionGracePeriodSeconds = 0;
      } else if (mmeta.deletionGracePeriodSeconds && mmeta.deletionGracePeriodSeconds > 0) {
        mmeta.deletionGracePeriodSeconds = 0;
      }
      if (!meta.deletionTimestamp) this.strategy.markDeleted?.(marked, ctx);
      if (this.strategy.tracksGeneration && !meta.deletionTimestamp) {
        mmeta.generation = (mmeta.generation ?? 1) + 1;
      }
      if (jsonEqual(marked, current) || dryRun) return { object: marked, deleted: false };
      try {
        const updated = await this.#store.update(key, this.#toStorage(marked), kv.modRevision);
        const object = this.#fromStorage(updated);
        this.#changed(object);
        return { object, deleted: false };
      } catch (err) {
        if (isStorageError(err, "Conflict") && attempt < 100) continue;
        if (isStorageError(err, "KeyNotFound")) throw this.#notFound(name);
        throw err;
      }
    }
  }

  /** Lists objects, paged and consistent at one revision. */
  async list(namespace: string, params: ListParams = {}): Promise<ListResult> {
    const filter = params.filter ?? EVERYTHING;
    const prefix = this.listPrefix(namespace);
    const limit = params.limit && params.limit > 0 ? params.limit : 0;
    let revision = 0;
    let startKey: string | undefined;
    if (params.continue) {
      if (params.resourceVersion && params.resourceVersion !== "0") {
        throw badRequest("specifying resource version is not allowed when using continue");
      }
      const token = decodeContinue(params.continue);
      revision = token.rv;
      startKey = prefix + token.start;
    } else if (params.resourceVersion) {
      const rv = parseResourceVersion(params.resourceVersion);
      const match = params.resourceVersionMatch ?? "";
      if (match && !["Exact", "NotOlderThan"].includes(match)) {
        throw badRequest(
          `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
        );
      }
      if (rv > this.#store.currentRevision() && rv !== 0) {
        throw tooLargeResourceVersion(rv, this.#store.currentRevision());
      }
      if (match === "Exact" || (!match && limit && rv !== 0)) revision = rv;
    }

    // A name pinned by the field selector needs one point read.
    const pointRead = filter.name !== undefined && (!this.info.namespaced || namespace !== "");
    if (pointRead && !params.continue && revision === 0) {
      const rev = this.#store.currentRevision();
      const kv = filter.name ? await this.#store.get(this.key(namespace, filter.name)) : undefined;
      const items = kv ? [this.#fromStorage(kv)].filter((o) => filter.matches(o)) : [];
      return { items, resourceVersion: String(rev) };
    }

    const items: KubeObject[] = [];
    let nextKey: string | undefined;
    let remaining: number | undefined;
    let listRevision = revision;
    try {
      for (;;) {
        // Unfiltered pages read exactly what is missing; filtered ones read ahead.
        const want = limit
          ? (filter.everything ? limit - items.length : Math.max(limit - items.length, 64))
          : 0;
        const page = await this.#store.list(prefix, {
          revision: listRevision || undefined,
          limit: want || undefined,
          startKey,
        });
        listRevision = page.revision;
        let i = 0;
        while (i < page.items.length) {
          const obj = this.#fromStorage(page.items[i++]);
          if (filter.matches(obj)) items.push(obj);
          if (limit && items.length >= limit) break;
        }
        if (limit && items.length >= limit) {
          if (i < page.items.length) nextKey = page.items[i].key;
          else if (page.nextKey) {
            nextKey = page.nextKey;
            if (filter.everything) remaining = page.remaining;
          }
          break;
        }
        if (!page.nextKey) break;
        startKey = page.nextKey;
      }
    } catch (err) {
      if (isStorageError(err, "Compacted")) {
        if (params.continue) throw continueExpired();
        throw resourceExpired(revision, err.oldestRevision ?? 0);
      }
      throw err;
    }
    const result: ListResult = { items, resourceVersion: String(listRevision) };
    if (nextKey) {
      result.continue = encodeContinue({ rv: listRevision, start: nextKey.slice(prefix.length) });
      if (remaining) result.remainingItemCount = remaining;
    }
    return result;
  }

  /** Deletes every object the filter selects; returns those deleted or marked. */
  async deleteCollection(
    namespace: string,
    params: ListParams,
    options: DeleteOptionsBody = {},
  ): Promise<KubeObject[]> {
    const { items } = await this.list(namespace, { filter: params.filter });
    const out: KubeObject[] = [];
    for (const item of items) {
      const meta = metaOf(item);
      try {
        const { object } = await this.delete(meta.namespace ?? "", meta.name ?? "", {
          gracePeriodSeconds: options.gracePeriodSeconds,
          propagationPolicy: options.propagationPolicy,
          orphanDependents: options.orphanDependents,
          dryRun: options.dryRun,
        });
        out.push(object);
      } catch (err) {
        if (err instanceof StatusError && err.code === 404) continue;
        throw err;
      }
    }
    return out;
  }

  /**
   * Streams changes to `sink` until the returned watcher is stopped. With no resourceVersion
   * (or "0"), or with `sendInitialEvents`, the current objects come first as ADDED.
   */
  async watch(
    namespace: string,
    params: WatchParams,
    sink: WatchSink,
  ): Promise<Watcher & { startRevision: number }> {
    const filter = params.filter ?? EVERYTHING;
    const prefix = this.listPrefix(namespace);
    const rvParam = params.resourceVersion ?? "";
    const initial = params.sendInitialEvents ?? (rvParam === "" || rvParam === "0");
    let after: number;
    if (initial) {
      const listed = await this.list(namespace, { filter });
      for (const obj of listed.items) sink.event("ADDED", obj);
      after = Number(listed.resourceVersion);
      if (params.sendInitialEvents) sink.initialEventsEnd?.(listed.resourceVersion);
    } else {
      after = parseResourceVersion(rvParam);
    }
    // Selectors read labels and fields only: match the stored value as it is.
    const matchesKv = (kv: KeyValue | undefined) =>
      !!kv && (filter.everything || filter.matches(kv.value as KubeObject));
    try {
      const watcher = this.#store.watch<KubeObject>(prefix, after, {
        onEvent: (ev: WatchEvent<KubeObject>) => {
          const cur = ev.type !== "DELETED" && matchesKv(ev.object);
          const prev = ev.type === "ADDED"
            ? false
            : matchesKv(ev.type === "DELETED" ? ev.object : ev.prevObject);
          const obj = () => this.#eventObject(ev);
          if (ev.type === "ADDED") {
            if (cur) sink.event("ADDED", obj());
          } else if (ev.type === "MODIFIED") {
            if (cur && prev) sink.event("MODIFIED", obj());
            else if (cur) sink.event("ADDED", obj());
            else if (prev) sink.event("DELETED", obj());
          } else if (prev) {
            sink.event("DELETED", obj());
          }
        },
        onError: (err) => {
          if (err.code === "Compacted") sink.error(resourceExpired(after, err.oldestRevision ?? 0));
          else sink.error(new StatusError(500, "InternalError", `Internal error occurred: ${err.message}`));
        },
      });
      return { stop: () => watcher.stop(), startRevision: after };
    } catch (err) {
      if (isStorageError(err, "Compacted")) throw resourceExpired(after, err.oldestRevision ?? 0);
      throw err;
    }
  }

  /** How many objects the resource holds. */
  count(namespace = ""): Promise<number> {
    return this.#store.count(this.listPrefix(namespace));
  }
}

class CreateInstead extends Error {}

function tooLargeResourceVersion(asked: number, current: number): StatusError {
  return new StatusError(504, "Timeout", `Too large resource version: ${asked}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}
