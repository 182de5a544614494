/**
 * The ResourceQuota controller, as upstream's: keeps every quota's `status.hard` equal to its
 * `spec.hard` and `status.used` equal to what the namespace's objects use of each hard
 * resource, within the quota's scopes. A quota is recalculated when its spec changes, when an
 * object it counts is created, deleted or changes its usage, and every `resyncPeriodMs`.
 * Informers of counted resources are made the first time a quota asks for them. Quantities are
 * written back in upstream's canonical form (`500m`, `1Gi`).
 */

import type { ResourceClient } from "../../machinery/client.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { Pod, ResourceQuota } from "../types.ts";
import {
  addUsage,
  type Evaluator,
  objectCountEvaluator,
  parseObjectCountName,
  quotaScopes,
  STATIC_EVALUATORS,
  type Usage,
} from "./evaluators.ts";
import { format, parse, type Quantity, zero } from "./quantity.ts";

export interface ResourceQuotaOptions {
  /** How often every quota is fully recalculated (upstream: 5 minutes). */
  resyncPeriodMs?: number;
}

export function newResourceQuotaController(options: ResourceQuotaOptions = {}) {
  return (ctx: ControllerContext): Runnable => new ResourceQuotaController(ctx, options);
}

interface Monitor {
  evaluator: Evaluator;
  informer: Informer<KubeObject>;
}

class ResourceQuotaController implements Runnable {
  readonly name = "resourcequota";
  readonly #ctx: ControllerContext;
  readonly #resyncMs: number;
  readonly #quotas: Informer<ResourceQuota>;
  readonly #api: ResourceClient<ResourceQuota>;
  readonly #controller: Controller;
  /** `group/resource` → its evaluator and informer, made on first need. */
  readonly #monitors = new Map<string, Monitor>();
  readonly #evaluators = new Map<string, Evaluator>();
  #timer?: ReturnType<typeof setInterval>;

