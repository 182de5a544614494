/**
 * The writes of the StatefulSet controller, as upstream's StatefulPodControl makes them: a
 * pod's claims are created before the pod, a pod's identity and storage are put right by an
 * update, and claims get the ownerReferences the retention policy asks for. Every write is
 * reported as an event on the set, worded as upstream words it ("create Pod web-0 in
 * StatefulSet web successful", "create Claim data-web-0 Pod web-0 in StatefulSet web success").
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { clone } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { Cache } from "../framework/cache.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Pod, StatefulSet } from "../types.ts";
import {
  claimName,
  getOrdinal,
  hasStaleOwnerRef,
  hasUnexpectedController,
  identityMatches,
  isClaimOwnerUpToDate,
  type PersistentVolumeClaim,
  persistentVolumeClaims,
  retentionPolicy,
  storageMatches,
  updateClaimOwnerRefForSetAndPod,
  updateIdentity,
  updateStorage,
} from "./set_utils.ts";

function title(verb: string): string {
  return verb[0].toUpperCase() + verb.slice(1);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class StatefulPodControl {
  readonly #pods: ResourceClient<Pod>;
  readonly #claims: ResourceClient<PersistentVolumeClaim>;
  readonly #claimCache: Cache<PersistentVolumeClaim>;
  readonly #recorder: EventRecorder;

  constructor(
    pods: ResourceClient<Pod>,
    claims: ResourceClient<PersistentVolumeClaim>,
    claimCache: Cache<PersistentVolumeClaim>,
    recorder: EventRecorder,
  ) {
    this.#pods = pods;
    this.#claims = claims;
    this.#claimCache = claimCache;
    this.#recorder = recorder;
  }

  /**
   * Creates the pod's claims, then the pod, then sets the claims' references. Answers false when
   * the pod already exists (the cache has not seen it yet: its arrival brings the set back).
   */
  async createStatefulPod(set: StatefulSet, pod: Pod): Promise<boolean> {
    try {
      await this.createPersistentVolumeClaims(set, pod);
    } catch (err) {
      this.#recordPodEvent("create", set, pod, err);
      throw err;
    }
    let created: Pod;
    try {
      created = await this.#pods.create(set.metadata!.namespace!, pod);
    } catch (err) {
      if (isStatusError(err, "AlreadyExists")) return false;
      this.#recordPodEvent("create", set, pod, err);
      throw err;
    }
    try {
      await this.updatePodClaimForRetentionPolicy(set, created);
    } catch (err) {
      this.#recordPodEvent("update", set, created, err);
      throw err;
    }
    this.#recordPodEvent("create", set, created);
    return true;
  }

  /** Puts the pod's identity, storage and claims' references right; writes only what differs. */
  async updateStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    let attempted = false;
    try {
      for (let attempt = 0;; attempt++) {
        let consistent = true;
        if (!identityMatches(set, pod)) {
          updateIdentity(set, pod);
          consistent = false;
        }
        if (!storageMatches(set, pod)) {
          updateStorage(set, pod);
          consistent = false;
          await this.createPersistentVolumeClaims(set, pod);
        }
        if (!this.claimsMatchRetentionPolicy(set, pod)) {
          await this.updatePodClaimForRetentionPolicy(set, pod);
          consistent = false;
        }
        if (consistent) return;
        attempted = true;
        try {
          await this.#pods.update(set.metadata!.namespace!, pod);
          break;
        } catch (err) {
          if (!isStatusError(err, "Conflict") || attempt >= 4) throw err;
          pod = await this.#pods.get(set.metadata!.namespace!, pod.metadata!.name!);
        }
      }
    } catch (err) {
      this.#recordPodEvent("update", set, pod, err);
      throw err;
    }
    if (attempted) this.#recordPodEvent("update", set, pod);
  }

  /** Deletes the pod; one already gone is not an error. */
  async deleteStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.#pods.delete(set.metadata!.namespace!, pod.metadata!.name!);
    } catch (err) {
      if (isStatusError(err, "NotFound")) return;
      this.#recordPodEvent("delete", set, pod, err);
      throw err;
    }
    this.#recordPodEvent("delete", set, pod);
  }

  /** Whether every existing claim of the pod carries the references the policy asks for. */
  claimsMatchRetentionPolicy(set: StatefulSet, pod: Pod): boolean {
    const ordinal = getOrdinal(pod);
    for (const template of set.spec?.volumeClaimTemplates ?? []) {
      const claim = this.#claimCache.getByName(set.metadata!.namespace!, claimName(set, template, ordinal));
      if (claim && !isClaimOwnerUpToDate(claim, set, pod)) return false;
    }
    return true;
  }

  /** Gives each existing claim of the pod the references the policy asks for. */
  async updatePodClaimForRetentionPolicy(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = getOrdinal(pod);
    for (const template of set.spec?.volumeClaimTemplates ?? []) {
      const name = claimName(set, template, ordinal);
      const cached = this.#claimCache.getByName(set.metadata!.namespace!, name);
      if (!cached) continue; // picked up on a later sync
      if (hasUnexpectedController(cached, set, pod)) {
        this.#recorder.event(
          set as never,
          "Warning",
          "ConflictingController",
          `PersistentVolumeClaim ${name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim`,
        );
      }
      if (isClaimOwnerUpToDate(cached, set, pod)) continue;
      const claim = clone(cached);
      updateClaimOwnerRefForSetAndPod(claim, set, pod);
      try {
        await this.#claims.update(set.metadata!.namespace!, claim);
      } catch (err) {
        throw new Error(`could not update claim ${name} for delete policy ownerRefs: ${message(err)}`);
      }
    }
  }

  /**
   * Whether, under a Delete-on-scale-down policy, one of the pod's claims still belongs to an
   * earlier pod of the same name (it is waiting for the garbage collector): the pod must wait.
   */
  podClaimIsStale(set: StatefulSet, pod: Pod): boolean {
    if (retentionPolicy(set).whenScaled === "Retain") return false;
    for (const claim of persistentVolumeClaims(set, pod).values()) {
      const existing = this.#claimCache.getByName(claim.metadata!.namespace!, claim.metadata!.name!);
      if (existing && hasStaleOwnerRef(existing, { apiVersion: "v1", kind: "Pod", metadata: pod.metadata })) {
        return true;
      }
    }
    return false;
  }

  /** Creates the claims a pending pod still lacks and sets their references. */
  async createMissingPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    await this.createPersistentVolumeClaims(set, pod);
    try {
      await this.updatePodClaimForRetentionPolicy(set, pod);
    } catch (err) {
      this.#recordPodEvent("update", set, pod, err);
      throw err;
    }
  }

  /** Creates every claim of the pod that does not exist; fails if one is being deleted. */
  async createPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errors: string[] = [];
    for (const claim of persistentVolumeClaims(set, pod).values()) {
      const existing = this.#claimCache.getByName(claim.metadata!.namespace!, claim.metadata!.name!);
      if (existing) {
        if (existing.metadata?.deletionTimestamp) errors.push(`pvc ${claim.metadata!.name} is being deleted`);
        continue;
      }
      try {
        await this.#claims.create(claim.metadata!.namespace!, claim);
        this.#recordClaimEvent("create", set, pod, claim);
      } catch (err) {
        // The cache has not seen it yet: it exists, which is all that is asked.
        if (isStatusError(err, "AlreadyExists")) continue;
        errors.push(`failed to create PVC ${claim.metadata!.name}: ${message(err)}`);
        this.#recordClaimEvent("create", set, pod, claim, err);
      }
    }
    if (errors.length) throw new Error(errors.join(", "));
  }

  #recordPodEvent(verb: string, set: StatefulSet, pod: Pod, err?: unknown): void {
    const name = pod.metadata?.name;
    const setName = set.metadata?.name;
    if (err === undefined) {
      this.#recorder.event(
        set as never,
        "Normal",
        `Successful${title(verb)}`,
        `${verb} Pod ${name} in StatefulSet ${setName} successful`,
      );
    } else {
      this.#recorder.event(
        set as never,
        "Warning",
        `Failed${title(verb)}`,
        `${verb} Pod ${name} in StatefulSet ${setName} failed error: ${message(err)}`,
      );
    }
  }

  #recordClaimEvent(
    verb: string,
    set: StatefulSet,
    pod: Pod,
    claim: PersistentVolumeClaim,
    err?: unknown,
  ): void {
    const c = claim.metadata?.name;
    const p = pod.metadata?.name;
    const s = set.metadata?.name;
    if (err === undefined) {
      this.#recorder.event(
        set as never,
        "Normal",
        `Successful${title(verb)}`,
        `${verb} Claim ${c} Pod ${p} in StatefulSet ${s} success`,
      );
    } else {
      this.#recorder.event(
        set as never,
        "Warning",
        `Failed${title(verb)}`,
        `${verb} Claim ${c} for Pod ${p} in StatefulSet ${s} failed error: ${message(err)}`,
      );
    }
  }
}
