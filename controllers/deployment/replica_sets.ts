/**
 * Which of a deployment's ReplicaSets is the new one (its template equals the deployment's,
 * the pod-template-hash label aside) and which are old, the orders upstream sorts them in, and
 * the new ReplicaSet a deployment asks for.
 */

import { POD_TEMPLATE_HASH_LABEL, revisionOf } from "./annotations.ts";
import { filterActive, specReplicas } from "./replicas.ts";
import type { Deployment, PodTemplateSpec, ReplicaSet } from "./types.ts";
import { clone } from "../../machinery/object_meta.ts";

function created(rs: ReplicaSet): number {
  const t = rs.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** Older first; same second: by name. */
export function byCreationTimestamp(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const an = a.metadata?.name ?? "";
  const bn = b.metadata?.name ?? "";
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** Larger first; same size: older first (the order to scale down in). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  const d = specReplicas(b) - specReplicas(a);
  return d !== 0 ? d : byCreationTimestamp(a, b);
}

/** Larger first; same size: newer first (the order to scale up in). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  const d = specReplicas(b) - specReplicas(a);
  return d !== 0 ? d : byCreationTimestamp(b, a);
}

/** Lower revision first; unparsable or equal revisions by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreationTimestamp(a, b);
  return ra - rb;
}

/**
 * A JSON value with what Go would not tell from absence dropped: nulls, empty lists and empty
 * objects (upstream's semantic equality takes a nil map or slice to equal an empty one).
 */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalized);
    return items.length ? items : undefined;
  }
  if (value === null) return undefined;
  if (typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const n = normalized(v);
    if (n !== undefined) out[k] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

function canonical(value: unknown): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(",")}}`;
}

/** A template's comparable form: without the pod-template-hash label. */
function comparable(t: PodTemplateSpec | undefined): string {
  const copy = clone(t ?? {}) as PodTemplateSpec;
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return canonical(normalized(copy));
}

/** The two templates are equal but for their pod-template-hash labels. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return comparable(a) === comparable(b);
}

/** The oldest ReplicaSet whose template is the deployment's, if any. */
export function findNewReplicaSet(d: Deployment, sets: ReplicaSet[]): ReplicaSet | undefined {
  const want = comparable(d.spec?.template);
  return [...sets].sort(byCreationTimestamp).find((rs) => comparable(rs.spec?.template) === want);
}

/** The ReplicaSets that are not the new one: those still running pods, and all of them. */
export function findOldReplicaSets(
  d: Deployment,
  sets: ReplicaSet[],
): { oldRSs: ReplicaSet[]; allOldRSs: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, sets);
  const allOldRSs = sets.filter((rs) => !newRS || rs.metadata?.uid !== newRS.metadata?.uid);
  return { oldRSs: allOldRSs.filter((rs) => specReplicas(rs) !== 0), allOldRSs };
}

/**
 * The only active ReplicaSet, or the newest when none is active; undefined when several are
 * active (then they are scaled proportionally).
 */
export function findActiveOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActive([...newestFirst, newRS]);
  switch (active.length) {
    case 0:
      return newRS ?? newestFirst[0];
    case 1:
      return active[0];
    default:
      return undefined;
  }
}

/** The selector with `key=value` added to its matchLabels. */
export function cloneSelectorAndAddLabel<T extends { matchLabels?: Record<string, string> }>(
  selector: T | undefined,
  key: string,
  value: string,
): T {
  const copy = clone(selector ?? {}) as T;
  copy.matchLabels = { ...copy.matchLabels, [key]: value };
  return copy;
}
