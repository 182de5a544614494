/**
 * The local dynamic provisioner behind the `local-path` StorageClass, working as upstream's
 * external provisioners do: once the binder has annotated a claim for `kubedeno.io/local-path`
 * and — the class being WaitForFirstConsumer — the scheduler has chosen its node
 * (`volume.kubernetes.io/selected-node`), it creates PersistentVolume `pvc-<claim uid>` at
 * `<baseDir>/<claim uid>` on that node (node affinity on `kubernetes.io/hostname`), pre-bound
 * to the claim; the binder completes the binding. A released volume of its own with the Delete
 * policy is deleted. Making and removing the directory is the node's job; this only names it.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import type { ObjectMeta } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass } from "../types.ts";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_DEFAULT_CLASS,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
} from "./matching.ts";

export const LOCAL_PROVISIONER = "kubedeno.io/local-path";

/** The default StorageClass the lead creates at startup. */
export const LOCAL_STORAGE_CLASS: StorageClass = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name: "local-path", annotations: { [ANN_DEFAULT_CLASS]: "true" } },
  provisioner: LOCAL_PROVISIONER,
  reclaimPolicy: "Delete",
  volumeBindingMode: "WaitForFirstConsumer",
};

export interface LocalVolumeProvisionerOptions {
  /** Where volumes live on the nodes: `<baseDir>/<claim uid>`. */
  baseDir: string;
  /** The provisioner name classes refer to (default `kubedeno.io/local-path`). */
  provisionerName?: string;
  /** `hostPath` (type DirectoryOrCreate, the default) or `local` volumes. */
  volumeType?: "hostPath" | "local";
}

export function newLocalVolumeProvisioner(options: LocalVolumeProvisionerOptions) {
  return (ctx: ControllerContext): Runnable => new LocalVolumeProvisioner(ctx, options);
}

const CLAIM = "claim:";
const VOLUME = "volume:";
const HOSTNAME_LABEL = "kubernetes.io/hostname";

class LocalVolumeProvisioner implements Runnable {
  readonly name = "local-volume-provisioner";
  readonly #baseDir: string;
  readonly #provisioner: string;
  readonly #volumeType: "hostPath" | "local";
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #classes: Informer<StorageClass>;
  readonly #nodes: Informer<Node>;
  readonly #volumeApi: ResourceClient<PersistentVolume>;
  readonly #recorder: EventRecorder;
  readonly #controller: Controller;

