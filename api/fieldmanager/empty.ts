/**
 * The empty object of a kind as kube-apiserver holds it before a create: what its zero value
 * serializes to. Structs held by value appear as `{}` (recursively), fields that are never
 * omitted appear with their zero value (`null` for lists, maps and pointers, `""`, `0`,
 * `false`), everything else is absent. Managed fields of a create are the difference between
 * this object and the created one, so which containers already exist here decides where a
 * `".":{}` marker appears (a field set that did not exist before owns itself).
 *
 * Which fields are structs held by value is not in the OpenAPI documents; required fields (no
 * `omitempty`) are, and the rest is the table below.
 */

import type { SchemaNode, Schemas } from "../../openapi/schema.ts";

const P = "io.k8s.api.";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";

/** Optional fields held by value (always serialized) below the top-level metadata/spec/status. */
const VALUE_FIELDS = new Set([
  META + "ObjectMeta.creationTimestamp",
  P + "core.v1.PodTemplateSpec.metadata",
  P + "core.v1.PodTemplateSpec.spec",
  P + "core.v1.PodTemplate.template",
  P + "batch.v1.JobTemplateSpec.metadata",
  P + "batch.v1.JobTemplateSpec.spec",
  P + "apps.v1.DeploymentSpec.strategy",
  P + "apps.v1.StatefulSetSpec.updateStrategy",
  P + "apps.v1.DaemonSetSpec.updateStrategy",
  P + "apps.v1.ReplicaSetSpec.template",
  P + "core.v1.ServiceStatus.loadBalancer",
  P + "networking.v1.IngressStatus.loadBalancer",
  P + "core.v1.PersistentVolumeClaimSpec.resources",
  P + "core.v1.NodeStatus.daemonEndpoints",
  P + "core.v1.NodeStatus.nodeInfo",
  P + "core.v1.NodeDaemonEndpoints.kubeletEndpoint",
  P + "core.v1.Event.source",
  P + "core.v1.Event.firstTimestamp",
  P + "core.v1.Event.lastTimestamp",
  P + "core.v1.Event.eventTime",
  P + "core.v1.Event.reportingComponent",
  P + "core.v1.Event.reportingInstance",
  P + "events.v1.Event.deprecatedSource",
  P + "events.v1.Event.deprecatedFirstTimestamp",
  P + "events.v1.Event.deprecatedLastTimestamp",
  P + "events.v1.Event.regarding",
  P + "authentication.v1.TokenReviewStatus.user",
  P + "authentication.v1.SelfSubjectReviewStatus.userInfo",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus.acceptedNames",
]);

/** Required struct fields that are pointers (serialized as null when unset). */
const POINTER_REQUIRED = new Set(["selector", "parentRef", "secretRef"]);

/** Definitions serialized as null when zero (times) or as a fixed zero value. */
const SPECIAL_ZERO: Record<string, unknown> = {
  [META + "Time"]: null,
  [META + "MicroTime"]: null,
  "io.k8s.apimachinery.pkg.api.resource.Quantity": "0",
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": 0,
  "io.k8s.apimachinery.pkg.runtime.RawExtension": null,
  [META + "Duration"]: "0s",
};

const ABSENT = Symbol("absent");

function zeroOf(schemas: Schemas, node: SchemaNode, required: boolean, name: string, depth: number): unknown {
  if (node.ref !== undefined) {
    if (node.ref in SPECIAL_ZERO) return SPECIAL_ZERO[node.ref];
    const def = schemas.definition(node.ref);
    if (!def) return required ? null : ABSENT;
    if (def.properties) {
      if (required && POINTER_REQUIRED.has(name)) return null;
      return zeroStruct(schemas, node.ref, def, depth + 1, false);
    }
    return zeroOf(schemas, def, required, name, depth);
  }
  if (!required) return ABSENT;
  if (node.intOrString) return 0;
  switch (node.type) {
    case "string":
      return "";
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}

function zeroStruct(schemas: Schemas, name: string, def: SchemaNode, depth: number, root: boolean): unknown {
  const out: Record<string, unknown> = {};
  if (depth > 12) return out;
  const required = new Set(def.required ?? []);
  for (const [field, prop] of Object.entries(def.properties ?? {})) {
    const isRequired = required.has(field);
    const byValue = VALUE_FIELDS.has(`${name}.${field}`) ||
      (root && (field === "metadata" || field === "spec" || field === "status"));
    if (!isRequired && !byValue) continue;
    let v: unknown;
    if (byValue && !isRequired) {
      v = zeroOf(schemas, prop, true, field, depth);
      if (v === null && prop.ref && schemas.definition(prop.ref)?.properties) {
        v = zeroStruct(schemas, prop.ref, schemas.definition(prop.ref)!, depth + 1, false);
      }
    } else v = zeroOf(schemas, prop, true, field, depth);
    if (v !== ABSENT) out[field] = v;
  }
  return out;
}

/**
 * The empty object of a built-in kind (`{apiVersion, kind, metadata: {creationTimestamp: null},
 * spec: {...}, status: {}}` shaped), or of any other kind just `{apiVersion, kind}`.
 */
export function emptyObject(
  schemas: Schemas,
  group: string,
  version: string,
  kind: string,
): Record<string, unknown> {
  const apiVersion = group ? `${group}/${version}` : version;
  const ref = schemas.refForKind(group, version, kind);
  const def = ref?.ref ? schemas.definition(ref.ref) : undefined;
  if (!ref?.ref || !def?.properties) return { apiVersion, kind };
  const body = zeroStruct(schemas, ref.ref, def, 0, true) as Record<string, unknown>;
  return { ...body, apiVersion, kind };
}
