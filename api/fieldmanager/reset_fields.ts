/**
 * Fields a write does not own because the kind's strategy resets them: a write to the main
 * resource of a kind with a status subresource leaves `status` alone, a status write leaves
 * `spec` alone (and a few kinds reset more). These fields are left out of the writer's managed
 * fields and out of conflict detection. The table is keyed by `resource.group` (`pods`,
 * `deployments.apps`) with `/subresource` for subresource writes.
 */

import { FieldSet } from "./fieldset.ts";
import type { Path, PathElement } from "./path.ts";
import { fieldPath } from "./path.ts";

/** What a write to one resource (or subresource) resets. */
export interface ResetFields {
  /** Field paths (each with everything below it) the write never owns. */
  exclude?: string[][];
  /**
   * When present, the write owns only paths under one of these prefixes; `"*"` matches any
   * single path element (any list item).
   */
  includeOnly?: string[][];
}

const STATUS: ResetFields = { exclude: [["status"]] };
const SPEC: ResetFields = { exclude: [["spec"]] };

/** Resources whose main-resource writes reset `status` and whose status writes reset `spec`. */
const WITH_STATUS = [
  "namespaces",
  "nodes",
  "persistentvolumeclaims",
  "persistentvolumes",
  "replicationcontrollers",
  "resourcequotas",
  "services",
  "apiservices.apiregistration.k8s.io",
  "daemonsets.apps",
  "replicasets.apps",
  "statefulsets.apps",
  "horizontalpodautoscalers.autoscaling",
  "cronjobs.batch",
  "jobs.batch",
  "ingresses.networking.k8s.io",
  "servicecidrs.networking.k8s.io",
  "poddisruptionbudgets.policy",
  "volumeattachments.storage.k8s.io",
  "validatingadmissionpolicies.admissionregistration.k8s.io",
  "flowschemas.flowcontrol.apiserver.k8s.io",
  "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
];

/** Reset fields by `resource.group[/subresource]`. */
export const RESET_FIELDS: Readonly<Record<string, ResetFields>> = {
  ...Object.fromEntries(WITH_STATUS.flatMap((r) => [[r, STATUS], [`${r}/status`, SPEC]])),
  "pods": STATUS,
  "pods/status": { exclude: [["spec"], ["metadata", "deletionTimestamp"], ["metadata", "ownerReferences"]] },
  "pods/ephemeralcontainers": { includeOnly: [["spec", "ephemeralContainers"]] },
  "pods/resize": {
    includeOnly: [
      ["spec", "containers", "*", "resources"],
      ["spec", "containers", "*", "resizePolicy"],
      ["spec", "initContainers", "*", "resources"],
      ["spec", "initContainers", "*", "resizePolicy"],
    ],
  },
  "namespaces/finalize": STATUS,
  "deployments.apps": STATUS,
  "deployments.apps/status": { exclude: [["spec"], ["metadata", "labels"]] },
  "certificatesigningrequests.certificates.k8s.io": STATUS,
  "certificatesigningrequests.certificates.k8s.io/status": { exclude: [["spec"], ["status", "conditions"]] },
  "certificatesigningrequests.certificates.k8s.io/approval": {
    exclude: [["spec"], ["status", "certificate"]],
  },
  "customresourcedefinitions.apiextensions.k8s.io": STATUS,
  "customresourcedefinitions.apiextensions.k8s.io/status": { exclude: [["metadata"], ["spec"]] },
};

/** Reset fields of a custom resource served with a status subresource. */
export const CUSTOM_RESOURCE_RESET: { main: ResetFields; status: ResetFields } = {
  main: STATUS,
  status: SPEC,
};

/** The reset fields for a write to `resource` in `group` (and `subresource`), if any. */
export function resetFieldsFor(group: string, resource: string, subresource = ""): ResetFields | undefined {
  const base = group ? `${resource}.${group}` : resource;
  return RESET_FIELDS[subresource ? `${base}/${subresource}` : base];
}

interface Matcher {
  wildcard: boolean;
  members: Map<string, { any: boolean; name: string; child: Matcher }>;
}

function anyMatcher(): Matcher {
  return { wildcard: true, members: new Map() };
}

function addPrefix(m: Matcher, parts: string[]): void {
  let node = m;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i] === "*" ? "*" : "f:" + parts[i];
    let member = node.members.get(key);
    if (!member) {
      member = { any: parts[i] === "*", name: parts[i], child: { wildcard: false, members: new Map() } };
      node.members.set(key, member);
    }
    if (i === parts.length - 1) member.child = anyMatcher();
    node = member.child;
    if (node.wildcard) return;
  }
}

function matches(member: { any: boolean; name: string }, pe: PathElement): boolean {
  return member.any || ("field" in pe && pe.field === member.name);
}

function filterInclude(s: FieldSet, m: Matcher): FieldSet {
  if (m.wildcard) return s;
  // Wildcards first, as the matcher orders them.
  const members = [...m.members.values()].sort((a, b) => (a.any === b.any ? 0 : a.any ? -1 : 1));
  const out = new FieldSet();
  for (const [k, pe] of s.members) if (members.some((mm) => matches(mm, pe))) out.members.set(k, pe);
  for (const [k, c] of s.children) {
    const mm = members.find((x) => matches(x, c.pe));
    if (!mm) continue;
    const sub = filterInclude(c.set, mm.child);
    if (!sub.empty()) out.children.set(k, { pe: c.pe, set: sub });
  }
  return out;
}

/** Applies reset fields to field sets. */
export class ResetFilter {
  readonly #exclude?: FieldSet;
  readonly #include?: Matcher;

  constructor(reset: ResetFields) {
    if (reset.exclude?.length) {
      this.#exclude = FieldSet.of(...reset.exclude.map((p): Path => fieldPath(...p)));
    }
    if (reset.includeOnly) {
      const m: Matcher = { wildcard: false, members: new Map() };
      for (const p of reset.includeOnly) addPrefix(m, p);
      this.#include = m;
    }
  }

  filter(s: FieldSet): FieldSet {
    let out = s;
    if (this.#exclude) out = out.recursiveDifference(this.#exclude);
    if (this.#include) out = filterInclude(out, this.#include);
    return out;
  }
}
