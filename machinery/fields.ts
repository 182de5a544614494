/**
 * Field selectors (`metadata.name=web,status.phase!=Running`) and the fields each kind exposes
 * to them, as kube-apiserver supports them.
 */

import { badRequest } from "./status.ts";

export interface FieldRequirement {
  field: string;
  operator: "=" | "==" | "!=";
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** Splits at unescaped separators and undoes `\,` `\=` `\\`. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "\\" && i + 1 < s.length) {
      cur += ch + s[++i];
      continue;
    }
    if (ch === sep) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, "$1");
}

/** Parses the string form; a bad term is a 400 BadRequest. */
export function parseFieldSelector(s: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (!s.trim()) return { requirements };
  for (const term of splitEscaped(s, ",")) {
    const m = /^((?:[^=!\\]|\\.)*?)(==|!=|=)(.*)$/.exec(term);
    if (!m || !m[1]) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    requirements.push({ field: unescape(m[1].trim()), operator: m[2] as FieldRequirement["operator"], value: unescape(m[3]) });
  }
  return { requirements };
}

/** Whether the object's fields satisfy every requirement (an absent field is ""). */
export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  return sel.requirements.every((r) => {
    const v = fields[r.field] ?? "";
    return r.operator === "!=" ? v !== r.value : v === r.value;
  });
}

// deno-lint-ignore no-explicit-any
type Obj = any;
type FieldGetter = (o: Obj) => unknown;

const EVENT_FIELDS: Record<string, FieldGetter> = {
  "involvedObject.kind": (o) => o.involvedObject?.kind ?? o.regarding?.kind,
  "involvedObject.namespace": (o) => o.involvedObject?.namespace ?? o.regarding?.namespace,
  "involvedObject.name": (o) => o.involvedObject?.name ?? o.regarding?.name,
  "involvedObject.uid": (o) => o.involvedObject?.uid ?? o.regarding?.uid,
  "involvedObject.apiVersion": (o) => o.involvedObject?.apiVersion ?? o.regarding?.apiVersion,
  "involvedObject.resourceVersion": (o) => o.involvedObject?.resourceVersion ?? o.regarding?.resourceVersion,
  "involvedObject.fieldPath": (o) => o.involvedObject?.fieldPath ?? o.regarding?.fieldPath,
  "reason": (o) => o.reason,
  "reportingComponent": (o) => o.reportingComponent ?? o.reportingController,
  "source": (o) => o.source?.component ?? o.deprecatedSource?.component,
  "type": (o) => o.type,
};

/** The extra fields per `group/resource`, beyond metadata.name and metadata.namespace. */
const KIND_FIELDS: Record<string, Record<string, FieldGetter>> = {
  "/pods": {
    "spec.nodeName": (o) => o.spec?.nodeName,
    "spec.restartPolicy": (o) => o.spec?.restartPolicy,
    "spec.schedulerName": (o) => o.spec?.schedulerName,
    "spec.serviceAccountName": (o) => o.spec?.serviceAccountName,
    "spec.hostNetwork": (o) => String(o.spec?.hostNetwork ?? false),
    "status.phase": (o) => o.status?.phase,
    "status.podIP": (o) => o.status?.podIP,
    "status.nominatedNodeName": (o) => o.status?.nominatedNodeName,
  },
  "/events": EVENT_FIELDS,
  "events.k8s.io/events": EVENT_FIELDS,
  "/secrets": { "type": (o) => o.type },
  "/namespaces": { "status.phase": (o) => o.status?.phase },
  "/nodes": { "spec.unschedulable": (o) => String(o.spec?.unschedulable ?? false) },
  "/replicationcontrollers": { "status.replicas": (o) => String(o.status?.replicas ?? 0) },
  "apps/replicasets": { "status.replicas": (o) => String(o.status?.replicas ?? 0) },
  "batch/jobs": { "status.successful": (o) => String(o.status?.succeeded ?? 0) },
  "certificates.k8s.io/certificatesigningrequests": { "spec.signerName": (o) => o.spec?.signerName },
  "/persistentvolumeclaims": { "spec.volumeName": (o) => o.spec?.volumeName },
  "/services": { "spec.clusterIP": (o) => o.spec?.clusterIP, "spec.type": (o) => o.spec?.type },
};

const supportedCache = new Map<string, Set<string>>();

/** The field labels a kind's field selectors may use. */
export function supportedFieldLabels(group: string, resource: string): Set<string> {
  const key = `${group}/${resource}`;
  let set = supportedCache.get(key);
  if (!set) {
    set = new Set(["metadata.name", "metadata.namespace", ...Object.keys(KIND_FIELDS[key] ?? {})]);
    supportedCache.set(key, set);
  }
  return set;
}

/** The selectable fields of one object. */
export function fieldsOf(group: string, resource: string, obj: Obj): Record<string, string> {
  const out: Record<string, string> = {
    "metadata.name": obj?.metadata?.name ?? "",
    "metadata.namespace": obj?.metadata?.namespace ?? "",
  };
  for (const [name, get] of Object.entries(KIND_FIELDS[`${group}/${resource}`] ?? {})) {
    const v = get(obj);
    out[name] = v === undefined || v === null ? "" : String(v);
  }
  return out;
}
