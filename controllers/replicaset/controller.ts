/**
 * The ReplicaSet controller (and, with another kind description, the ReplicationController
 * controller): keeps `spec.replicas` active pods matching the selector, adopting matching
 * orphans and releasing owned pods that stopped matching, and reports replica counts in status.
 *
 * Pods are created in slow-start batches (1, 2, 4, … up to `burstReplicas` per sync) so a
 * template the server refuses fails once, not a thousand times. Expectations keep a sync from
 * acting on a cache that has not yet seen the pods the last sync created or deleted.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { type LabelSelector, matchesLabels, selectorFromLabelSelector } from "../../machinery/labels.ts";
import { isStatusError } from "../../machinery/status.ts";
import { jsonEqual, rfc3339 } from "../../machinery/object_meta.ts";
import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import { Expectations } from "../framework/expectations.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import {
  comparePodsForDeletion,
  controllerRef,
  isPodActive,
  isPodAvailable,
  isPodReady,
  msUntilAvailable,
  ownerRefTo,
  podFromTemplate,
} from "../pods.ts";
import type { Pod, PodTemplateSpec } from "../types.ts";

/** Most pods one sync creates or deletes. */
export const BURST_REPLICAS = 500;

/** The one shape the controller needs of a ReplicaSet or a ReplicationController. */
export interface ReplicaOwner {
  [key: string]: unknown;
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    deletionTimestamp?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec?: { replicas?: number; minReadySeconds?: number; selector?: unknown; template?: PodTemplateSpec };
  status?: ReplicaStatus;
}

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Array<
    { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }
  >;
}

/** What differs between the two kinds the controller runs for. */
export interface ReplicaKind {
  name: string;
  group: string;
  resource: string;
  kind: string;
  /** The reporting component of its events. */
  component: string;
  selector(owner: ReplicaOwner): LabelSelector | null;
}

export const REPLICA_SET: ReplicaKind = {
  name: "replicaset",
  group: "apps",
  resource: "replicasets",
  kind: "ReplicaSet",
  component: "replicaset-controller",
  selector: (rs) => selectorFromLabelSelector(rs.spec?.selector as never),
};

export const REPLICATION_CONTROLLER: ReplicaKind = {
  name: "replicationcontroller",
  group: "",
  resource: "replicationcontrollers",
  kind: "ReplicationController",
  component: "replication-controller",
  selector: (rc) => {
    const map = (rc.spec?.selector ?? rc.spec?.template?.metadata?.labels) as
      | Record<string, string>
      | undefined;
    if (!map || Object.keys(map).length === 0) return null;
    return selectorFromLabelSelector({ matchLabels: map });
  },
};

/** Pods without a controller, filed by namespace, so adoption does not scan every pod. */
const orphansByNamespace = (p: Pod) => controllerRef(p) ? [] : [p.metadata?.namespace ?? ""];
const byControllerUid = (p: Pod) => {
  const ref = controllerRef(p);
  return ref ? [ref.uid] : [];
};

export function newReplicaSetController(ctx: ControllerContext): Runnable {
  return new ReplicaController(ctx, REPLICA_SET);
}

export function newReplicationControllerController(ctx: ControllerContext): Runnable {
  return new ReplicaController(ctx, REPLICATION_CONTROLLER);
}

class ReplicaController implements Runnable {
  readonly name: string;
  readonly #kind: ReplicaKind;
  readonly #owners: Informer<ReplicaOwner>;
  readonly #pods: Informer<Pod>;
  readonly #ownerClient: ResourceClient<ReplicaOwner>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #controller: Controller;
  readonly #expectations = new Expectations();
  readonly #recorder: EventRecorder;

