/**
 * The EndpointSlice reconciler, as upstream's: per address family, pods become endpoints grouped
 * by the set of ports they offer; existing slices keep the endpoints still wanted (updated where
 * they changed), slices being updated are filled up first, then leftovers go into the unchanged
 * slice they fit best or into new slices of at most `maxEndpointsPerSlice`. A Service with no
 * endpoints keeps one empty placeholder slice. Creations are turned into updates of slices that
 * would be deleted; nothing is created while the Service is being deleted.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { Node, Pod, Service } from "../types.ts";
import {
  formatTriggerTime,
  HEADLESS_SERVICE_LABEL,
  isHeadless,
  LAST_CHANGE_TRIGGER_TIME,
  shouldPodBeInEndpoints,
} from "../endpoints/pod_endpoints.ts";
import {
  type AddressType,
  addressTypesForService,
  type Endpoint,
  endpointKey,
  type EndpointPort,
  endpointPorts,
  endpointsEqualBeyondKey,
  type EndpointSlice,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  podToEndpoint,
  portMapKey,
} from "./endpoints.ts";
import type { EndpointSliceTracker } from "./tracker.ts";
import { clone } from "../../machinery/object_meta.ts";

export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

export interface ReconcilerOptions {
  client: ResourceClient<EndpointSlice>;
  node: (name: string) => Node | undefined;
  tracker: EndpointSliceTracker;
  maxEndpointsPerSlice: number;
  controllerName: string;
}

const RESERVED_LABELS = new Set([LABEL_SERVICE_NAME, LABEL_MANAGED_BY, HEADLESS_SERVICE_LABEL]);

/** The slice's labels as the Service asks, and whether its user-visible labels differ. */
export function sliceLabels(slice: EndpointSlice, svc: Service, controllerName: string): {
  labels: Record<string, string>;
  changed: boolean;
} {
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice.metadata?.labels ?? {})) if (!RESERVED_LABELS.has(k)) own[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (!RESERVED_LABELS.has(k)) labels[k] = v;
  const changed = !jsonEqual(own, labels);
  if (isHeadless(svc)) labels[HEADLESS_SERVICE_LABEL] = "";
  labels[LABEL_SERVICE_NAME] = svc.metadata!.name!;
  labels[LABEL_MANAGED_BY] = controllerName;
  return { labels, changed };
}

/** `<service>-`, or the bare name when the dash would make it too long. */
function slicePrefix(name: string): string {
  return name.length + 1 > 253 ? name : `${name}-`;
}

export function newEndpointSlice(
  svc: Service,
  ports: EndpointPort[],
  addressType: AddressType,
  controllerName: string,
): EndpointSlice {
  const slice: EndpointSlice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: slicePrefix(svc.metadata!.name!),
      namespace: svc.metadata!.namespace,
      ownerReferences: [{
        apiVersion: "v1",
        kind: "Service",
        name: svc.metadata!.name!,
        uid: svc.metadata!.uid!,
        controller: true,
        blockOwnerDeletion: true,
      }],
      labels: {},
    },
    addressType,
    endpoints: [],
    ports,
  };
  slice.metadata!.labels = sliceLabels(slice, svc, controllerName).labels;
  return slice;
}

export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((o) =>
    o.uid === svc.metadata?.uid && o.kind === "Service" && o.apiVersion === "v1"
  );
}

/** The slice closest to full once `n` endpoints are added (none if none fits). */
function sliceToFill(slices: EndpointSlice[], n: number, max: number): EndpointSlice | undefined {
  let best: EndpointSlice | undefined;
  let bestDiff = max;
  for (const s of slices) {
    const diff = max - (n + s.endpoints.length);
    if (diff >= 0 && diff < bestDiff) {
      bestDiff = diff;
      best = s;
      if (diff === 0) break;
    }
  }
  return best;
}

/** Wanted endpoints, by key, in the order pods came. */
class EndpointSet {
  readonly #byKey = new Map<string, Endpoint>();
  get size(): number {
    return this.#byKey.size;
  }
  insert(ep: Endpoint): void {
    this.#byKey.set(endpointKey(ep), ep);
  }
  get(ep: Endpoint): Endpoint | undefined {
    return this.#byKey.get(endpointKey(ep));
  }
  delete(ep: Endpoint): void {
    this.#byKey.delete(endpointKey(ep));
  }
  pop(): Endpoint {
    const [key, ep] = this.#byKey.entries().next().value!;
    this.#byKey.delete(key);
    return ep;
  }
}

interface Plan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

