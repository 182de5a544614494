/**
 * The ResourceQuota admission plugin, as upstream's: a write that would take a namespace's usage
 * past a quota's `status.hard` is refused with 403 (`exceeded quota: q, requested: pods=1, used:
 * pods=2, limited: pods=2`), as is a pod without the cpu/memory a quota tracks (`failed quota: q:
 * must specify limits.cpu for: c`). An admitted write is charged before it is stored: the
 * quota's `status.used` grows by a compare-and-swap status update (retried on conflicts, on the
 * quotas that conflicted only). Writes arriving together in a namespace are checked in order
 * against the running usage and charged with one update per quota, as upstream batches them.
 * Dry runs are checked but not charged. The quota controller recomputes usage from scratch, so
 * what a write that failed later (after admission) charged is given back there.
 *
 * Beyond upstream, a quota's status is computed when the quota is written (created, or its
 * `spec` changed): `status.hard` from `spec.hard` and `status.used` from the namespace's
 * objects, so a quota binds from its first moment rather than once its controller has run.
 */

import { conflict, forbidden, isStatusError, type StatusError } from "../../machinery/status.ts";
import { clone, jsonEqual, type KubeObject, metaOf } from "../../machinery/object_meta.ts";
import {
  addQuantities,
  compareQuantities,
  formatQuantity,
  parseResourceList,
  parseResourceQuantity,
  prettyResourceList,
  type ResourceList,
  subtractQuantities,
  zeroQuantity,
} from "../../machinery/resource_quantity.ts";
import type { ResourceStore } from "../registry/resource_store.ts";
import type { Strategy } from "../registry/strategy.ts";
import type { AdmissionPlugin, AdmissionRequest } from "./mod.ts";
import type { NamespaceCache } from "./namespace_cache.ts";
import {
  claimEvaluator,
  evaluatorFor,
  objectCountEvaluator,
  parseObjectCountName,
  podEvaluator,
  type QuotaEvaluator,
  quotaMatches,
  quotaScopes,
  serviceEvaluator,
} from "./quota_evaluators.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

/** How many rounds of conflicting quota updates a write survives (upstream's three retries). */
const QUOTA_UPDATE_ATTEMPTS = 4;

/** One write waiting for its quota check. */
interface Waiter {
  req: AdmissionRequest;
  evaluator: QuotaEvaluator;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Checks writes one namespace at a time, in batches as upstream's quota evaluator does: the
 * writes that arrive while a batch is being charged form the next batch, which is checked in
 * order against the running usage and charged with one status update per quota.
 */
class QuotaBatcher {
  readonly #queues = new Map<string, Waiter[]>();
  readonly #list: (namespace: string) => Promise<KubeObject[]>;
  readonly #update: (quota: KubeObject) => Promise<void>;
  readonly #now: () => number;

  constructor(
    list: (namespace: string) => Promise<KubeObject[]>,
    update: (quota: KubeObject) => Promise<void>,
    now: () => number,
  ) {
    this.#list = list;
    this.#update = update;
    this.#now = now;
  }

  check(req: AdmissionRequest, evaluator: QuotaEvaluator): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(req.namespace);
      const waiter = { req, evaluator, resolve, reject };
      if (queue) queue.push(waiter);
      else {
        this.#queues.set(req.namespace, [waiter]);
        this.#drain(req.namespace);
      }
    });
  }

  async #drain(namespace: string): Promise<void> {
    const queue = this.#queues.get(namespace)!;
    while (queue.length) {
      const batch = queue.splice(0);
      try {
        await this.#charge(namespace, batch);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.#queues.delete(namespace);
  }

  async #charge(namespace: string, batch: Waiter[]): Promise<void> {
    let pending = batch;
    let only: Set<string> | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < QUOTA_UPDATE_ATTEMPTS; attempt++) {
      let quotas = await this.#list(namespace);
      if (only) quotas = quotas.filter((q) => only!.has(metaOf(q).name ?? ""));
      if (quotas.length === 0) {
        for (const w of pending) w.resolve();
        return;
      }
      const now = this.#now();
      const changed = new Set<string>();
      const charged = new Map<Waiter, string[]>();
      for (const w of pending) {
        let charges: Charge[];
        try {
          charges = checkQuotas(quotas, w.req, w.evaluator, now);
        } catch (err) {
          w.reject(err);
          continue;
        }
        if (w.req.dryRun || charges.length === 0) {
          w.resolve();
          continue;
        }
        // Later writes of the batch are checked against the usage this one adds.
        quotas = quotas.map((q) => {
          const charge = charges.find((c) => c.quota === q);
          return charge ? withUsed(q, charge.used) : q;
        });
        const names = charges.map((c) => metaOf(c.quota).name ?? "");
        for (const name of names) changed.add(name);
        charged.set(w, names);
      }
      const failed = new Set<string>();
      for (const quota of quotas) {
        const name = metaOf(quota).name ?? "";
        if (!changed.has(name)) continue;
        try {
          await this.#update(quota);
        } catch (err) {
          if (!isStatusError(err, "Conflict") && !isStatusError(err, "NotFound")) throw err;
          // A quota deleted meanwhile binds no more; one changed meanwhile is checked again.
          if (isStatusError(err, "Conflict")) failed.add(name);
          lastError = err;
        }
      }
      pending = [];
      for (const [w, names] of charged) {
        if (names.some((n) => failed.has(n))) pending.push(w);
        else w.resolve();
      }
      if (pending.length === 0) return;
      only = failed;
    }
    for (const w of pending) w.reject(lastError ?? conflict({ group: "", resource: "resourcequotas" }, ""));
  }
}