  constructor(ctx: ControllerContext, kind: ReplicaKind) {
    this.name = kind.name;
    this.#kind = kind;
    this.#owners = ctx.informers.informer<ReplicaOwner>(kind.group, kind.resource);
    this.#pods = ctx.informers.informer<Pod>("", "pods", {
      indexers: { controller: byControllerUid, orphans: orphansByNamespace },
    });
    this.#ownerClient = ctx.client.resource<ReplicaOwner>(kind.group, kind.resource);
    this.#podClient = ctx.client.resource<Pod>("", "pods");
    this.#recorder = ctx.events.recorder(kind.component);
    this.#controller = new Controller({
      name: kind.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    const enqueue = (o: ReplicaOwner) => this.#controller.enqueue(keyOf(o));
    this.#owners.addEventHandler({
      add: enqueue,
      update: (_, o) => enqueue(o),
      delete: (o) => {
        this.#expectations.forget(keyOf(o));
        enqueue(o);
      },
    });
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

  /** The owner of `pod` of this controller's kind, by its controller reference. */
  #ownerKeyOf(pod: Pod): string | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== this.#kind.kind) return undefined;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    const owner = this.#owners.cache.get(key);
    return owner?.metadata?.uid === ref.uid ? key : undefined;
  }

  /** Owners in the pod's namespace whose selector takes it (for orphans). */
  #matchingOwners(pod: Pod): string[] {
    const out: string[] = [];
    for (const o of this.#owners.cache.inNamespace(pod.metadata?.namespace ?? "")) {
      const sel = this.#kind.selector(o);
      if (sel && matchesLabels(sel, pod.metadata?.labels ?? {})) out.push(keyOf(o));
    }
    return out;
  }

  #podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.#podDeleted(pod);
    const key = this.#ownerKeyOf(pod);
    if (key) {
      this.#expectations.creationObserved(key);
      this.#controller.enqueue(key);
    } else if (!controllerRef(pod)) {
      for (const k of this.#matchingOwners(pod)) this.#controller.enqueue(k);
    }
  }

  #podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const key = this.#ownerKeyOf(pod);
    if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp && key) {
      this.#expectations.deletionObserved(key, pod.metadata.uid ?? "");
    }
    const oldKey = this.#ownerKeyOf(old);
    if (oldKey && oldKey !== key) this.#controller.enqueue(oldKey);
    if (key) this.#controller.enqueue(key);
    else if (!controllerRef(pod) && !jsonEqual(old.metadata?.labels, pod.metadata?.labels)) {
      for (const k of this.#matchingOwners(pod)) this.#controller.enqueue(k);
    }
  }

  #podDeleted(pod: Pod): void {
    const key = this.#ownerKeyOf(pod);
    if (!key) return;
    this.#expectations.deletionObserved(key, pod.metadata?.uid ?? "");
    this.#controller.enqueue(key);
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const owner = this.#owners.cache.get(key);
    if (!owner) {
      this.#expectations.forget(key);
      return;
    }
    const { namespace } = splitKey(key);
    const selector = this.#kind.selector(owner);
    if (!selector) return;
    const pods = await this.#claimPods(owner, selector, namespace);
    const active = pods.filter(isPodActive);
    let failure: string | undefined;
    if (this.#expectations.satisfied(key) && !owner.metadata?.deletionTimestamp) {
      failure = await this.#manageReplicas(key, owner, active, namespace);
    }
    return await this.#updateStatus(owner, active, failure);
  }

  /**
   * The pods this owner controls: owned and matching ones, plus matching orphans it adopts;
   * owned pods that stopped matching are released.
   */
  async #claimPods(owner: ReplicaOwner, selector: LabelSelector, namespace: string): Promise<Pod[]> {
    const uid = owner.metadata!.uid!;
    const claimed: Pod[] = [];
    for (const pod of this.#pods.cache.byIndex("controller", uid)) {
      if (matchesLabels(selector, pod.metadata?.labels ?? {})) claimed.push(pod);
      else if (!pod.metadata?.deletionTimestamp) await this.#release(owner, pod);
    }
    if (owner.metadata?.deletionTimestamp) return claimed;
    for (const pod of this.#pods.cache.byIndex("orphans", namespace)) {
      if (pod.metadata?.deletionTimestamp || !matchesLabels(selector, pod.metadata?.labels ?? {})) continue;
      const adopted = await this.#adopt(owner, pod);
      if (adopted) claimed.push(adopted);
    }
    return claimed;
  }

  async #adopt(owner: ReplicaOwner, pod: Pod): Promise<Pod | undefined> {
    // Check the owner still exists with this uid and is not being deleted (a fresh read).
    const fresh = await this.#ownerClient.get(owner.metadata!.namespace!, owner.metadata!.name!).catch(() =>
      undefined
    );
    if (!fresh || fresh.metadata?.uid !== owner.metadata?.uid || fresh.metadata?.deletionTimestamp) {
      return undefined;
    }
    const ref = ownerRefTo({
      ...owner,
      apiVersion: owner.apiVersion ?? apiVersion(this.#kind),
      kind: this.#kind.kind,
    });
    try {
      return await this.#podClient.patch(pod.metadata!.namespace!, pod.metadata!.name!, "strategic", {
        metadata: { ownerReferences: [ref], uid: pod.metadata!.uid },
      });
    } catch (err) {
      if (isStatusError(err, "NotFound") || isStatusError(err, "Invalid") || isStatusError(err, "Conflict")) {
        return undefined;
      }
      throw err;
    }
  }

  async #release(owner: ReplicaOwner, pod: Pod): Promise<void> {
    try {
      await this.#podClient.patch(pod.metadata!.namespace!, pod.metadata!.name!, "strategic", {
        metadata: {
          ownerReferences: [{ $patch: "delete", uid: owner.metadata!.uid }],
          uid: pod.metadata!.uid,
        },
      });
    } catch (err) {
      if (
        !isStatusError(err, "NotFound") && !isStatusError(err, "Invalid") && !isStatusError(err, "Conflict")
      ) throw err;
    }
  }

  /** Creates or deletes pods toward `spec.replicas`; answers a failure message for the status. */
  async #manageReplicas(
    key: string,
    owner: ReplicaOwner,
    active: Pod[],
    namespace: string,
  ): Promise<string | undefined> {
    const want = owner.spec?.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.#expectations.expectCreations(key, count);
      const template = owner.spec!.template!;
      const ownerRef = ownerRefTo({
        ...owner,
        apiVersion: owner.apiVersion ?? apiVersion(this.#kind),
        kind: this.#kind.kind,
      });
      let failure: string | undefined;
      const created = await slowStartBatch(count, 1, async () => {
        const pod = podFromTemplate(template, namespace, `${owner.metadata!.name}-`, ownerRef);
        try {
          const made = await this.#podClient.create(namespace, pod);
          this.#recorder.event(
            owner as never,
            "Normal",
            "SuccessfulCreate",
            `Created pod: ${made.metadata?.name}`,
          );
        } catch (err) {
          this.#expectations.creationObserved(key);
          if (isStatusError(err) && err.message.includes("because it is being terminated")) return; // namespace going away
          failure = (err as Error).message;
          this.#recorder.event(owner as never, "Warning", "FailedCreate", `Error creating: ${failure}`);
          throw err;
        }
      });
      // Those never attempted will not be seen either.
      for (let i = created.attempted; i < count; i++) this.#expectations.creationObserved(key);
      return failure;
    }
    if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(active, count);
      this.#expectations.expectDeletions(key, victims.map((p) => p.metadata!.uid!));
      let failure: string | undefined;
      await Promise.all(victims.map(async (pod) => {
        try {
          await this.#podClient.delete(namespace, pod.metadata!.name!, {
            preconditions: { uid: pod.metadata!.uid },
          });
          this.#recorder.event(
            owner as never,
            "Normal",
            "SuccessfulDelete",
            `Deleted pod: ${pod.metadata?.name}`,
          );
        } catch (err) {
          this.#expectations.deletionObserved(key, pod.metadata!.uid!);
          if (isStatusError(err, "NotFound") || isStatusError(err, "Conflict")) return;
          failure = (err as Error).message;
          this.#recorder.event(owner as never, "Warning", "FailedDelete", `Error deleting: ${failure}`);
        }
      }));
      return failure;
    }
    return undefined;
  }

  async #updateStatus(
    owner: ReplicaOwner,
    active: Pod[],
    failure: string | undefined,
  ): Promise<{ requeueAfterMs: number } | void> {
    const minReady = owner.spec?.minReadySeconds ?? 0;
    const templateLabels = owner.spec?.template?.metadata?.labels ?? {};
    const now = Date.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    let nextAvailable: number | undefined;
    for (const pod of active) {
      const labels = pod.metadata?.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
        else {
          const wait = msUntilAvailable(pod, minReady, now);
          if (wait !== undefined) nextAvailable = Math.min(nextAvailable ?? wait, wait);
        }
      }
    }
    const old = owner.status ?? { replicas: 0 };
    const conditions = (old.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
    if (failure) {
      const prev = old.conditions?.find((c) => c.type === "ReplicaFailure");
      conditions.push({
        type: "ReplicaFailure",
        status: "True",
        reason: "FailedCreate",
        message: failure,
        lastTransitionTime: prev?.lastTransitionTime ?? rfc3339(),
      });
    }
    const status: ReplicaStatus = {
      replicas: active.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: owner.metadata?.generation,
    };
    if (conditions.length) status.conditions = conditions;
    const same = old.replicas === status.replicas &&
      (old.fullyLabeledReplicas ?? 0) === fullyLabeled &&
      (old.readyReplicas ?? 0) === ready &&
      (old.availableReplicas ?? 0) === available &&
      old.observedGeneration === status.observedGeneration &&
      jsonEqual(old.conditions ?? [], conditions);
    if (!same) {
      try {
        await this.#ownerClient.updateStatus(
          owner.metadata!.namespace!,
          { ...owner, status } as ReplicaOwner,
        );
      } catch (err) {
        if (!isStatusError(err, "NotFound")) throw err;
      }
    }
    if (nextAvailable !== undefined) return { requeueAfterMs: nextAvailable + 50 };
  }
}

function apiVersion(kind: ReplicaKind): string {
  return kind.group ? `${kind.group}/v1` : "v1";
}

/** The `count` pods to delete first, as upstream ranks them (pods sharing a node with more of their kin go first). */
export function podsToDelete(active: Pod[], count: number): Pod[] {
  if (count >= active.length) return [...active];
  const sameNode = new Map<string, number>();
  for (const p of active) {
    const n = p.spec?.nodeName;
    if (n) sameNode.set(n, (sameNode.get(n) ?? 0) + 1);
  }
  return [...active].sort((a, b) => comparePodsForDeletion(a, b, sameNode)).slice(0, count);
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, …; stops after the first batch with a failure.
 * Answers how many were attempted and how many succeeded.
 */
export async function slowStartBatch(
  count: number,
  initial: number,
  fn: () => Promise<void>,
): Promise<{ attempted: number; succeeded: number }> {
  let remaining = count;
  let succeeded = 0;
  let attempted = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    attempted += batch;
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const ok = results.filter((r) => r.status === "fulfilled").length;
    succeeded += ok;
    remaining -= batch;
    if (ok < batch) break;
  }
  return { attempted, succeeded };
}
