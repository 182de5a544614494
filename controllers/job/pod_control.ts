/**
 * The Job controller's writes to pods, with the events upstream's pod control records:
 * SuccessfulCreate "Created pod: x" / FailedCreate "Error creating: …", SuccessfulDelete
 * "Deleted pod: x" / FailedDelete "Error deleting: …"; removing the tracking finalizer; and
 * adopting (owner reference plus finalizer) or releasing pods.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { EventRecorder } from "../framework/events.ts";
import { ownerRefTo, podFromTemplate } from "../pods.ts";
import type { Job, OwnerReference, Pod, PodTemplateSpec } from "../types.ts";
import { JOB_TRACKING_FINALIZER, removeTrackingFinalizerPatch } from "./tracking.ts";

/** The reference a Job puts on its pods. */
export function jobOwnerRef(job: Job): OwnerReference {
  return ownerRefTo({ ...job, apiVersion: "batch/v1", kind: "Job" });
}

/** The creation failed because the namespace is being deleted: not worth an event. */
export function isNamespaceTerminating(err: unknown): boolean {
  return isStatusError(err) && err.message.includes("because it is being terminated");
}

function isGoneOrChanged(err: unknown): boolean {
  return isStatusError(err, "NotFound") || isStatusError(err, "Invalid") || isStatusError(err, "Conflict");
}

export class JobPodControl {
  readonly #pods: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;

  constructor(pods: ResourceClient<Pod>, recorder: EventRecorder) {
    this.#pods = pods;
    this.#recorder = recorder;
  }

  /** Creates a pod of `job` from `template`, named `generateName` plus a random suffix. */
  async create(job: Job, template: PodTemplateSpec, generateName: string): Promise<Pod> {
    const namespace = job.metadata!.namespace!;
    try {
      const made = await this.#pods.create(
        namespace,
        podFromTemplate(template, namespace, generateName, jobOwnerRef(job)),
      );
      this.#recorder.event(job, "Normal", "SuccessfulCreate", `Created pod: ${made.metadata?.name}`);
      return made;
    } catch (err) {
      if (!isNamespaceTerminating(err)) {
        this.#recorder.event(job, "Warning", "FailedCreate", `Error creating: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  /** Deletes a pod of `job` (keeping its finalizers). */
  async delete(job: Job, pod: Pod): Promise<void> {
    try {
      await this.#pods.delete(pod.metadata!.namespace!, pod.metadata!.name!);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) {
        this.#recorder.event(job, "Warning", "FailedDelete", `Error deleting: ${(err as Error).message}`);
      }
      throw err;
    }
    this.#recorder.event(job, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata?.name}`);
  }

  /** Removes the tracking finalizer, if the pod has it. */
  async removeFinalizer(pod: Pod): Promise<void> {
    const patch = removeTrackingFinalizerPatch(pod);
    if (patch) await this.#pods.patch(pod.metadata!.namespace!, pod.metadata!.name!, "strategic", patch);
  }

  /** Makes `job` the pod's controller and adds the tracking finalizer; undefined if the pod changed or went. */
  async adopt(job: Job, pod: Pod): Promise<Pod | undefined> {
    try {
      return await this.#pods.patch(pod.metadata!.namespace!, pod.metadata!.name!, "strategic", {
        metadata: {
          ownerReferences: [jobOwnerRef(job)],
          uid: pod.metadata!.uid,
          finalizers: [JOB_TRACKING_FINALIZER],
        },
      });
    } catch (err) {
      if (isGoneOrChanged(err)) return undefined;
      throw err;
    }
  }

  /** Removes `job`'s owner reference from a pod that no longer matches its selector. */
  async release(job: Job, pod: Pod): Promise<void> {
    try {
      await this.#pods.patch(pod.metadata!.namespace!, pod.metadata!.name!, "strategic", {
        metadata: { ownerReferences: [{ $patch: "delete", uid: job.metadata!.uid }], uid: pod.metadata!.uid },
      });
    } catch (err) {
      if (!isGoneOrChanged(err)) throw err;
    }
  }
}