function hardOf(quota: KubeObject): ResourceList {
  return parseResourceList(obj(quota.status).hard);
}

function usedOf(quota: KubeObject): ResourceList {
  return parseResourceList(obj(quota.status).used);
}

/** Only the entries of `list` named in `names`. */
function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const name of names) {
    const q = list.get(name);
    if (q) out.set(name, q);
  }
  return out;
}

/** `a - b` per entry of `a`, never below zero (upstream's SubtractWithNonNegativeResult). */
function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [name, q] of a) {
    const other = b.get(name);
    const diff = other ? subtractQuantities(q, other) : q;
    out.set(name, diff.nano < 0n ? zeroQuantity(diff.format) : diff);
  }
  return out;
}

function removeZeros(list: ResourceList): ResourceList {
  return new Map([...list].filter(([, q]) => q.nano !== 0n));
}

/** A quota with its status.used raised, to be written back. */
interface Charge {
  quota: KubeObject;
  used: ResourceList;
}

/**
 * Upstream's CheckRequest: the charges the write makes on the quotas that cover it, or a 403.
 * `quotas` are the namespace's quotas as stored.
 */
export function checkQuotas(
  quotas: KubeObject[],
  req: AdmissionRequest,
  evaluator: QuotaEvaluator,
  now: number,
): Charge[] {
  const refuse = (why: string): StatusError =>
    forbidden({ group: req.info.group, resource: req.info.resource }, req.name, why);
  const covering: KubeObject[] = [];
  for (const quota of quotas) {
    const hardNames = [...hardOf(quota).keys()];
    if (!quotaMatches(evaluator, hardNames, quotaScopes(quota), req.object)) continue;
    const restricted = evaluator.matchingResources(hardNames);
    const unmet = evaluator.constraints?.(restricted, req.object);
    if (unmet) throw refuse(`failed quota: ${metaOf(quota).name}: ${unmet}`);
    const used = usedOf(quota);
    if (restricted.some((name) => !used.has(name))) {
      throw refuse(
        `status unknown for quota: ${metaOf(quota).name}, resources: ${[...restricted].sort().join(",")}`,
      );
    }
    covering.push(quota);
  }
  if (covering.length === 0) return [];

  const input = evaluator.usage(req.object, now);
  const negative = [...input].filter(([, q]) => q.nano < 0n).map(([name]) => name);
  if (negative.length) throw refuse(`quota usage is negative for resource(s): ${negative.sort().join(",")}`);
  let previous: ResourceList | undefined;
  const old = req.operation === "UPDATE" ? req.oldObject : undefined;
  if (old) previous = evaluator.usage(old, now);

  const charges: Charge[] = [];
  for (const quota of covering) {
    let delta = input;
    if (old && previous && quotaMatches(evaluator, [...hardOf(quota).keys()], quotaScopes(quota), old)) {
      delta = subtractNonNegative(input, previous);
    }
    delta = removeZeros(delta);
    if (delta.size === 0) continue;
    const hard = hardOf(quota);
    const used = usedOf(quota);
    const requested = mask(delta, hard.keys());
    const next: ResourceList = new Map(used);
    for (const [name, q] of requested) {
      const have = next.get(name);
      next.set(name, have ? addQuantities(have, q) : q);
    }
    const exceeded = [...requested.keys()].filter((name) =>
      compareQuantities(next.get(name)!, hard.get(name)!) > 0
    );
    if (exceeded.length) {
      throw refuse(
        `exceeded quota: ${metaOf(quota).name}, requested: ${
          prettyResourceList(mask(requested, exceeded))
        }, used: ${prettyResourceList(mask(used, exceeded))}, limited: ${
          prettyResourceList(mask(hard, exceeded))
        }`,
      );
    }
    if (requested.size) charges.push({ quota, used: next });
  }
  return charges;
}

/** The quota with `status.used` replaced by `used` (entries that did not change keep their text). */
function withUsed(quota: KubeObject, used: ResourceList): KubeObject {
  const next = clone(quota);
  const status = obj(next.status);
  const before = obj(status.used);
  const text: Json = {};
  for (const [name, q] of used) {
    const old = parseResourceQuantity(before[name]);
    text[name] = old && old.nano === q.nano ? before[name] : formatQuantity(q);
  }
  status.used = text;
  next.status = status;
  return next;
}

export interface ResourceQuotaOptions {
  /** The resourcequotas store (v1), looked up when first needed. */
  quotas: () => ResourceStore;
  /** Which namespaces hold quotas at all. */
  cache: NamespaceCache;
  now?: () => number;
}

