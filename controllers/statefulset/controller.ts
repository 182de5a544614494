/**
 * The StatefulSet controller: pods with stable names `<set>-<ordinal>`, each with its own
 * claims `<template>-<set>-<ordinal>`, made and removed in order (OrderedReady) or all at once
 * (Parallel), updated by revision from the highest ordinal down (RollingUpdate with a partition)
 * or when deleted (OnDelete). Watches StatefulSets, their pods and claims (the latter read from
 * the cache); ControllerRevisions are read from their cache.
 *
 * A sync claims the set's pods (its controller reference; matching orphans whose name says they
 * are the set's are adopted, owned pods that stopped matching released), adopts orphaned
 * revisions, and hands them to the StatefulSetControl. A set with `minReadySeconds` whose pods are
 * not all available yet is looked at again after that long.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import type { LabelSelector } from "../../machinery/labels.ts";
import { type ControllerContext, keyOf, type Runnable } from "../framework/mod.ts";
import { byController } from "../framework/cache.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import { History } from "../history/history.ts";
import { claimObjects, recheckDeletionTimestamp } from "../history/ref_manager.ts";
import { OwnerLookup, workloadSelector } from "../history/owners.ts";
import { isPodReady } from "../pods.ts";
import type { ControllerRevision, Pod, StatefulSet } from "../types.ts";
import { StatefulPodControl } from "./pod_control.ts";
import { StatefulSetControl } from "./set_control.ts";
import {
  isMemberOf,
  parentNameAndOrdinal,
  type PersistentVolumeClaim,
  replicasOf,
  STATEFUL_SET_KIND,
} from "./set_utils.ts";

/** Pods by the set their name says they belong to: `<namespace>/<set>`. */
const byParentName = (p: Pod) => {
  const { parent } = parentNameAndOrdinal(p);
  return parent ? [`${p.metadata?.namespace}/${parent}`] : [];
};

export function newStatefulSetController(ctx: ControllerContext): Runnable {
  return new StatefulSetController(ctx);
}

function selectorOf(set: StatefulSet): LabelSelector | null {
  return workloadSelector(set.spec?.selector);
}

class StatefulSetController implements Runnable {
  readonly name = "statefulset";
  readonly #sets: Informer<StatefulSet>;
  readonly #pods: Informer<Pod>;
  readonly #setClient: ResourceClient<StatefulSet>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #history: History;
  readonly #control: StatefulSetControl;
  readonly #controller: Controller;
  readonly #owners: OwnerLookup<StatefulSet>;

  constructor(ctx: ControllerContext) {
    this.#sets = ctx.informers.informer<StatefulSet>("apps", "statefulsets");
    this.#pods = ctx.informers.informer<Pod>("", "pods", {
      indexers: { controller: byController, statefulSetParent: byParentName },
    });
    const revisions = ctx.informers.informer<ControllerRevision>("apps", "controllerrevisions");
    const claims = ctx.informers.informer<PersistentVolumeClaim>("", "persistentvolumeclaims");
    this.#owners = new OwnerLookup(this.#sets.cache, "StatefulSet", selectorOf);
    this.#setClient = ctx.client.resource<StatefulSet>("apps", "statefulsets");
    this.#podClient = ctx.client.resource<Pod>("", "pods");
    this.#history = new History(ctx.client, revisions.cache);
    const podControl = new StatefulPodControl(
      this.#podClient,
      ctx.client.resource<PersistentVolumeClaim>("", "persistentvolumeclaims"),
      claims.cache,
      ctx.events.recorder("statefulset-controller"),
    );
    this.#control = new StatefulSetControl(podControl, this.#history, this.#setClient);
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    const enqueue = (s: StatefulSet) => this.#controller.enqueue(keyOf(s));
    this.#sets.addEventHandler({ add: enqueue, update: (_, s) => enqueue(s), delete: enqueue });
    this.#pods.addEventHandler({
      add: (pod) => this.#podAdded(pod),
      update: (old, pod) => this.#podUpdated(old, pod),
      delete: (pod) => this.#podDeleted(pod),
    });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  #podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.#podDeleted(pod);
    for (const set of this.#owners.added(pod)) this.#controller.enqueue(keyOf(set));
  }

  #podUpdated(old: Pod, pod: Pod): void {
    for (const set of this.#owners.updated(old, pod)) this.#controller.enqueue(keyOf(set));
    // A pod just Ready becomes available after minReadySeconds: look again then.
    const set = this.#owners.resolve(pod);
    const minReady = set?.spec?.minReadySeconds ?? 0;
    if (set && minReady > 0 && !isPodReady(old) && isPodReady(pod)) {
      this.#controller.queue.addAfter(keyOf(set), minReady * 1000 + 1000);
    }
  }

  #podDeleted(pod: Pod): void {
    const set = this.#owners.resolve(pod);
    if (set) this.#controller.enqueue(keyOf(set));
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const cached = this.#sets.cache.get(key);
    if (!cached) return;
    const set: StatefulSet = { ...cached, ...STATEFUL_SET_KIND };
    const selector = selectorOf(set);
    if (!selector) return;
    const canAdopt = recheckDeletionTimestamp(this.#setClient, set);
    const revisions = await this.#history.adoptOrphans(
      set,
      selector,
      this.#control.listRevisions(set, selector),
      canAdopt,
    );
    const pods = await this.#claimPods(set, selector, canAdopt);
    const status = await this.#control.updateStatefulSet(set, pods, revisions);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.availableReplicas ?? 0) !== replicasOf(set)) {
      return { requeueAfterMs: minReady * 1000 };
    }
  }

  /** The set's pods: those it controls, and orphans it adopts whose name and labels are its. */
  #claimPods(set: StatefulSet, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<Pod[]> {
    const namespace = set.metadata!.namespace!;
    const candidates = new Map<string, Pod>();
    for (const p of this.#pods.cache.byIndex("controller", set.metadata!.uid!)) candidates.set(keyOf(p), p);
    for (const p of this.#pods.cache.byIndex("statefulSetParent", `${namespace}/${set.metadata!.name}`)) {
      candidates.set(keyOf(p), p);
    }
    return claimObjects([...candidates.values()], {
      owner: set,
      selector,
      client: this.#podClient,
      canAdopt,
      filter: (p) => isMemberOf(set, p),
    });
  }
}
