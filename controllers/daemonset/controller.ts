/**
 * The DaemonSet controller: one pod per eligible node (see placement.ts), each pinned to its node
 * by a required node affinity for the scheduler to bind, replaced by revision as the update
 * strategy allows (RollingUpdate with maxUnavailable / maxSurge, or OnDelete). Watches DaemonSets,
 * their pods, ControllerRevisions, and Nodes (added, relabelled, retainted, removed).
 *
 * A sync records the template as a revision, then (once the pods it last made or deleted have
 * been seen) makes the missing pods, deletes those on nodes that no longer want them (and failed
 * ones, with a backoff per node), advances the rolling update, trims history, and writes status.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import type { LabelSelector } from "../../machinery/labels.ts";
import { jsonEqual } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable } from "../framework/mod.ts";
import { byController } from "../framework/cache.ts";
import { Controller } from "../framework/controller.ts";
import type { EventRecorder } from "../framework/events.ts";
import { Expectations } from "../framework/expectations.ts";
import type { Informer } from "../framework/informer.ts";
import { History } from "../history/history.ts";
import { claimObjects, recheckDeletionTimestamp } from "../history/ref_manager.ts";
import { OwnerLookup, workloadSelector } from "../history/owners.ts";
import { controllerRef, isPodAvailable, isPodReady, ownerRefTo, podFromTemplate } from "../pods.ts";
import type { ControllerRevision, DaemonSet, Node, Pod } from "../types.ts";
import {
  createPodTemplate,
  DAEMON_SET_UNIQUE_LABEL,
  isPodUpdated,
  replaceDaemonSetPodNodeNameNodeAffinity,
  targetNodeName,
  templateGeneration,
} from "./daemon_pods.ts";
import { byCreationTimestampAndPhase, FailedPodsBackoff, planManage } from "./manage.ts";
import { nodeShouldRunDaemonPod } from "./placement.ts";
import { DaemonSetRevisions } from "./revisions.ts";
import { type NodeToDaemonPods, planRollingUpdate } from "./update.ts";

/** Most pods one sync makes or deletes. */
export const BURST_REPLICAS = 250;

const DAEMON_SET_KIND = { apiVersion: "apps/v1", kind: "DaemonSet" } as const;

const orphansByNamespace = (p: Pod) => controllerRef(p) ? [] : [p.metadata?.namespace ?? ""];

export function newDaemonSetController(ctx: ControllerContext): Runnable {
  return new DaemonSetsController(ctx);
}

function selectorOf(ds: DaemonSet): LabelSelector | null {
  return workloadSelector(ds.spec?.selector);
}

class DaemonSetsController implements Runnable {
  readonly name = "daemonset";
  readonly #sets: Informer<DaemonSet>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #setClient: ResourceClient<DaemonSet>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #revisions: DaemonSetRevisions;
  readonly #controller: Controller;
  readonly #recorder: EventRecorder;
  /** Creations and deletions awaited, kept apart since one sync may ask for both. */
  readonly #creations = new Expectations();
  readonly #deletions = new Expectations();
  readonly #failedPodsBackoff = new FailedPodsBackoff();
  readonly #owners: OwnerLookup<DaemonSet>;