  constructor(ctx: ControllerContext, options: ResourceQuotaOptions) {
    this.#ctx = ctx;
    this.#resyncMs = options.resyncPeriodMs ?? 5 * 60_000;
    for (const e of STATIC_EVALUATORS) this.#evaluators.set(`${e.group}/${e.resource}`, e);
    this.#quotas = ctx.informers.informer<ResourceQuota>("", "resourcequotas");
    this.#api = ctx.client.resource<ResourceQuota>("", "resourcequotas");
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    this.#quotas.addEventHandler({
      add: (q) => this.#controller.enqueue(keyOf(q)),
      // Status writes are this controller's own; only a changed spec asks for a new look.
      update: (old, q) => {
        if (JSON.stringify(old.spec) !== JSON.stringify(q.spec)) this.#controller.enqueue(keyOf(q));
      },
    });
    // Pods are counted by nearly every quota and watched by every controller anyway.
    this.#monitor(this.#evaluators.get("/pods")!);
  }

  run(): void {
    this.#controller.run();
    this.#timer = setInterval(() => {
      for (const q of this.#quotas.cache.list()) this.#controller.enqueue(keyOf(q));
    }, this.#resyncMs);
  }

  stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    return this.#controller.stop();
  }

  /** The evaluators that measure some of `names`, with the generic counters they call for. */
  #evaluatorsFor(names: string[]): Evaluator[] {
    for (const n of names) {
      const gr = parseObjectCountName(n);
      if (!gr || this.#evaluators.has(`${gr.group}/${gr.resource}`)) continue;
      try {
        if (!this.#ctx.client.resource(gr.group, gr.resource).ref.namespaced) continue;
      } catch {
        continue; // not a resource this server serves
      }
      this.#evaluators.set(`${gr.group}/${gr.resource}`, objectCountEvaluator(gr.group, gr.resource));
    }
    return [...this.#evaluators.values()].filter((e) => e.matchingResources(names).length > 0);
  }

  /** The evaluator's informer, made (and wired to replenish quotas) on first need. */
  #monitor(evaluator: Evaluator): Monitor {
    const key = `${evaluator.group}/${evaluator.resource}`;
    let monitor = this.#monitors.get(key);
    if (monitor) return monitor;
    const informer = this.#ctx.informers.informer<KubeObject>(evaluator.group, evaluator.resource);
    monitor = { evaluator, informer };
    this.#monitors.set(key, monitor);
    const replenish = (obj: KubeObject) => this.#replenish(evaluator, obj.metadata?.namespace ?? "");
    informer.addEventHandler({
      add: replenish,
      delete: replenish,
      update: (old, obj) => {
        // Most namespaces have no quota: skip working out usage for them.
        if (this.#quotas.cache.inNamespace(obj.metadata?.namespace ?? "").length === 0) return;
        if (usageChanged(evaluator, old, obj)) replenish(obj);
      },
    });
    return monitor;
  }

  /** Enqueues the quotas of `namespace` that track something `evaluator` measures. */
  #replenish(evaluator: Evaluator, namespace: string): void {
    for (const q of this.#quotas.cache.inNamespace(namespace)) {
      const names = [...Object.keys(q.status?.hard ?? {}), ...Object.keys(q.spec?.hard ?? {})];
      if (evaluator.matchingResources(names).length > 0) this.#controller.enqueue(keyOf(q));
    }
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const quota = this.#quotas.cache.get(key);
    if (!quota) return;
    const { namespace } = splitKey(key);
    const now = Date.now();
    const hard = new Map<string, Quantity>();
    for (const [name, text] of Object.entries(quota.spec?.hard ?? {})) {
      const q = parse(text);
      if (q) hard.set(name, q);
    }
    const names = [...hard.keys()];
    const scopes = quotaScopes(quota);
    const observed: Usage = new Map();
    let unsynced = false;
    let nextChange: number | undefined;
    for (const evaluator of this.#evaluatorsFor(names)) {
      const matched = evaluator.matchingResources(names);
      const { informer } = this.#monitor(evaluator);
      if (!informer.hasSynced) await firstSync(informer);
      if (!informer.hasSynced) {
        unsynced = true; // keep the old figures of these until the cache is there
        continue;
      }
      const stats: Usage = new Map(matched.map((n) => [n, zero()]));
      for (const obj of informer.cache.inNamespace(namespace)) {
        if (!scopes.every((s) => evaluator.matchesScope(s, obj))) continue;
        addUsage(stats, evaluator.usage(obj, now));
        const at = evaluator.usageChangesAt?.(obj);
        if (at !== undefined && at >= now) nextChange = Math.min(nextChange ?? at, at);
      }
      for (const [n, q] of stats) observed.set(n, q);
    }
    const used: Record<string, string> = {};
    for (const [name, text] of Object.entries(quota.status?.used ?? {})) {
      if (hard.has(name)) used[name] = text as string;
    }
    for (const [name, q] of observed) used[name] = format(q);
    const status = {
      hard: Object.fromEntries([...hard].map(([n, q]) => [n, format(q)])),
      used,
    };
    const old = quota.status;
    const dirty = !old?.hard || !old.used || !sameList(old.hard, status.hard) ||
      !sameList(old.used, status.used);
    if (dirty) {
      try {
        await this.#api.updateStatus(namespace, { ...quota, status } as ResourceQuota);
      } catch (err) {
        if (!isStatusError(err, "NotFound")) throw err;
      }
    }
    if (unsynced) return { requeueAfterMs: 100 };
    if (nextChange !== undefined) return { requeueAfterMs: nextChange - now + 10 };
  }
}

/** Waits (a little) for an informer made just now to list its objects. */
async function firstSync(informer: Informer<KubeObject>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    informer.waitForSync(),
    new Promise<void>((resolve) => timer = setTimeout(resolve, FIRST_SYNC_WAIT_MS)),
  ]);
  clearTimeout(timer);
}

const FIRST_SYNC_WAIT_MS = 2000;

/** Same names, same values (compared as quantities, so `1Gi` equals `1024Mi`). */
function sameList(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    if (!(k in b)) return false;
    const qa = parse(a[k]);
    const qb = parse(b[k]);
    return qa && qb ? qa.nano === qb.nano : a[k] === b[k];
  });
}

/** Whether an update changed what the object counts for (or which scopes it falls in). */
function usageChanged(evaluator: Evaluator, old: KubeObject, obj: KubeObject): boolean {
  if (old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return false;
  const now = Date.now();
  const print = (u: Usage) => JSON.stringify([...u].map(([k, v]) => [k, format(v)]).sort());
  if (print(evaluator.usage(old, now)) !== print(evaluator.usage(obj, now))) return true;
  if (evaluator.resource === "pods" && evaluator.group === "") {
    const a = old as Pod;
    const b = obj as Pod;
    return a.spec?.activeDeadlineSeconds !== b.spec?.activeDeadlineSeconds ||
      !a.metadata?.deletionTimestamp !== !b.metadata?.deletionTimestamp;
  }
  return false;
}
