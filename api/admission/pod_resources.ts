/**
 * What a pod asks for as a whole, as upstream's resource helpers add it up: app containers and
 * restartable init containers (sidecars) run together and sum; ordinary init containers run one
 * at a time (each beside the sidecars started before it), so the pod needs the larger of the two.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import {
  addQuantities,
  addResourceListInto,
  maxResourceListInto,
  parseResourceList,
  type ResourceList,
} from "../../machinery/resource_quantity.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

function list(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

/** A container's requests or limits. */
export function containerResources(container: Json, which: "requests" | "limits"): ResourceList {
  return parseResourceList(obj(container.resources)[which]);
}

/** The containers of a pod spec, app containers first. */
export function podContainers(pod: KubeObject): { containers: Json[]; initContainers: Json[] } {
  const spec = obj(pod.spec);
  return { containers: list(spec.containers), initContainers: list(spec.initContainers) };
}

export interface PodTotalsOptions {
  /** Add `spec.overhead` (to every request; to limits already present), as quota does. */
  overhead?: boolean;
}

/** The pod's total requests or limits. */
export function podResourceTotals(
  pod: KubeObject,
  which: "requests" | "limits",
  options: PodTotalsOptions = {},
): ResourceList {
  const { containers, initContainers } = podContainers(pod);
  const total: ResourceList = new Map();
  for (const c of containers) addResourceListInto(total, containerResources(c, which));
  const sidecars: ResourceList = new Map();
  const initPeak: ResourceList = new Map();
  for (const c of initContainers) {
    const own = containerResources(c, which);
    if (c.restartPolicy === "Always") {
      addResourceListInto(total, own);
      addResourceListInto(sidecars, own);
      maxResourceListInto(initPeak, sidecars);
    } else {
      const running: ResourceList = new Map(own);
      addResourceListInto(running, sidecars);
      maxResourceListInto(initPeak, running);
    }
  }
  maxResourceListInto(total, initPeak);
  if (options.overhead) {
    for (const [name, q] of parseResourceList(obj(pod.spec).overhead)) {
      const have = total.get(name);
      if (which === "requests") total.set(name, have ? addQuantities(have, q) : q);
      else if (have) total.set(name, addQuantities(have, q));
    }
  }
  return total;
}
