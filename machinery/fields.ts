/**
 * Field selectors (`metadata.name=web,status.phase!=Running`), parsed and worded as
 * kube-apiserver does, and the fields each built-in kind exposes to them.
 */

import { badRequest } from "./status.ts";

/** One term: `field op value`; `=` and `==` mean the same. */
export interface FieldRequirement {
  field: string;
  operator: "=" | "==" | "!=";
  value: string;
}

/** A parsed selector: all terms must hold (none selects everything). */
export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** Splits at commas not escaped by a backslash; escapes stay in place. */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const TERM_OPERATORS = ["!=", "==", "="] as const;

/** Splits a term at the first operator found from the left. */
function splitTerm(term: string): [string, FieldRequirement["operator"], string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/**
 * Undoes `\\`, `\,` and `\=` in a value; any other escape, a lone trailing backslash, or an
 * unescaped `,` or `=` is a 400 worded as upstream words it.
 */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === "\\") inSlash = true;
    else if (c === "," || c === "=") {
      // Upstream prints the rune as a number.
      throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw badRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Escapes `\`, `,` and `=` in a value so it survives parsing. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * Parses the string form of a field selector. Terms come back sorted (as upstream sorts
 * them); empty terms are skipped; the field name is taken as written (no trimming). A bad
 * term is a 400 BadRequest: `invalid selector: '<s>'; can't understand '<term>'`.
 */
export function parseFieldSelector(s: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  const terms = splitTerms(s).sort();
  for (const term of terms) {
    if (term === "") continue;
    const split = splitTerm(term);
    if (!split) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const [field, operator, raw] = split;
    requirements.push({ field, operator, value: unescapeFieldValue(raw) });
  }
  return { requirements };
}

/** The string form of a selector, values escaped. */
export function fieldSelectorString(sel: FieldSelector): string {
  return sel.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(",");
}

/** Whether an object's fields satisfy every term; an absent field reads as "". */
export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  return sel.requirements.every((r) => {
    const v = Object.hasOwn(fields, r.field) ? fields[r.field] : "";
    return r.operator === "!=" ? v !== r.value : v === r.value;
  });
}

// deno-lint-ignore no-explicit-any
type Obj = any;
type FieldGetter = (o: Obj) => unknown;

interface KindFields {
  /** Whether `metadata.namespace` may be selected on (upstream refuses it for some cluster-scoped kinds). */
  namespace: boolean;
  /** The kind's own fields. */
  fields: Record<string, FieldGetter>;
  /** Labels accepted but not in the object's field set (they compare against ""). */
  acceptedOnly?: string[];
}

/** Reads a core/v1 Event or, if stored in that shape, an events.k8s.io/v1 Event. */
function involved(o: Obj): Obj {
  return o?.involvedObject ?? o?.regarding ?? {};
}

const EVENT_FIELDS: Record<string, FieldGetter> = {
  "involvedObject.kind": (o) => involved(o).kind,
  "involvedObject.namespace": (o) => involved(o).namespace,
  "involvedObject.name": (o) => involved(o).name,
  "involvedObject.uid": (o) => involved(o).uid,
  "involvedObject.apiVersion": (o) => involved(o).apiVersion,
  "involvedObject.resourceVersion": (o) => involved(o).resourceVersion,
  "involvedObject.fieldPath": (o) => involved(o).fieldPath,
  "reason": (o) => o?.reason,
  "reportingComponent": (o) => o?.reportingComponent ?? o?.reportingController,
  "source": (o) =>
    o?.source?.component || o?.deprecatedSource?.component || o?.reportingComponent || o?.reportingController,
  "type": (o) => o?.type,
};

const bool = (v: unknown) => String(v === true);
const count = (v: unknown) => String(typeof v === "number" ? v : 0);