  constructor(ctx: ControllerContext, options: LocalVolumeProvisionerOptions) {
    this.#baseDir = options.baseDir.replace(/\/+$/, "");
    this.#provisioner = options.provisionerName ?? LOCAL_PROVISIONER;
    this.#volumeType = options.volumeType ?? "hostPath";
    this.#claims = ctx.informers.informer<PersistentVolumeClaim>("", "persistentvolumeclaims");
    this.#volumes = ctx.informers.informer<PersistentVolume>("", "persistentvolumes");
    this.#classes = ctx.informers.informer<StorageClass>("storage.k8s.io", "storageclasses");
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#volumeApi = ctx.client.resource<PersistentVolume>("", "persistentvolumes");
    this.#recorder = ctx.events.recorder(this.#provisioner);
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) =>
        key.startsWith(CLAIM)
          ? this.#syncClaim(key.slice(CLAIM.length))
          : this.#syncVolume(key.slice(VOLUME.length)),
    });
    const claim = (c: PersistentVolumeClaim) => this.#controller.enqueue(CLAIM + keyOf(c));
    const volume = (v: PersistentVolume) => this.#controller.enqueue(VOLUME + keyOf(v));
    this.#claims.addEventHandler({ add: claim, update: (_, c) => claim(c) });
    this.#volumes.addEventHandler({ add: volume, update: (_, v) => volume(v) });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  /** The class of a claim this provisioner should provision now; undefined otherwise. */
  #classToProvision(claim: PersistentVolumeClaim): StorageClass | undefined {
    if (claim.spec?.volumeName || claim.metadata?.deletionTimestamp) return undefined;
    const annotations = claim.metadata?.annotations ?? {};
    const asked = annotations[ANN_STORAGE_PROVISIONER] ?? annotations[ANN_BETA_STORAGE_PROVISIONER];
    if (asked !== this.#provisioner) return undefined;
    const cls = this.#classes.cache.get(claimClass(claim));
    if (!cls || cls.provisioner !== this.#provisioner) return undefined;
    if (cls.volumeBindingMode === "WaitForFirstConsumer" && !annotations[ANN_SELECTED_NODE]) return undefined;
    return cls;
  }

  async #syncClaim(key: string): Promise<void> {
    const claim = this.#claims.cache.get(key);
    if (!claim) return;
    const cls = this.#classToProvision(claim);
    if (!cls) return;
    const pvName = `pvc-${claim.metadata?.uid}`;
    if (this.#volumes.cache.get(pvName)) return;
    const claimRef = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: claim.metadata };
    this.#recorder.event(
      claimRef,
      "Normal",
      "Provisioning",
      `External provisioner is provisioning volume for claim "${key}"`,
    );
    let volume: PersistentVolume;
    try {
      volume = this.#volumeFor(claim, cls, pvName);
    } catch (err) {
      this.#recorder.event(claimRef, "Warning", "ProvisioningFailed", (err as Error).message);
      return;
    }
    try {
      await this.#volumeApi.create("", volume);
    } catch (err) {
      if (isStatusError(err, "AlreadyExists")) return;
      this.#recorder.event(
        claimRef,
        "Warning",
        "ProvisioningFailed",
        `failed to provision volume with StorageClass "${cls.metadata?.name}": ${(err as Error).message}`,
      );
      throw err;
    }
    this.#recorder.event(
      claimRef,
      "Normal",
      "ProvisioningSucceeded",
      `Successfully provisioned volume ${pvName}`,
    );
  }

  /** The volume for `claim`: on its selected node, at `<baseDir>/<uid>`, pre-bound to it. */
  #volumeFor(claim: PersistentVolumeClaim, cls: StorageClass, name: string): PersistentVolume {
    const nodeName = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (!nodeName) throw new Error("claim has no selected node; local volumes need one");
    const node = this.#nodes.cache.get(nodeName);
    if (!node) throw new Error(`failed to get target node: nodes "${nodeName}" not found`);
    const hostname = node.metadata?.labels?.[HOSTNAME_LABEL] ?? nodeName;
    const storage = (claim.spec?.resources?.requests as Record<string, string> | undefined)?.storage;
    if (!storage) throw new Error("claim Storage not specified");
    const path = `${this.#baseDir}/${claim.metadata?.uid}`;
    const source = this.#volumeType === "local"
      ? { local: { path } }
      : { hostPath: { path, type: "DirectoryOrCreate" } };
    const meta: ObjectMeta = { name, annotations: { [ANN_DYNAMICALLY_PROVISIONED]: this.#provisioner } };
    return {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: meta as PersistentVolume["metadata"],
      spec: {
        ...source,
        capacity: { storage },
        accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
        volumeMode: claim.spec?.volumeMode ?? "Filesystem",
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? "Delete",
        storageClassName: cls.metadata?.name,
        ...(cls.mountOptions?.length ? { mountOptions: cls.mountOptions } : {}),
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: claim.metadata?.namespace,
          name: claim.metadata?.name,
          uid: claim.metadata?.uid,
          resourceVersion: claim.metadata?.resourceVersion,
        },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [{
              matchExpressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [hostname] }],
            }],
          },
        },
      },
    };
  }

  /** Deletes its own released volumes whose policy is Delete. */
  async #syncVolume(name: string): Promise<void> {
    const volume = this.#volumes.cache.get(name);
    if (!volume || volume.metadata?.deletionTimestamp) return;
    if (volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== this.#provisioner) return;
    if (volume.status?.phase !== "Released" || volume.spec?.persistentVolumeReclaimPolicy !== "Delete") {
      return;
    }
    try {
      await this.#volumeApi.delete("", name, { preconditions: { uid: volume.metadata?.uid } });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }
}