/** The ResourceQuota plugin (validating: it runs last, on the object about to be stored). */
export function resourceQuotaAdmission(options: ResourceQuotaOptions): AdmissionPlugin {
  const batcher = new QuotaBatcher(
    async (namespace) => (await options.quotas().list(namespace)).items,
    async (quota) => {
      const meta = metaOf(quota);
      await options.quotas().update(meta.namespace ?? "", meta.name ?? "", quota, { subresource: "status" });
    },
    options.now ?? Date.now,
  );

  return {
    name: "ResourceQuota",
    validate(req) {
      if (!req.namespace) return;
      const evaluator = evaluatorFor(req.info.group, req.info.resource);
      if (!evaluator || !evaluator.handles(req)) return;
      const check = async () => {
        // A create that will fail for its name must not be charged (upstream charges it and
        // leaves the quota controller to give it back).
        if (req.operation === "CREATE" && !req.dryRun && req.exists && await req.exists()) return;
        await batcher.check(req, evaluator);
      };
      const known = options.cache.get(req.namespace);
      if (Array.isArray(known)) return known.length ? check() : undefined;
      return known.then((quotas) => quotas.length ? check() : undefined);
    },
  };
}

/** Lists the objects of one resource in a namespace; undefined when the resource is not served. */
export type NamespaceLister = (
  group: string,
  resource: string,
  namespace: string,
) => Promise<KubeObject[] | undefined>;

/** The evaluators that measure some of `names`. */
function evaluatorsFor(names: string[]): QuotaEvaluator[] {
  const out = new Map<string, QuotaEvaluator>();
  for (const e of [podEvaluator, serviceEvaluator, claimEvaluator]) {
    if (e.matchingResources(names).length) out.set(`${e.group}/${e.resource}`, e);
  }
  const legacy: Record<string, [string, string]> = {
    configmaps: ["", "configmaps"],
    secrets: ["", "secrets"],
    replicationcontrollers: ["", "replicationcontrollers"],
    resourcequotas: ["", "resourcequotas"],
  };
  for (const name of names) {
    const gr = parseObjectCountName(name) ??
      (legacy[name] ? { group: legacy[name][0], resource: legacy[name][1] } : undefined);
    if (!gr) continue;
    const key = `${gr.group}/${gr.resource}`;
    if (!out.has(key)) {
      out.set(key, evaluatorFor(gr.group, gr.resource) ?? objectCountEvaluator(gr.group, gr.resource));
    }
  }
  return [...out.values()];
}

/**
 * A quota's status as its controller computes it: `hard` from `spec.hard`, `used` what the
 * namespace's objects in the quota's scopes use of each hard name. `including` is an object about
 * to be stored that a list cannot see yet (the quota itself, when created).
 */
export async function computeQuotaStatus(
  quota: KubeObject,
  list: NamespaceLister,
  now: number,
  including?: KubeObject,
): Promise<{ hard: Json; used: Json }> {
  const namespace = metaOf(quota).namespace ?? "";
  const hard = parseResourceList(obj(quota.spec).hard);
  const names = [...hard.keys()];
  const scopes = quotaScopes(quota);
  const used: ResourceList = mask(parseResourceList(obj(quota.status).used), names);
  for (const evaluator of evaluatorsFor(names)) {
    const matching = evaluator.matchingResources(names);
    let total: ResourceList = new Map(matching.map((n) => [n, zeroQuantity()]));
    const objects = await list(evaluator.group, evaluator.resource, namespace);
    if (!objects) continue;
    if (including && evaluator.group === "" && evaluator.resource === "resourcequotas") {
      const name = metaOf(including).name;
      if (!objects.some((o) => metaOf(o).name === name)) objects.push(including);
    }
    for (const o of objects) {
      if (!scopes.every((s) => evaluator.matchesScope(s, o))) continue;
      const usage = mask(evaluator.usage(o, now), matching);
      const next: ResourceList = new Map(total);
      for (const [name, q] of usage) next.set(name, addQuantities(next.get(name)!, q));
      total = next;
    }
    for (const [name, q] of total) used.set(name, q);
  }
  const text = (list: ResourceList): Json =>
    Object.fromEntries([...list].map(([n, q]) => [n, formatQuantity(q)]));
  return { hard: text(hard), used: text(mask(used, names)) };
}

/**
 * The resourcequotas strategy with the status kept current on writes: computed on create, and
 * again when an update changes the spec (or finds the status missing).
 */
export function quotaStatusStrategy(base: Strategy, list: NamespaceLister): Strategy {
  return {
    ...base,
    async beforeCreate(quota, ctx) {
      quota.status = await computeQuotaStatus(quota, list, ctx.now, quota);
      return await base.beforeCreate?.(quota, ctx);
    },
    async beforeUpdate(quota, old, ctx) {
      if (!ctx.subresource && (!jsonEqual(quota.spec, old.spec) || !obj(quota.status).hard)) {
        quota.status = await computeQuotaStatus(quota, list, ctx.now);
      }
      return await base.beforeUpdate?.(quota, old, ctx);
    },
  };
}
