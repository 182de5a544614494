/**
 * The PersistentVolume binder (upstream's persistentvolume-controller): binds each unbound
 * claim to the smallest Available volume that fits it — or to the volume it names, or that is
 * pre-bound to it — writing `claimRef` (with the claim's uid) on the volume, `volumeName` and
 * the bind-completed / bound-by-controller annotations on the claim, and the phases (volumes
 * Available / Bound / Released / Failed, claims Pending / Bound / Lost) with the claim's
 * capacity and access modes. Claims of a WaitForFirstConsumer class wait for the scheduler's
 * selected-node annotation; claims of a class with an external provisioner are annotated for
 * it and wait for its volume. When a claim goes, its volume is Released and its reclaim policy
 * applied: Retain keeps it, Delete leaves it to the provisioner that made it.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual, type ObjectMeta, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "../types.ts";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  claimHasClass,
  defaultClass,
  findBestMatchForClaim,
  isVolumeBoundToClaim,
  volumeMismatch,
} from "./matching.ts";

export interface PersistentVolumeBinderOptions {
  /** How often every claim and volume is looked at again (upstream: 15 s). */
  resyncPeriodMs?: number;
}

export function newPersistentVolumeBinder(options: PersistentVolumeBinderOptions = {}) {
  return (ctx: ControllerContext): Runnable => new PersistentVolumeBinder(ctx, options);
}

/** A claim's key for each pod that uses it (volumes and generic ephemeral volumes). */
const byClaim = (pod: Pod): string[] =>
  (pod.spec?.volumes ?? []).flatMap((v) => {
    const ns = pod.metadata?.namespace ?? "";
    if (v.persistentVolumeClaim?.claimName) return [`${ns}/${v.persistentVolumeClaim.claimName}`];
    if (v.ephemeral) return [`${ns}/${pod.metadata?.name}-${v.name}`];
    return [];
  });

type VolumeMeta = NonNullable<PersistentVolume["metadata"]>;
type VolumePhase = "Pending" | "Available" | "Bound" | "Released" | "Failed";
type ClaimPhase = "Pending" | "Bound" | "Lost";

class PersistentVolumeBinder implements Runnable {
  readonly name = "persistentvolume-binder";
  readonly #resyncMs: number;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #classes: Informer<StorageClass>;
  readonly #pods: Informer<Pod>;
  readonly #volumeApi: ResourceClient<PersistentVolume>;
  readonly #claimApi: ResourceClient<PersistentVolumeClaim>;
  readonly #recorder: EventRecorder;
  readonly #claimQueue: Controller;
  readonly #volumeQueue: Controller;
  /** Claims the server would not give a default class (its validation refused the update). */
  readonly #noDefaultClass = new Set<string>();
  #timer?: ReturnType<typeof setInterval>;

