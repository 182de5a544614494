/**
 * The `scale` subresource of deployments, replicasets, statefulsets and
 * replicationcontrollers: an autoscaling/v1 Scale view of the parent, whose writes change only
 * the parent's `spec.replicas`.
 */

import { badRequest, conflict, field, invalid } from "../machinery/status.ts";
import { type KubeObject, metaOf } from "../machinery/object_meta.ts";
import {
  type LabelSelectorObject,
  labelSelectorString,
  selectorFromLabelSelector,
} from "../machinery/labels.ts";
import type { ResourceStore, WriteOptions } from "./registry/resource_store.ts";
import type { Schema } from "../openapi/generated/types.ts";

type Scale = Schema<"io.k8s.api.autoscaling.v1.Scale">;

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

/** The selector of a parent as the Scale's `status.selector` string. */
function selectorString(parent: KubeObject, resource: string): string {
  const selector = obj(parent.spec).selector;
  if (resource === "replicationcontrollers") {
    return Object.entries(obj(selector)).map(([k, v]) => `${k}=${v}`).sort().join(",");
  }
  try {
    const parsed = selectorFromLabelSelector(selector as LabelSelectorObject | undefined);
    return parsed ? labelSelectorString(parsed) : "";
  } catch {
    return "";
  }
}

/** The Scale of a parent object. */
export function scaleOf(parent: KubeObject, resource: string): KubeObject {
  const meta = metaOf(parent);
  const metadata: Json = { name: meta.name };
  if (meta.namespace) metadata.namespace = meta.namespace;
  metadata.uid = meta.uid;
  metadata.resourceVersion = meta.resourceVersion;
  metadata.creationTimestamp = meta.creationTimestamp;
  const replicas = obj(parent.spec).replicas;
  const status: Json = {
    replicas: typeof obj(parent.status).replicas === "number" ? obj(parent.status).replicas : 0,
  };
  const selector = selectorString(parent, resource);
  if (selector) status.selector = selector;
  const scale: Scale = {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata,
    spec: typeof replicas === "number" ? { replicas } : {},
    status: status as Scale["status"],
  };
  return scale as KubeObject;
}

/** Reads the Scale of `name`. */
export async function getScale(store: ResourceStore, namespace: string, name: string): Promise<KubeObject> {
  return scaleOf(await store.get(namespace, name), store.info.resource);
}

/**
 * Changes the parent's replicas to what `change` makes of its current Scale. A Scale carrying a
 * resourceVersion must match the parent's. Returns the new Scale.
 */
export async function writeScale(
  store: ResourceStore,
  namespace: string,
  name: string,
  change: (scale: KubeObject) => KubeObject,
  options: WriteOptions,
): Promise<KubeObject> {
  const { object: parent } = await store.patch(namespace, name, (stored) => {
    const current = stored!;
    const wanted = change(scaleOf(current, store.info.resource));
    if (wanted === null || typeof wanted !== "object" || Array.isArray(wanted)) {
      throw badRequest("the patch produced an object that is not a JSON object");
    }
    const meta = metaOf(wanted);
    const rv = meta.resourceVersion;
    if (rv && rv !== metaOf(current).resourceVersion) {
      throw conflict({ group: store.info.group, resource: store.info.resource }, name);
    }
    // Scale's count is a plain integer upstream: absent means 0.
    const replicas = obj(wanted.spec).replicas ?? 0;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid("autoscaling", "Scale", name, [
        field.invalid("spec.replicas", replicas, "must be greater than or equal to 0"),
      ]);
    }
    current.spec = { ...obj(current.spec), replicas };
    return current;
  }, options);
  return scaleOf(parent, store.info.resource);
}