/** The selectable fields per `group/resource`, as upstream's field label conversions allow them. */
const KIND_FIELDS: Record<string, KindFields> = {
  "/pods": {
    namespace: true,
    fields: {
      "spec.nodeName": (o) => o?.spec?.nodeName,
      // Old clients' name for spec.nodeName.
      "spec.host": (o) => o?.spec?.nodeName,
      "spec.restartPolicy": (o) => o?.spec?.restartPolicy,
      "spec.schedulerName": (o) => o?.spec?.schedulerName,
      "spec.serviceAccountName": (o) => o?.spec?.serviceAccountName,
      "spec.hostNetwork": (o) => bool(o?.spec?.hostNetwork),
      "status.phase": (o) => o?.status?.phase,
      "status.podIP": (o) => o?.status?.podIPs?.[0]?.ip ?? o?.status?.podIP,
      "status.nominatedNodeName": (o) => o?.status?.nominatedNodeName,
    },
    acceptedOnly: ["status.podIPs"],
  },
  "/events": { namespace: true, fields: EVENT_FIELDS },
  "events.k8s.io/events": { namespace: true, fields: EVENT_FIELDS },
  "/secrets": { namespace: true, fields: { "type": (o) => o?.type } },
  "/services": {
    namespace: true,
    fields: { "spec.clusterIP": (o) => o?.spec?.clusterIP, "spec.type": (o) => o?.spec?.type },
  },
  "/namespaces": { namespace: false, fields: { "status.phase": (o) => o?.status?.phase } },
  "/nodes": { namespace: false, fields: { "spec.unschedulable": (o) => bool(o?.spec?.unschedulable) } },
  "/replicationcontrollers": {
    namespace: true,
    fields: { "status.replicas": (o) => count(o?.status?.replicas) },
  },
  "apps/replicasets": { namespace: true, fields: { "status.replicas": (o) => count(o?.status?.replicas) } },
  "batch/jobs": { namespace: true, fields: { "status.successful": (o) => count(o?.status?.succeeded) } },
  "certificates.k8s.io/certificatesigningrequests": {
    namespace: false,
    fields: { "spec.signerName": (o) => o?.spec?.signerName },
  },
  "certificates.k8s.io/clustertrustbundles": {
    namespace: false,
    fields: { "spec.signerName": (o) => o?.spec?.signerName },
  },
};

const DEFAULT_FIELDS: KindFields = { namespace: true, fields: {} };

const supportedCache = new Map<string, Set<string>>();

/**
 * The field labels a kind's field selectors may use: `metadata.name`, `metadata.namespace`
 * (except for namespaces, nodes and certificatesigningrequests, as upstream) and the kind's
 * own. The set is shared: do not change it.
 */
export function supportedFieldLabels(group: string, resource: string): Set<string> {
  const key = `${group}/${resource}`;
  let set = supportedCache.get(key);
  if (!set) {
    const kind = KIND_FIELDS[key] ?? DEFAULT_FIELDS;
    set = new Set(["metadata.name"]);
    if (kind.namespace) set.add("metadata.namespace");
    for (const name of Object.keys(kind.fields)) set.add(name);
    for (const name of kind.acceptedOnly ?? []) set.add(name);
    supportedCache.set(key, set);
  }
  return set;
}

/**
 * The message kube-apiserver gives for a field label the kind does not support:
 * `field label not supported: <label>` (Jobs word it their own way).
 */
export function unsupportedFieldLabelMessage(group: string, resource: string, label: string): string {
  if (group === "batch" && resource === "jobs") {
    return `field label ${JSON.stringify(label)} not supported for batchv1.Job`;
  }
  return `field label not supported: ${label}`;
}

function text(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

/** The selectable fields of one object, every value a string ("" when unset). */
export function fieldsOf(group: string, resource: string, obj: Obj): Record<string, string> {
  const out: Record<string, string> = {
    "metadata.name": text(obj?.metadata?.name),
    "metadata.namespace": text(obj?.metadata?.namespace),
  };
  const kind = KIND_FIELDS[`${group}/${resource}`];
  if (kind) { for (const [name, get] of Object.entries(kind.fields)) out[name] = text(get(obj)); }
  return out;
}