export class Reconciler {
  readonly #o: ReconcilerOptions;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
  }

  /** Makes the Service's slices match its pods; throws an aggregate of what failed. */
  async reconcile(
    svc: Service,
    pods: Pod[],
    existing: EndpointSlice[],
    triggerTime: number | undefined,
  ): Promise<void> {
    const types = addressTypesForService(svc);
    const errors: string[] = [];
    const byType = new Map<string, EndpointSlice[]>();
    const unsupported: EndpointSlice[] = [];
    for (const slice of existing) {
      if (!types.has(slice.addressType as AddressType)) unsupported.push(slice);
      else byType.set(slice.addressType, [...byType.get(slice.addressType) ?? [], slice]);
    }
    for (const type of types) {
      try {
        await this.#reconcileByAddressType(svc, pods, byType.get(type) ?? [], triggerTime, type);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    for (const slice of unsupported) {
      try {
        await this.#delete(slice);
      } catch (err) {
        errors.push(
          `error deleting ${slice.metadata?.name} EndpointSlice for Service ${svc.metadata?.namespace}/${svc.metadata?.name}: ${
            (err as Error).message
          }`,
        );
      }
    }
    if (errors.length === 1) throw new Error(errors[0]);
    if (errors.length > 1) throw new Error(`[${errors.join(", ")}]`);
  }

  async #delete(slice: EndpointSlice): Promise<void> {
    try {
      await this.#o.client.delete(slice.metadata!.namespace!, slice.metadata!.name!);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
    this.#o.tracker.expectDeletion(slice);
  }

  async #reconcileByAddressType(
    svc: Service,
    pods: Pod[],
    existing: EndpointSlice[],
    triggerTime: number | undefined,
    addressType: AddressType,
  ): Promise<void> {
    const errors: string[] = [];
    const plan: Plan = { create: [], update: [], delete: [] };
    const existingByPorts = new Map<string, EndpointSlice[]>();
    for (const slice of existing) {
      if (ownedBy(slice, svc)) {
        const k = portMapKey(slice.ports);
        existingByPorts.set(k, [...existingByPorts.get(k) ?? [], slice]);
      } else plan.delete.push(slice);
    }
    const desiredPorts = new Map<string, EndpointPort[]>();
    const desired = new Map<string, EndpointSet>();
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = endpointPorts(svc, pod);
      const k = portMapKey(ports);
      if (!desired.has(k)) {
        desired.set(k, new EndpointSet());
        desiredPorts.set(k, ports);
      }
      const node = pod.spec?.nodeName ? this.#o.node(pod.spec.nodeName) : undefined;
      if (!node && svc.spec?.publishNotReadyAddresses !== true) {
        // Retried later; meanwhile the slices are updated without this pod.
        errors.push(
          `skipping Pod ${pod.metadata?.name} for Service ${svc.metadata?.namespace}/${svc.metadata?.name}: Node ${
            pod.spec?.nodeName ?? ""
          } Not Found`,
        );
        continue;
      }
      const ep = podToEndpoint(pod, node, svc, addressType);
      if (ep.addresses.length > 0) desired.get(k)!.insert(ep);
    }
    for (const [k, set] of desired) {
      const p = this.#reconcileByPortMapping(
        svc,
        existingByPorts.get(k) ?? [],
        set,
        desiredPorts.get(k)!,
        addressType,
      );
      plan.create.push(...p.create);
      plan.update.push(...p.update);
      plan.delete.push(...p.delete);
    }
    for (const [k, slices] of existingByPorts) if (!desired.has(k)) plan.delete.push(...slices);

    // No endpoints at all: one empty placeholder slice.
    if (existing.length === plan.delete.length && plan.create.length < 1) {
      const placeholder = newEndpointSlice(svc, [], addressType, this.#o.controllerName);
      if (plan.delete.length === 1 && isSamePlaceholder(plan.delete[0], placeholder)) plan.delete = [];
      else plan.create.push(placeholder);
    }
    try {
      await this.#finalize(svc, plan, triggerTime);
    } catch (err) {
      errors.push((err as Error).message);
    }
    if (errors.length === 1) throw new Error(errors[0]);
    if (errors.length > 1) throw new Error(`[${errors.join(", ")}]`);
  }

  #reconcileByPortMapping(
    svc: Service,
    existing: EndpointSlice[],
    desired: EndpointSet,
    ports: EndpointPort[],
    addressType: AddressType,
  ): Plan {
    const max = this.#o.maxEndpointsPerSlice;
    const byName = new Map<string, EndpointSlice>();
    const unchanged = new Set<string>();
    const toUpdate = new Set<string>();
    const toDelete = new Set<string>();
    // 1. Keep the endpoints still wanted (updating changed ones); fix labels.
    for (const slice of existing) {
      const name = slice.metadata!.name!;
      byName.set(name, slice);
      const kept: Endpoint[] = [];
      let updated = false;
      for (const ep of slice.endpoints ?? []) {
        const want = desired.get(ep);
        if (!want) continue;
        kept.push(want);
        if (!endpointsEqualBeyondKey(want, ep)) updated = true;
        desired.delete(ep);
      }
      const { labels, changed } = sliceLabels(slice, svc, this.#o.controllerName);
      if (updated || kept.length !== (slice.endpoints ?? []).length) {
        if (kept.length === 0) toDelete.add(name);
        else {
          const copy = clone(slice);
          copy.endpoints = kept;
          copy.metadata!.labels = labels;
          byName.set(name, copy);
          toUpdate.add(name);
        }
      } else if (changed) {
        const copy = clone(slice);
        copy.metadata!.labels = labels;
        byName.set(name, copy);
        toUpdate.add(name);
      } else {
        unchanged.add(name);
      }
    }
    // 2. Fill the slices being updated, fullest first.
    if (desired.size > 0 && toUpdate.size > 0) {
      const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) =>
        b.endpoints.length - a.endpoints.length
      );
      for (const slice of slices) {
        while (desired.size > 0 && slice.endpoints.length < max) slice.endpoints.push(desired.pop());
      }
    }
    // 3. Leftovers: the unchanged slice they fit best, else new slices.
    const create: EndpointSlice[] = [];
    while (desired.size > 0) {
      let slice: EndpointSlice | undefined;
      if (desired.size < max && unchanged.size > 0) {
        const found = sliceToFill([...unchanged].map((n) => byName.get(n)!), desired.size, max);
        if (found) {
          slice = clone(found);
          byName.set(found.metadata!.name!, slice);
        }
      }
      slice ??= newEndpointSlice(svc, ports, addressType, this.#o.controllerName);
      while (desired.size > 0 && slice.endpoints.length < max) slice.endpoints.push(desired.pop());
      if (slice.metadata?.name) {
        toUpdate.add(slice.metadata.name);
        unchanged.delete(slice.metadata.name);
      } else {
        create.push(slice);
      }
    }
    return {
      create,
      update: [...toUpdate].map((n) => byName.get(n)!),
      delete: [...toDelete].map((n) => byName.get(n)!),
    };
  }

  async #finalize(svc: Service, plan: Plan, triggerTime: number | undefined): Promise<void> {
    const ns = svc.metadata!.namespace!;
    const where = `Service ${ns}/${svc.metadata?.name}`;
    // Reuse slices that would be deleted for those that would be created.
    for (let i = 0; i < plan.delete.length && plan.create.length > 0;) {
      const doomed = plan.delete[i];
      const fresh = plan.create[plan.create.length - 1];
      if (doomed.addressType === fresh.addressType && ownedBy(doomed, svc)) {
        const reused = clone(doomed);
        reused.metadata!.labels = fresh.metadata!.labels;
        reused.metadata!.ownerReferences = fresh.metadata!.ownerReferences;
        reused.endpoints = fresh.endpoints;
        reused.ports = fresh.ports;
        plan.create.pop();
        plan.update.push(reused);
        plan.delete.splice(i, 1);
      } else i++;
    }
    if (!svc.metadata?.deletionTimestamp) {
      for (const slice of plan.create) {
        setTriggerTime(slice, triggerTime);
        try {
          this.#o.tracker.update(await this.#o.client.create(ns, slice));
        } catch (err) {
          if (isStatusError(err, "Forbidden") && /being terminated/.test(err.message)) return;
          throw new Error(`failed to create EndpointSlice for ${where}: ${(err as Error).message}`);
        }
      }
    }
    for (const slice of plan.update) {
      setTriggerTime(slice, triggerTime);
      try {
        this.#o.tracker.update(await this.#o.client.update(ns, slice));
      } catch (err) {
        throw new Error(
          `failed to update ${slice.metadata?.name} EndpointSlice for ${where}: ${(err as Error).message}`,
        );
      }
    }
    for (const slice of plan.delete) {
      try {
        await this.#delete(slice);
      } catch (err) {
        throw new Error(
          `failed to delete ${slice.metadata?.name} EndpointSlice for ${where}: ${(err as Error).message}`,
        );
      }
    }
  }
}

function setTriggerTime(slice: EndpointSlice, triggerTime: number | undefined): void {
  const annotations = { ...slice.metadata?.annotations };
  if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(triggerTime);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME];
  slice.metadata!.annotations = annotations;
}

/** An existing slice is the placeholder a sync would make (namespace, labels, owners, content). */
function isSamePlaceholder(slice: EndpointSlice, placeholder: EndpointSlice): boolean {
  return slice.metadata?.namespace === placeholder.metadata?.namespace &&
    jsonEqual(slice.metadata?.labels ?? {}, placeholder.metadata?.labels ?? {}) &&
    jsonEqual(slice.metadata?.ownerReferences ?? [], placeholder.metadata?.ownerReferences ?? []) &&
    slice.addressType === placeholder.addressType &&
    (slice.endpoints ?? []).length === 0 && (slice.ports ?? []).length === 0;
}
