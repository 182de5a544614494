/**
 * The Deployment controller: a deployment's pods run under ReplicaSets named
 * `<deployment>-<pod-template-hash>`, one per template it has had. A sync claims the ReplicaSets
 * its selector matches (adopting orphans, releasing those that stopped matching), then, in
 * upstream's order of precedence: a deployment being deleted only gets its status; a paused one
 * is only scaled; a deprecated rollback request is carried out; a change of replicas is shared
 * out proportionally; otherwise the strategy (RollingUpdate or Recreate) takes the next step of
 * the rollout.
 *
 * Watches deployments; ReplicaSets (mapped to their controlling deployment, orphans to every
 * deployment selecting them); and pod deletions (a Recreate rollout waits for the old pods to go).
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { type LabelSelector, matchesLabels, selectorFromLabelSelector } from "../../machinery/labels.ts";
import { jsonEqual } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { byController, keyOf, splitKey } from "../framework/cache.ts";
import { Controller, type ReconcileResult } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { ControllerContext, Runnable } from "../framework/mod.ts";
import { controllerRef, ownerRefTo } from "../pods.ts";
import { getRollbackTo } from "./annotations.ts";
import { type PodMap, rolloutRecreate } from "./recreate.ts";
import { rollback } from "./rollback.ts";
import { rolloutRolling } from "./rolling.ts";
import { checkPausedConditions, isScalingEvent, sync, syncStatusOnly } from "./sync.ts";
import { type SyncContext, updateDeploymentStatus } from "./sync_context.ts";
import type { Deployment, Pod, ReplicaSet } from "./types.ts";
import { clone } from "../../machinery/object_meta.ts";

/** How often a failing sync is retried before the deployment waits for its next change. */
const MAX_RETRIES = 15;

export function newDeploymentController(ctx: ControllerContext): Runnable {
  return new DeploymentController(ctx);
}

class DeploymentController implements Runnable {
  readonly name = "deployment";
  readonly #deployments: Informer<Deployment>;
  readonly #replicaSets: Informer<ReplicaSet>;
  readonly #pods: Informer<Pod>;
  readonly #deploymentClient: ResourceClient<Deployment>;
  readonly #rsClient: ResourceClient<ReplicaSet>;
  readonly #controller: Controller;
  readonly #sync: SyncContext;

