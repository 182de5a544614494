/**
 * What a pod asks for, as upstream's resource helpers add it up: the sum of its containers,
 * raised to the largest init container (restartable "sidecar" init containers run alongside
 * and are added), plus the pod overhead; and its QoS class (BestEffort when no container
 * names cpu or memory).
 */

import type { Container, Pod } from "../types.ts";
import { add, max, parse, type Quantity } from "./quantity.ts";

export type ResourceList = Map<string, Quantity>;

type Kind = "requests" | "limits";

function containerList(c: Container, kind: Kind): ResourceList {
  const out: ResourceList = new Map();
  const own = (c.resources?.[kind] ?? {}) as Record<string, unknown>;
  // The API server defaults a missing request to the limit; do the same for objects that skipped it.
  const fallback = kind === "requests" ? (c.resources?.limits ?? {}) as Record<string, unknown> : {};
  for (const [name, text] of Object.entries({ ...fallback, ...own })) {
    const q = parse(text);
    if (q) out.set(name, q);
  }
  return out;
}

function addInto(target: ResourceList, more: ResourceList): void {
  for (const [name, q] of more) {
    const have = target.get(name);
    target.set(name, have ? add(have, q) : q);
  }
}

function maxInto(target: ResourceList, other: ResourceList): void {
  for (const [name, q] of other) {
    const have = target.get(name);
    target.set(name, have ? max(have, q) : q);
  }
}

function podList(pod: Pod, kind: Kind): ResourceList {
  const total: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(total, containerList(c, kind));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = containerList(c, kind);
    if (c.restartPolicy === "Always") {
      addInto(total, own);
      addInto(sidecars, own);
      maxInto(initMax, sidecars);
    } else {
      const running: ResourceList = new Map(own);
      addInto(running, sidecars);
      maxInto(initMax, running);
    }
  }
  maxInto(total, initMax);
  const overhead = (pod.spec?.overhead ?? {}) as Record<string, unknown>;
  for (const [name, text] of Object.entries(overhead)) {
    const q = parse(text);
    if (!q) continue;
    const have = total.get(name);
    // Limits only grow where a limit is set; requests always carry the overhead.
    if (kind === "limits" && !have) continue;
    total.set(name, have ? add(have, q) : q);
  }
  return total;
}

/** The pod's effective requests. */
export function podRequests(pod: Pod): ResourceList {
  return podList(pod, "requests");
}

/** The pod's effective limits (only of resources some container limits). */
export function podLimits(pod: Pod): ResourceList {
  return podList(pod, "limits");
}

const QOS_RESOURCES = ["cpu", "memory"];

/** BestEffort: no container (init included) requests or limits cpu or memory. */
export function isBestEffort(pod: Pod): boolean {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    for (const kind of ["requests", "limits"] as const) {
      const list = (c.resources?.[kind] ?? {}) as Record<string, unknown>;
      for (const r of QOS_RESOURCES) {
        const q = parse(list[r]);
        if (q && q.nano !== 0n) return false;
      }
    }
  }
  return true;
}