  constructor(ctx: ControllerContext) {
    this.#sets = ctx.informers.informer<DaemonSet>("apps", "daemonsets");
    this.#pods = ctx.informers.informer<Pod>("", "pods", {
      indexers: { controller: byController, orphans: orphansByNamespace },
    });
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#owners = new OwnerLookup(this.#sets.cache, "DaemonSet", selectorOf);
    const revisions = ctx.informers.informer<ControllerRevision>("apps", "controllerrevisions");
    this.#setClient = ctx.client.resource<DaemonSet>("apps", "daemonsets");
    this.#podClient = ctx.client.resource<Pod>("", "pods");
    this.#revisions = new DaemonSetRevisions(
      new History(ctx.client, revisions.cache),
      this.#setClient,
      this.#podClient,
    );
    this.#recorder = ctx.events.recorder("daemonset-controller");
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    const enqueue = (ds: DaemonSet) => this.#controller.enqueue(keyOf(ds));
    this.#sets.addEventHandler({
      add: enqueue,
      update: (_, ds) => enqueue(ds),
      delete: (ds) => {
        this.#forget(keyOf(ds));
        enqueue(ds);
      },
    });
    revisions.addEventHandler({
      add: (r) => this.#owners.added(r).forEach(enqueue),
      update: (old, r) => this.#owners.updated(old, r).forEach(enqueue),
      delete: (r) => {
        const ds = this.#owners.resolve(r);
        if (ds) enqueue(ds);
      },
    });
    this.#pods.addEventHandler({
      add: (pod) => this.#podAdded(pod),
      update: (old, pod) => this.#podUpdated(old, pod),
      delete: (pod) => this.#podDeleted(pod),
    });
    this.#nodes.addEventHandler({
      add: (node) => this.#nodeAdded(node),
      update: (old, node) => this.#nodeUpdated(old, node),
      delete: (node) => this.#nodeDeleted(node),
    });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  #forget(key: string): void {
    this.#creations.forget(key);
    this.#deletions.forget(key);
  }

  #satisfied(key: string): boolean {
    return this.#creations.satisfied(key) && this.#deletions.satisfied(key);
  }

  // ---- Event handlers: map changes to DaemonSet keys ----

  #podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.#podDeleted(pod);
    // Orphans concern the sets that might adopt them, but none awaits their creation.
    const ds = this.#owners.resolve(pod);
    if (ds) this.#creations.creationObserved(keyOf(ds));
    for (const owner of this.#owners.added(pod)) this.#controller.enqueue(keyOf(owner));
  }

  #podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    // Being deleted counts as deleted: a replacement may be made without waiting for the end.
    if (pod.metadata?.deletionTimestamp) return this.#podDeleted(pod);
    for (const ds of this.#owners.updated(old, pod)) this.#controller.enqueue(keyOf(ds));
    const ds = this.#owners.resolve(pod);
    const minReady = ds?.spec?.minReadySeconds ?? 0;
    if (ds && minReady > 0 && !isPodReady(old) && isPodReady(pod)) {
      this.#controller.queue.addAfter(keyOf(ds), minReady * 1000 + 1000);
    }
  }

  #podDeleted(pod: Pod): void {
    const ds = this.#owners.resolve(pod);
    if (!ds) return;
    this.#deletions.deletionObserved(keyOf(ds), pod.metadata?.uid ?? "");
    this.#controller.enqueue(keyOf(ds));
  }

  #nodeAdded(node: Node): void {
    for (const ds of this.#sets.cache.list()) {
      if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.#controller.enqueue(keyOf(ds));
    }
  }

  #nodeUpdated(old: Node, node: Node): void {
    if (
      jsonEqual(old.metadata?.labels, node.metadata?.labels) && jsonEqual(old.spec?.taints, node.spec?.taints)
    ) return;
    for (const ds of this.#sets.cache.list()) {
      const before = nodeShouldRunDaemonPod(old, ds);
      const after = nodeShouldRunDaemonPod(node, ds);
      if (
        before.shouldRun !== after.shouldRun || before.shouldContinueRunning !== after.shouldContinueRunning
      ) {
        this.#controller.enqueue(keyOf(ds));
      }
    }
  }

  /** A node gone: its unscheduled daemon pods will never be bound; the sets that ran there look again. */
  #nodeDeleted(node: Node): void {
    for (const ds of this.#sets.cache.list()) {
      if (nodeShouldRunDaemonPod(node, ds).shouldContinueRunning) this.#controller.enqueue(keyOf(ds));
    }
  }

  // ---- Sync ----

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const cached = this.#sets.cache.get(key);
    if (!cached) {
      this.#forget(key);
      return;
    }
    const ds: DaemonSet = { ...cached, ...DAEMON_SET_KIND };
    const nodes = this.#nodes.cache.list();
    const selector = selectorOf(ds);
    if (!selector) {
      this.#recorder.event(
        ds as never,
        "Warning",
        "SelectingAll",
        "This daemon set is selecting all pods. A non-empty selector is required.",
      );
      return;
    }
    // Being deleted: its history may be gone already, so no status can be trusted.
    if (ds.metadata?.deletionTimestamp) return;

    const canAdopt = recheckDeletionTimestamp(this.#setClient, ds);
    const claim = () => this.#claimPods(ds, selector, canAdopt);
    const { current, old } = await this.#revisions.construct(ds, selector, canAdopt, claim);
    const hash = current.metadata?.labels?.[DAEMON_SET_UNIQUE_LABEL] ?? "";

    const requeue: number[] = [];
    if (!this.#satisfied(key)) {
      return this.#result(await this.#updateStatus(ds, nodes, hash, await claim(), false), requeue);
    }
    let failure: unknown;
    try {
      await this.#manage(key, ds, nodes, hash, await claim(), requeue);
      if (this.#satisfied(key) && ds.spec?.updateStrategy?.type === "RollingUpdate") {
        const plan = planRollingUpdate(ds, nodes, this.#nodeToDaemonPods(await claim(), false), hash);
        await this.#syncNodes(key, ds, plan.podsToDelete, plan.nodesToCreate, hash);
      }
      try {
        await this.#revisions.cleanup(ds, old, await claim());
      } catch (err) {
        throw new Error(`failed to clean up revisions of DaemonSet: ${(err as Error).message}`);
      }
    } catch (err) {
      failure = err;
    }
    const statusWait = await this.#updateStatus(ds, nodes, hash, await claim(), true);
    if (failure !== undefined) throw failure;
    return this.#result(statusWait, requeue);
  }

  #result(statusWait: number | undefined, requeue: number[]): { requeueAfterMs: number } | void {
    const waits = statusWait === undefined ? requeue : [...requeue, statusWait];
    if (waits.length) return { requeueAfterMs: Math.min(...waits) };
  }

  /** The DaemonSet's pods: those it controls, and matching orphans it adopts. */
  #claimPods(ds: DaemonSet, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<Pod[]> {
    const candidates = [
      ...this.#pods.cache.byIndex("controller", ds.metadata!.uid!),
      ...this.#pods.cache.byIndex("orphans", ds.metadata!.namespace!),
    ];
    return claimObjects(candidates, { owner: ds, selector, client: this.#podClient, canAdopt });
  }

  /** Pods by the node they are for; terminated pods being deleted are left out unless asked for. */
  #nodeToDaemonPods(pods: Pod[], includeDeletedTerminal: boolean): NodeToDaemonPods {
    const out: NodeToDaemonPods = new Map();
    for (const pod of pods) {
      const terminal = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
      if (!includeDeletedTerminal && terminal && pod.metadata?.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (node === undefined) continue;
      const list = out.get(node);
      if (list) list.push(pod);
      else out.set(node, [pod]);
    }
    return out;
  }

  /** Makes and deletes pods as the nodes call for (see manage.ts); records what it found. */
  async #manage(
    key: string,
    ds: DaemonSet,
    nodes: Node[],
    hash: string,
    pods: Pod[],
    requeue: number[],
  ): Promise<void> {
    const plan = planManage(ds, nodes, this.#nodeToDaemonPods(pods, false), hash, this.#failedPodsBackoff);
    for (const e of plan.events) this.#recorder.event(ds as never, e.type, e.reason, e.message);
    if (plan.requeueAfterMs !== undefined) requeue.push(plan.requeueAfterMs);
    await this.#syncNodes(key, ds, plan.podsToDelete, plan.nodesNeeding, hash);
  }

  /** Deletes `podsToDelete` and makes a pod on each of `nodesNeeding` (at most BURST_REPLICAS each). */
  async #syncNodes(
    key: string,
    ds: DaemonSet,
    podsToDelete: Pod[],
    nodesNeeding: string[],
    hash: string,
  ): Promise<void> {
    const toCreate = nodesNeeding.slice(0, BURST_REPLICAS);
    const toDelete = podsToDelete.slice(0, BURST_REPLICAS);
    if (!toCreate.length && !toDelete.length) return;
    this.#creations.expectCreations(key, toCreate.length);
    this.#deletions.expectDeletions(key, toDelete.map((p) => p.metadata!.uid!));
    const namespace = ds.metadata!.namespace!;
    const errors: unknown[] = [];
    const template = createPodTemplate(ds.spec!.template, templateGeneration(ds), hash);
    const ownerRef = ownerRefTo(ds);

    // Slow start: batches of 1, 2, 4, …; a batch with a failure ends the creations.
    let pos = 0;
    for (
      let batch = Math.min(1, toCreate.length);
      batch > 0;
      batch = Math.min(2 * batch, toCreate.length - pos)
    ) {
      const nodes = toCreate.slice(pos, pos + batch);
      pos += batch;
      const before = errors.length;
      await Promise.all(nodes.map(async (nodeName) => {
        const pod = podFromTemplate(template, namespace, `${ds.metadata!.name}-`, ownerRef);
        pod.spec!.affinity = replaceDaemonSetPodNodeNameNodeAffinity(pod.spec!.affinity, nodeName);
        try {
          const made = await this.#podClient.create(namespace, pod);
          this.#recorder.event(
            ds as never,
            "Normal",
            "SuccessfulCreate",
            `Created pod: ${made.metadata?.name}`,
          );
        } catch (err) {
          this.#creations.creationObserved(key);
          // A namespace being deleted takes no new pods; nothing to report.
          if (isStatusError(err) && err.message.includes("because it is being terminated")) return;
          this.#recorder.event(
            ds as never,
            "Warning",
            "FailedCreate",
            `Error creating: ${(err as Error).message}`,
          );
          errors.push(err);
        }
      }));
      if (errors.length > before) {
        // Those never tried will not be seen either.
        for (let i = pos; i < toCreate.length; i++) this.#creations.creationObserved(key);
        break;
      }
    }

    await Promise.all(toDelete.map(async (pod) => {
      try {
        await this.#podClient.delete(namespace, pod.metadata!.name!, {
          preconditions: { uid: pod.metadata!.uid },
        });
        this.#recorder.event(ds as never, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata?.name}`);
      } catch (err) {
        this.#deletions.deletionObserved(key, pod.metadata!.uid!);
        if (isStatusError(err, "NotFound") || isStatusError(err, "Conflict")) return;
        this.#recorder.event(
          ds as never,
          "Warning",
          "FailedDelete",
          `Error deleting: ${(err as Error).message}`,
        );
        errors.push(err);
      }
    }));
    if (errors.length) throw errors[0];
  }

  /**
   * Counts the nodes that should run the daemon, have it, have it ready, available and updated,
   * and run it where they should not; writes status when it changed. Answers how long until a
   * ready pod becomes available, if one is waiting.
   */
  async #updateStatus(
    ds: DaemonSet,
    nodes: Node[],
    hash: string,
    pods: Pod[],
    updateObservedGeneration: boolean,
  ): Promise<number | undefined> {
    const nodeToDaemonPods = this.#nodeToDaemonPods(pods, false);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    const now = Date.now();
    let desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
    for (const node of nodes) {
      const daemonPods = nodeToDaemonPods.get(node.metadata?.name ?? "") ?? [];
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
        if (daemonPods.length) misscheduled++;
        continue;
      }
      desired++;
      if (!daemonPods.length) continue;
      current++;
      const pod = [...daemonPods].sort(byCreationTimestampAndPhase)[0];
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const old = ds.status;
    const status = {
      ...old,
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
      observedGeneration: updateObservedGeneration ? ds.metadata?.generation : old?.observedGeneration,
    };
    const same = old?.desiredNumberScheduled === desired &&
      old.currentNumberScheduled === current &&
      old.numberMisscheduled === misscheduled &&
      old.numberReady === ready &&
      (old.updatedNumberScheduled ?? 0) === updated &&
      (old.numberAvailable ?? 0) === available &&
      (old.numberUnavailable ?? 0) === desired - available &&
      old.observedGeneration === status.observedGeneration;
    if (!same) {
      try {
        await this.#setClient.updateStatus(ds.metadata!.namespace!, { ...ds, status });
      } catch (err) {
        if (!isStatusError(err, "NotFound")) throw err;
      }
    }
    if (minReady > 0 && ready !== available) return minReady * 1000;
  }
}