  constructor(ctx: ControllerContext) {
    this.#deployments = ctx.informers.informer<Deployment>("apps", "deployments");
    this.#replicaSets = ctx.informers.informer<ReplicaSet>("apps", "replicasets", {
      indexers: { controller: byController },
    });
    this.#pods = ctx.informers.informer<Pod>("", "pods", { indexers: { controller: byController } });
    this.#deploymentClient = ctx.client.resource<Deployment>("apps", "deployments");
    this.#rsClient = ctx.client.resource<ReplicaSet>("apps", "replicasets");
    this.#sync = {
      deployments: this.#deploymentClient,
      replicaSets: this.#rsClient,
      rsCache: this.#replicaSets.cache,
      recorder: ctx.events.recorder("deployment-controller"),
      now: () => Date.now(),
    };
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      maxRetries: MAX_RETRIES,
      reconcile: (key) => this.#syncDeployment(key),
    });
    const enqueue = (d: Deployment) => this.#controller.enqueue(keyOf(d));
    this.#deployments.addEventHandler({ add: enqueue, update: (_, d) => enqueue(d), delete: enqueue });
    this.#replicaSets.addEventHandler({
      add: (rs) => this.#replicaSetAdded(rs),
      update: (old, rs) => this.#replicaSetUpdated(old, rs),
      delete: (rs) => this.#replicaSetDeleted(rs),
    });
    this.#pods.addEventHandler({ delete: (pod) => this.#podDeleted(pod) });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  // --- event handlers: map events to deployment keys ---

  /** The deployment a controller reference points to, if it is one of ours with that uid. */
  #resolveControllerRef(
    namespace: string,
    ref: { kind: string; name: string; uid: string },
  ): Deployment | undefined {
    if (ref.kind !== "Deployment") return undefined;
    const d = this.#deployments.cache.getByName(namespace, ref.name);
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose (non-empty) selector matches the ReplicaSet's labels. */
  #deploymentsSelecting(rs: ReplicaSet): Deployment[] {
    const labels = rs.metadata?.labels ?? {};
    return this.#deployments.cache.inNamespace(rs.metadata?.namespace ?? "").filter((d) => {
      const sel = safeSelector(d);
      return !!sel && sel.requirements.length > 0 && matchesLabels(sel, labels);
    });
  }

  #enqueueOwner(rs: ReplicaSet): boolean {
    const ref = controllerRef(rs);
    if (!ref) return false;
    const d = this.#resolveControllerRef(rs.metadata?.namespace ?? "", ref);
    if (d) this.#controller.enqueue(keyOf(d));
    return true;
  }

  #replicaSetAdded(rs: ReplicaSet): void {
    if (rs.metadata?.deletionTimestamp) return this.#replicaSetDeleted(rs);
    if (this.#enqueueOwner(rs)) return;
    for (const d of this.#deploymentsSelecting(rs)) this.#controller.enqueue(keyOf(d));
  }

  #replicaSetUpdated(old: ReplicaSet, rs: ReplicaSet): void {
    if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const oldRef = controllerRef(old);
    const curRef = controllerRef(rs);
    const refChanged = !jsonEqual(oldRef, curRef);
    if (refChanged && oldRef) {
      const d = this.#resolveControllerRef(old.metadata?.namespace ?? "", oldRef);
      if (d) this.#controller.enqueue(keyOf(d));
    }
    if (this.#enqueueOwner(rs)) return;
    if (refChanged || !jsonEqual(old.metadata?.labels, rs.metadata?.labels)) {
      for (const d of this.#deploymentsSelecting(rs)) this.#controller.enqueue(keyOf(d));
    }
  }

  #replicaSetDeleted(rs: ReplicaSet): void {
    this.#enqueueOwner(rs); // orphans going away concern nobody
  }

  /** A Recreate rollout waits for the old pods: sync once a deployment has none left. */
  #podDeleted(pod: Pod): void {
    const d = this.#deploymentForPod(pod);
    if (!d || d.spec?.strategy?.type !== "Recreate") return;
    const sets = this.#replicaSets.cache.byIndex("controller", d.metadata?.uid ?? "");
    const left = sets.reduce(
      (n, rs) => n + this.#pods.cache.byIndex("controller", rs.metadata?.uid ?? "").length,
      0,
    );
    if (left === 0) this.#controller.enqueue(keyOf(d));
  }

  #deploymentForPod(pod: Pod): Deployment | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== "ReplicaSet") return undefined;
    const rs = this.#replicaSets.cache.getByName(pod.metadata?.namespace ?? "", ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
    const rsRef = controllerRef(rs);
    return rsRef ? this.#resolveControllerRef(rs.metadata?.namespace ?? "", rsRef) : undefined;
  }

  // --- the sync ---

  async #syncDeployment(key: string): Promise<ReconcileResult> {
    const cached = this.#deployments.cache.get(key);
    if (!cached) return;
    const d = clone(cached);
    const ctx = this.#sync;

    if (selectsEverything(d)) {
      ctx.recorder.event(
        d,
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        (d.status ??= {}).observedGeneration = d.metadata?.generation;
        await updateDeploymentStatus(ctx, d).catch(() => undefined);
      }
      return;
    }
    const selector = safeSelector(d);
    if (!selector) {
      throw new Error(`deployment ${key} has invalid label selector`);
    }

    const rsList = await this.#claimReplicaSets(d, selector);
    const podMap = this.#podMapFor(selector, rsList);

    if (d.metadata?.deletionTimestamp) return await syncStatusOnly(ctx, d, rsList);
    await checkPausedConditions(ctx, d);
    if (d.spec?.paused) return await sync(ctx, d, rsList);
    // A rollback is not re-entrant: it finishes (its request cleared) before anything else.
    if (getRollbackTo(d) !== undefined) return await rollback(ctx, d, rsList);
    if (await isScalingEvent(ctx, d, rsList)) return await sync(ctx, d, rsList);
    switch (d.spec?.strategy?.type) {
      case "Recreate":
        return await rolloutRecreate(ctx, d, rsList, podMap);
      case "RollingUpdate":
        return await rolloutRolling(ctx, d, rsList);
    }
    throw new Error(`unexpected deployment strategy type: ${d.spec?.strategy?.type}`);
  }

  /**
   * The ReplicaSets this deployment controls: its own that still match, plus matching orphans it
   * adopts (after checking, with a fresh read, that it is not being deleted); its own that no
   * longer match are released.
   */
  async #claimReplicaSets(d: Deployment, selector: LabelSelector): Promise<ReplicaSet[]> {
    const { namespace } = splitKey(keyOf(d));
    const uid = d.metadata!.uid!;
    const claimed: ReplicaSet[] = [];
    const errors: string[] = [];
    let canAdopt: Promise<void> | undefined;
    for (const rs of this.#replicaSets.cache.inNamespace(namespace)) {
      const ref = controllerRef(rs);
      const matches = matchesLabels(selector, rs.metadata?.labels ?? {});
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) claimed.push(rs);
        else if (!d.metadata?.deletionTimestamp) {
          try {
            await this.#release(d, rs);
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        continue;
      }
      if (d.metadata?.deletionTimestamp || !matches || rs.metadata?.deletionTimestamp) continue;
      try {
        await (canAdopt ??= this.#recheckDeletion(d));
        const adopted = await this.#adopt(d, rs);
        if (adopted) claimed.push(adopted);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length) throw new Error(errors.join("; "));
    return claimed;
  }

  async #recheckDeletion(d: Deployment): Promise<void> {
    const { namespace, name, uid } = d.metadata as { namespace: string; name: string; uid: string };
    const fresh = await this.#deploymentClient.get(namespace, name);
    if (fresh.metadata?.uid !== uid) {
      throw new Error(
        `original Deployment ${namespace}/${name} is gone: got uid ${fresh.metadata?.uid}, wanted ${uid}`,
      );
    }
    if (fresh.metadata?.deletionTimestamp) {
      throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  }

  async #adopt(d: Deployment, rs: ReplicaSet): Promise<ReplicaSet | undefined> {
    const ref = ownerRefTo({ ...d, apiVersion: "apps/v1", kind: "Deployment" });
    try {
      return await this.#rsClient.patch(rs.metadata!.namespace!, rs.metadata!.name!, "strategic", {
        metadata: { ownerReferences: [ref], uid: rs.metadata!.uid },
      });
    } catch (err) {
      if (isStatusError(err, "NotFound")) return undefined;
      throw err;
    }
  }

  async #release(d: Deployment, rs: ReplicaSet): Promise<void> {
    try {
      await this.#rsClient.patch(rs.metadata!.namespace!, rs.metadata!.name!, "strategic", {
        metadata: { ownerReferences: [{ $patch: "delete", uid: d.metadata!.uid }], uid: rs.metadata!.uid },
      });
    } catch (err) {
      if (!isStatusError(err, "NotFound") && !isStatusError(err, "Invalid")) throw err;
    }
  }

  /** The deployment's pods (by its selector) by the uid of the claimed ReplicaSet controlling them. */
  #podMapFor(selector: LabelSelector, rsList: ReplicaSet[]): PodMap {
    const map: PodMap = new Map();
    for (const rs of rsList) {
      const uid = rs.metadata?.uid ?? "";
      map.set(
        uid,
        this.#pods.cache.byIndex("controller", uid).filter((p) =>
          matchesLabels(selector, p.metadata?.labels)
        ),
      );
    }
    return map;
  }
}

/** The deployment's selector, or undefined when it cannot be parsed. */
function safeSelector(d: Deployment): LabelSelector | undefined {
  try {
    return selectorFromLabelSelector(d.spec?.selector) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A present but empty selector: it would select every pod, which a deployment may not. */
function selectsEverything(d: Deployment): boolean {
  const s = d.spec?.selector;
  if (!s) return false;
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}