  constructor(ctx: ControllerContext, options: PersistentVolumeBinderOptions) {
    this.#resyncMs = options.resyncPeriodMs ?? 15_000;
    this.#volumes = ctx.informers.informer<PersistentVolume>("", "persistentvolumes");
    this.#claims = ctx.informers.informer<PersistentVolumeClaim>("", "persistentvolumeclaims");
    this.#classes = ctx.informers.informer<StorageClass>("storage.k8s.io", "storageclasses");
    this.#pods = ctx.informers.informer<Pod>("", "pods", { indexers: { persistentVolumeClaims: byClaim } });
    this.#volumeApi = ctx.client.resource<PersistentVolume>("", "persistentvolumes");
    this.#claimApi = ctx.client.resource<PersistentVolumeClaim>("", "persistentvolumeclaims");
    this.#recorder = ctx.events.recorder("persistentvolume-controller");
    this.#claimQueue = new Controller({
      name: "persistentvolume-binder-claims",
      workers: ctx.options.workers,
      reconcile: (key) => this.#syncClaimKey(key),
    });
    this.#volumeQueue = new Controller({
      name: "persistentvolume-binder-volumes",
      workers: ctx.options.workers,
      reconcile: (key) => this.#syncVolumeKey(key),
    });
    const enqueueVolume = (v: PersistentVolume) => this.#volumeQueue.enqueue(keyOf(v));
    const enqueueClaim = (c: PersistentVolumeClaim) => this.#claimQueue.enqueue(keyOf(c));
    this.#volumes.addEventHandler({
      add: enqueueVolume,
      update: (_, v) => enqueueVolume(v),
      delete: (v) => {
        const ref = v.spec?.claimRef;
        if (ref?.name) this.#claimQueue.enqueue(`${ref.namespace}/${ref.name}`);
      },
    });
    this.#claims.addEventHandler({
      add: enqueueClaim,
      update: (_, c) => enqueueClaim(c),
      delete: (c) => {
        if (c.spec?.volumeName) this.#volumeQueue.enqueue(c.spec.volumeName);
      },
    });
  }

  run(): void {
    this.#claimQueue.run();
    this.#volumeQueue.run();
    this.#timer = setInterval(() => {
      for (const v of this.#volumes.cache.list()) this.#volumeQueue.enqueue(keyOf(v));
      for (const c of this.#claims.cache.list()) this.#claimQueue.enqueue(keyOf(c));
    }, this.#resyncMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([this.#claimQueue.stop(), this.#volumeQueue.stop()]);
  }

  // ---- claims ----

  async #syncClaimKey(key: string): Promise<void> {
    const claim = this.#claims.cache.get(key);
    if (!claim) return;
    if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.#syncUnboundClaim(claim);
    else await this.#syncBoundClaim(claim);
  }

  async #syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) {
      const delayBinding = this.#isDelayBinding(claim);
      const volume = findBestMatchForClaim(claim, this.#volumes.cache.list(), delayBinding);
      if (volume) {
        await this.#bind(volume, claim);
        return;
      }
      if (await this.#assignDefaultClass(claim)) return; // the update brings the claim back
      if (delayBinding && claim.metadata?.annotations?.[ANN_SELECTED_NODE] === undefined) {
        this.#emitWaitingForConsumer(claim);
      } else if (claimClass(claim) !== "") {
        await this.#provisionClaim(claim);
        return;
      } else {
        this.#recorder.event(
          ref(claim, "PersistentVolumeClaim"),
          "Normal",
          "FailedBinding",
          "no persistent volumes available for this claim and no storage class is set",
        );
      }
      await this.#updateClaimStatus(claim, "Pending");
      return;
    }
    // The user asked for a particular volume.
    const volume = this.#volumes.cache.get(volumeName);
    if (!volume) {
      await this.#updateClaimStatus(claim, "Pending");
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = volumeMismatch(volume, claim);
      if (why) {
        this.#recorder.event(
          ref(claim, "PersistentVolumeClaim"),
          "Warning",
          "VolumeMismatch",
          `Cannot bind to requested volume "${volumeName}": ${why}`,
        );
        await this.#updateClaimStatus(claim, "Pending");
      } else await this.#bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) {
      await this.#bind(volume, claim);
      return;
    }
    this.#recorder.event(
      ref(claim, "PersistentVolumeClaim"),
      "Warning",
      "FailedBinding",
      `volume "${volumeName}" already bound to a different claim.`,
    );
    if (claim.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      const r = volume.spec.claimRef;
      throw new Error(
        `invalid binding of claim "${
          keyOf(claim)
        }" to volume "${volumeName}": volume already claimed by "${r.namespace}/${r.name}"`,
      );
    }
    await this.#updateClaimStatus(claim, "Pending");
  }

  async #syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) {
      await this.#claimLost(
        claim,
        "ClaimLost",
        "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
      );
      return;
    }
    const volume = this.#volumes.cache.get(volumeName);
    if (!volume) {
      await this.#claimLost(
        claim,
        "ClaimLost",
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
      );
      return;
    }
    if (!volume.spec?.claimRef || volume.spec.claimRef.uid === claim.metadata?.uid) {
      await this.#bind(volume, claim);
      return;
    }
    await this.#claimLost(
      claim,
      "ClaimMisbound",
      "Two claims are bound to the same volume, this one is bound incorrectly",
    );
  }

  async #claimLost(claim: PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === "Lost") return;
    const updated = await this.#updateClaimStatus(claim, "Lost");
    this.#recorder.event(ref(updated, "PersistentVolumeClaim"), "Warning", reason, message);
  }

  #isDelayBinding(claim: PersistentVolumeClaim): boolean {
    const name = claimClass(claim);
    if (!name) return false;
    const cls = this.#classes.cache.get(name);
    return cls?.volumeBindingMode === "WaitForFirstConsumer";
  }

  /** WaitForFirstConsumer, or WaitForPodScheduled when pods using the claim are not scheduled yet. */
  #emitWaitingForConsumer(claim: PersistentVolumeClaim): void {
    const waiting = this.#pods.cache.byIndex("persistentVolumeClaims", keyOf(claim))
      .filter((p) => !p.spec?.nodeName && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed")
      .map((p) => p.metadata?.name ?? "");
    let reason = "WaitForFirstConsumer";
    let message = "waiting for first consumer to be created before binding";
    if (waiting.length > 0) {
      reason = "WaitForPodScheduled";
      message = waiting.length > 1
        ? `waiting for pods ${waiting.join(",")} to be scheduled`
        : `waiting for pod ${waiting[0]} to be scheduled`;
    }
    this.#recorder.event(ref(claim, "PersistentVolumeClaim"), "Normal", reason, message);
  }

  /** Gives a claim without a class the default one; true when the claim was updated. */
  async #assignDefaultClass(claim: PersistentVolumeClaim): Promise<boolean> {
    if (claimHasClass(claim) || this.#noDefaultClass.has(claim.metadata?.uid ?? "")) return false;
    const cls = defaultClass(this.#classes.cache.list());
    if (!cls) return false;
    try {
      await this.#claimApi.update(claim.metadata!.namespace!, {
        ...claim,
        spec: { ...claim.spec, storageClassName: cls.metadata!.name! },
      });
      return true;
    } catch (err) {
      if (!isStatusError(err, "Invalid")) throw err;
      this.#noDefaultClass.add(claim.metadata?.uid ?? "");
      return false;
    }
  }

  /** Annotates the claim for its class's provisioner and says it is waiting for it. */
  async #provisionClaim(claim: PersistentVolumeClaim): Promise<void> {
    const name = claimClass(claim);
    const cls = this.#classes.cache.get(name);
    const claimRef = ref(claim, "PersistentVolumeClaim");
    if (!cls) {
      this.#recorder.event(
        claimRef,
        "Warning",
        "ProvisioningFailed",
        `storageclass.storage.k8s.io "${name}" not found`,
      );
      return;
    }
    const provisioner = cls.provisioner;
    // No in-tree volume plugins here: a kubernetes.io/ provisioner is one nobody runs.
    if (provisioner.startsWith("kubernetes.io/")) {
      this.#recorder.event(
        claimRef,
        "Warning",
        "ProvisioningFailed",
        `no volume plugin matched name: ${provisioner}`,
      );
      return;
    }
    const annotations = claim.metadata?.annotations ?? {};
    let current = claim;
    if (
      annotations[ANN_STORAGE_PROVISIONER] !== provisioner ||
      annotations[ANN_BETA_STORAGE_PROVISIONER] !== provisioner
    ) {
      try {
        current = await this.#claimApi.update(claim.metadata!.namespace!, {
          ...claim,
          metadata: {
            ...claim.metadata,
            annotations: {
              ...annotations,
              [ANN_STORAGE_PROVISIONER]: provisioner,
              [ANN_BETA_STORAGE_PROVISIONER]: provisioner,
            },
          },
        });
      } catch (err) {
        this.#recorder.event(
          claimRef,
          "Warning",
          "ProvisioningFailed",
          `Error saving claim: ${(err as Error).message}`,
        );
        throw err;
      }
    }
    this.#recorder.event(
      ref(current, "PersistentVolumeClaim"),
      "Normal",
      "ExternalProvisioning",
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  // ---- binding ----

  /** Saves the binding on both sides, volume first, and marks both Bound. */
  async #bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    volume = await this.#bindVolumeToClaim(volume, claim);
    volume = await this.#updateVolumePhase(volume, "Bound");
    claim = await this.#bindClaimToVolume(claim, volume);
    await this.#updateClaimStatus(claim, "Bound", volume);
  }

  async #bindVolumeToClaim(
    volume: PersistentVolume,
    claim: PersistentVolumeClaim,
  ): Promise<PersistentVolume> {
    const setByController = !isVolumeBoundToClaim(volume, claim);
    const r = volume.spec?.claimRef;
    const meta: VolumeMeta = { ...volume.metadata };
    const spec = { ...volume.spec };
    let dirty = false;
    if (
      !r || r.name !== claim.metadata?.name || r.namespace !== claim.metadata?.namespace ||
      r.uid !== claim.metadata?.uid
    ) {
      spec.claimRef = {
        kind: "PersistentVolumeClaim",
        namespace: claim.metadata?.namespace,
        name: claim.metadata?.name,
        uid: claim.metadata?.uid,
        apiVersion: "v1",
        resourceVersion: claim.metadata?.resourceVersion,
      };
      dirty = true;
    }
    if (setByController && meta.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) {
      meta.annotations = { ...meta.annotations, [ANN_BOUND_BY_CONTROLLER]: "yes" };
      dirty = true;
    }
    if (!dirty) return volume;
    return await this.#volumeApi.update("", { ...volume, metadata: meta, spec });
  }

  async #bindClaimToVolume(
    claim: PersistentVolumeClaim,
    volume: PersistentVolume,
  ): Promise<PersistentVolumeClaim> {
    const annotations = { ...claim.metadata?.annotations };
    const spec = { ...claim.spec };
    let dirty = false;
    if (spec.volumeName !== volume.metadata?.name) {
      spec.volumeName = volume.metadata?.name;
      if (annotations[ANN_BOUND_BY_CONTROLLER] === undefined) annotations[ANN_BOUND_BY_CONTROLLER] = "yes";
      dirty = true;
    }
    if (annotations[ANN_BIND_COMPLETED] === undefined) {
      annotations[ANN_BIND_COMPLETED] = "yes";
      dirty = true;
    }
    if (!dirty) return claim;
    return await this.#claimApi.update(claim.metadata!.namespace!, {
      ...claim,
      metadata: { ...claim.metadata, annotations },
      spec,
    });
  }

  /** Sets the claim's phase; a volume sets its capacity and access modes too (none clears them). */
  async #updateClaimStatus(
    claim: PersistentVolumeClaim,
    phase: ClaimPhase,
    volume?: PersistentVolume,
  ): Promise<PersistentVolumeClaim> {
    const status = { ...claim.status };
    let dirty = false;
    if (status.phase !== phase) {
      status.phase = phase;
      dirty = true;
    }
    if (!volume) {
      if (status.accessModes !== undefined || status.capacity !== undefined) dirty = true;
      delete status.accessModes;
      delete status.capacity;
    } else {
      if (!jsonEqual(status.accessModes, volume.spec?.accessModes)) {
        status.accessModes = volume.spec?.accessModes;
        dirty = true;
      }
      // Capacity follows the volume when the claim becomes Bound, not after (resizes differ on purpose).
      if (claim.status?.phase !== phase) {
        const capacity = volume.spec?.capacity as Record<string, string> | undefined;
        if (!capacity?.storage) {
          throw new Error(`PersistentVolume "${volume.metadata?.name}" is without a storage capacity`);
        }
        if ((status.capacity as Record<string, string> | undefined)?.storage !== capacity.storage) {
          status.capacity = capacity;
          dirty = true;
        }
      }
    }
    if (!dirty) return claim;
    return await this.#claimApi.updateStatus(claim.metadata!.namespace!, { ...claim, status });
  }

  async #updateVolumePhase(
    volume: PersistentVolume,
    phase: VolumePhase,
    message = "",
  ): Promise<PersistentVolume> {
    if (volume.status?.phase === phase) return volume;
    const status = { ...volume.status, phase, lastPhaseTransitionTime: rfc3339() };
    if (message) status.message = message;
    else delete status.message;
    return await this.#volumeApi.updateStatus("", { ...volume, status });
  }

  async #updateVolumePhaseWithEvent(
    volume: PersistentVolume,
    phase: VolumePhase,
    reason: string,
    message: string,
  ): Promise<void> {
    if (volume.status?.phase === phase) return;
    const updated = await this.#updateVolumePhase(volume, phase, message);
    this.#recorder.event(ref(updated, "PersistentVolume"), "Warning", reason, message);
  }

  // ---- volumes ----

  async #syncVolumeKey(name: string): Promise<void> {
    const volume = this.#volumes.cache.get(name);
    if (volume) await this.#syncVolume(volume);
  }

  async #syncVolume(volume: PersistentVolume): Promise<void> {
    const claimRef = volume.spec?.claimRef;
    if (!claimRef || !claimRef.uid) {
      // Unused, or reserved for a claim that has not bound yet.
      await this.#updateVolumePhase(volume, "Available");
      return;
    }
    const claimKey = `${claimRef.namespace}/${claimRef.name}`;
    let claim = this.#claims.cache.get(claimKey);
    if (!claim && volume.status?.phase !== "Released" && volume.status?.phase !== "Failed") {
      // Made moments ago by a provisioner, perhaps: ask the server before releasing anything.
      claim = await this.#claimApi.get(claimRef.namespace!, claimRef.name!).catch((err) => {
        if (isStatusError(err, "NotFound")) return undefined;
        throw err;
      });
    }
    if (claim && claim.metadata?.uid !== claimRef.uid) {
      claim = await this.#claimApi.get(claimRef.namespace!, claimRef.name!).catch((err) => {
        if (isStatusError(err, "NotFound")) return undefined;
        throw err;
      });
      if (claim && claim.metadata?.uid !== claimRef.uid) claim = undefined;
    }
    if (!claim) {
      if (volume.status?.phase !== "Released" && volume.status?.phase !== "Failed") {
        volume = await this.#updateVolumePhase(volume, "Released");
      }
      await this.#reclaimVolume(volume);
      return;
    }
    const boundTo = claim.spec?.volumeName;
    if (!boundTo) {
      // Bound on our side only: the claim's sync finishes it.
      this.#claimQueue.enqueue(claimKey);
      return;
    }
    if (boundTo === volume.metadata?.name) {
      await this.#updateVolumePhase(volume, "Bound");
      return;
    }
    // The claim went to another volume.
    const annotations = volume.metadata?.annotations ?? {};
    if (
      annotations[ANN_DYNAMICALLY_PROVISIONED] !== undefined &&
      volume.spec?.persistentVolumeReclaimPolicy === "Delete"
    ) {
      if (volume.status?.phase !== "Released" && volume.status?.phase !== "Failed") {
        volume = await this.#updateVolumePhase(volume, "Released");
      }
      await this.#reclaimVolume(volume);
      return;
    }
    await this.#unbindVolume(volume);
  }

  /** Undoes a binding: the controller's entirely, a user's pre-binding down to the claim's name. */
  async #unbindVolume(volume: PersistentVolume): Promise<void> {
    const meta: VolumeMeta = { ...volume.metadata };
    const spec = { ...volume.spec };
    if (meta.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      delete spec.claimRef;
      const { [ANN_BOUND_BY_CONTROLLER]: _, ...rest } = meta.annotations;
      meta.annotations = Object.keys(rest).length ? rest : undefined;
    } else if (spec.claimRef) {
      spec.claimRef = { ...spec.claimRef, uid: undefined };
    }
    const updated = await this.#volumeApi.update("", { ...volume, metadata: meta, spec });
    await this.#updateVolumePhase(updated, "Available");
  }

  /** Applies the reclaim policy of a released volume. */
  async #reclaimVolume(volume: PersistentVolume): Promise<void> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? "Retain";
    switch (policy) {
      case "Retain":
        return;
      case "Delete": {
        const provisionedBy = volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED];
        // An external provisioner (or a CSI driver) deletes its own volumes.
        if ((provisionedBy && !provisionedBy.startsWith("kubernetes.io/")) || volume.spec?.csi) return;
        await this.#updateVolumePhaseWithEvent(
          volume,
          "Failed",
          "VolumeFailedDelete",
          `error getting deleter volume plugin for volume "${volume.metadata?.name}": no deletable volume plugin matched`,
        );
        return;
      }
      case "Recycle":
        await this.#updateVolumePhaseWithEvent(
          volume,
          "Failed",
          "VolumeFailedRecycle",
          "No recycler plugin found for the volume!",
        );
        return;
      default:
        await this.#updateVolumePhaseWithEvent(
          volume,
          "Failed",
          "VolumeUnknownReclaimPolicy",
          "Volume has unrecognized PersistentVolumeReclaimPolicy",
        );
    }
  }
}

/** The object an event is about. */
function ref(obj: { metadata?: ObjectMeta }, kind: string) {
  return { apiVersion: "v1", kind, metadata: obj.metadata };
}
