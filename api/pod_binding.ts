/**
 * Binding a pod to a node: `POST pods/{name}/binding` and the older `POST bindings` (the name
 * taken from the Binding). As upstream, the pod is written directly — no strategy, no admission —
 * setting `spec.nodeName`, merging the Binding's annotations and marking the pod PodScheduled.
 * A pod already bound or being deleted is a 409 on `pods/binding`.
 */

import { badRequest, conflict, field, type FieldError, fieldErrorString } from "../machinery/status.ts";
import { type KubeObject, metaOf, rfc3339 } from "../machinery/object_meta.ts";
import type { ResourceStore } from "./registry/resource_store.ts";
import { ReasonlessStatusError } from "./status_errors.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

/** A pod condition as the API server writes one, with `lastProbeTime: null` as Go encodes a zero time. */
export interface PodConditionUpdate {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/**
 * Sets a condition in `status.conditions` as upstream's UpdatePodCondition does: the transition
 * time moves only when the status changes; an existing condition of the type is replaced.
 */
export function setPodCondition(pod: KubeObject, condition: PodConditionUpdate, now: number): void {
  const status = obj(pod.status);
  pod.status = status;
  const conditions = Array.isArray(status.conditions) ? status.conditions as Json[] : [];
  status.conditions = conditions;
  const next: Json = {
    type: condition.type,
    status: condition.status,
    lastProbeTime: null,
    lastTransitionTime: rfc3339(now),
  };
  if (condition.reason) next.reason = condition.reason;
  if (condition.message) next.message = condition.message;
  const i = conditions.findIndex((c) => obj(c).type === condition.type);
  if (i < 0) {
    conditions.push(next);
    return;
  }
  const old = obj(conditions[i]);
  if (old.status === condition.status && old.lastTransitionTime !== undefined) {
    next.lastTransitionTime = old.lastTransitionTime;
  }
  conditions[i] = next;
}

/** What upstream's ValidatePodBinding checks. */
function validateBinding(binding: KubeObject): FieldError[] {
  const target = obj(binding.target);
  const errors: FieldError[] = [];
  const kind = typeof target.kind === "string" ? target.kind : "";
  if (kind !== "" && kind !== "Node") {
    errors.push(field.notSupported("target.kind", kind, ["Node", "<empty>"]));
  }
  if (typeof target.name !== "string" || target.name === "") errors.push(field.required("target.name"));
  return errors;
}

export interface BindOptions {
  dryRun?: boolean;
  /** The pod name of `pods/{name}/binding`; undefined for the `bindings` resource. */
  urlName?: string;
  now?: () => number;
}

/**
 * Binds the pod the Binding names in `namespace` to its target node. The Binding's uid and
 * resourceVersion, when set, are preconditions on the pod.
 */
export async function bindPod(
  pods: ResourceStore,
  namespace: string,
  binding: KubeObject,
  options: BindOptions = {},
): Promise<void> {
  pods.checkTypeMeta(binding, { kind: "Binding", apiVersion: "v1" });
  const meta = metaOf(binding);
  if (meta.namespace && meta.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  const name = options.urlName ?? meta.name ?? "";
  if ((meta.name ?? "") !== name) throw badRequest("name in URL does not match name in Binding object");
  const errors = validateBinding(binding);
  if (errors.length) {
    // Upstream returns the aggregated field errors as a plain error: 500 without a reason.
    const strings = errors.map(fieldErrorString);
    throw new ReasonlessStatusError(500, strings.length === 1 ? strings[0] : `[${strings.join(", ")}]`);
  }
  if (!name) throw badRequest("Name parameter required.");
  const nodeName = obj(binding.target).name as string;
  const annotations = meta.annotations ?? {};
  const now = options.now ?? Date.now;
  const bindingResource = { group: "", resource: "pods/binding" };
  await pods.directUpdate(namespace, name, (pod) => {
    const podMeta = metaOf(pod);
    const spec = obj(pod.spec);
    if (podMeta.deletionTimestamp) {
      throw conflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    }
    if (typeof spec.nodeName === "string" && spec.nodeName !== "") {
      throw conflict(
        bindingResource,
        name,
        `pod ${name} is already assigned to node ${JSON.stringify(spec.nodeName)}`,
      );
    }
    if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0) {
      throw conflict(bindingResource, name, `pod ${name} has non-empty .spec.schedulingGates`);
    }
    pod.spec = { ...spec, nodeName };
    if (Object.keys(annotations).length) podMeta.annotations = { ...podMeta.annotations, ...annotations };
    setPodCondition(pod, { type: "PodScheduled", status: "True" }, now());
    return pod;
  }, {
    dryRun: options.dryRun,
    preconditions: { uid: meta.uid || undefined, resourceVersion: meta.resourceVersion || undefined },
  });
}
