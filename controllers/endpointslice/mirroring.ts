/**
 * The EndpointSlice mirroring controller, as upstream's: the Endpoints of a Service without a
 * selector (written by hand or by another controller) are mirrored into EndpointSlices managed
 * by `endpointslicemirroring-controller.k8s.io`, owned by the Endpoints, one slice per subset's
 * ports and address family, at most 1000 addresses per subset. Endpoints labelled
 * `endpointslice.kubernetes.io/skip-mirror: "true"`, leader-election records, and Endpoints of
 * Services with a selector are not mirrored (mirrored slices are then removed).
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Informer } from "../framework/informer.ts";
import type { Service } from "../types.ts";
import type { EndpointAddress, EndpointPort as CorePort, Endpoints } from "../endpoints/subsets.ts";
import { LAST_CHANGE_TRIGGER_TIME, serviceSelector } from "../endpoints/pod_endpoints.ts";
import {
  type AddressType,
  type Endpoint,
  endpointKey,
  type EndpointPort,
  endpointsEqualBeyondKey,
  type EndpointSlice,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SKIP_MIRROR,
  portMapKey,
} from "./endpoints.ts";
import { EndpointSliceTracker } from "./tracker.ts";

export const MIRRORING_CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io";
const LEADER_ELECTION_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";
const LAST_APPLIED_CONFIG = "kubectl.kubernetes.io/last-applied-configuration";

export interface MirroringOptions {
  /** Most addresses mirrored per Endpoints subset (upstream's default: 1000). */
  maxEndpointsPerSubset?: number;
  /** How long a slice change waits before its Endpoints are synced (upstream: 1 s). */
  sliceChangeDelayMs?: number;
}

export function newEndpointSliceMirroringController(ctx: ControllerContext): Runnable {
  return new MirroringController(ctx);
}

export function endpointSliceMirroringControllerWith(options: MirroringOptions) {
  return (ctx: ControllerContext): Runnable => new MirroringController(ctx, options);
}

/** An IP in its canonical text and its family; undefined if it is not an IP. */
export function parseIP(text: string): { ip: string; type: AddressType } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { ip: parts.join("."), type: "IPv4" };
  }
  if (!text.includes(":") || /[\[\]/%]/.test(text)) return undefined;
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(text);
  if (mapped) return parseIP(mapped[1]);
  try {
    const host = new URL(`http://[${text}]/`).hostname;
    return { ip: host.slice(1, -1), type: "IPv6" };
  } catch {
    return undefined;
  }
}

function shouldMirror(ep: Endpoints | undefined): boolean {
  if (!ep) return false;
  if (ep.metadata?.labels?.[LABEL_SKIP_MIRROR] === "true") return false;
  return ep.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] === undefined;
}

const byService = (s: EndpointSlice) => {
  const name = s.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name ? [`${s.metadata?.namespace}/${name}`] : [];
};

class StaleInformerCache extends Error {}

class MirroringController implements Runnable {
  readonly name = "endpointslicemirroring";
  readonly #services: Informer<Service>;
  readonly #endpoints: Informer<Endpoints>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #client: ResourceClient<EndpointSlice>;
  readonly #controller: Controller;
  readonly #recorder: EventRecorder;
  readonly #tracker = new EndpointSliceTracker();
  readonly #max: number;
  readonly #delayMs: number;

  constructor(ctx: ControllerContext, options: MirroringOptions = {}) {
    this.#max = options.maxEndpointsPerSubset ?? 1000;
    this.#delayMs = options.sliceChangeDelayMs ?? 1000;
    this.#services = ctx.informers.informer<Service>("", "services");
    this.#endpoints = ctx.informers.informer<Endpoints>("", "endpoints");
    this.#slices = ctx.informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices", {
      indexers: { service: byService },
    });
    this.#client = ctx.client.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
    this.#recorder = ctx.events.recorder("endpoint-slice-mirroring-controller");
    this.#controller = new Controller({
      name: "endpointslicemirroring",
      workers: ctx.options.workers,
      reconcile: (key) => this.#syncEndpoints(key),
      maxRetries: 15,
      onError: (name, key, err) => {
        if (err instanceof StaleInformerCache) return;
        console.error(`kubedeno: ${name} controller: ${key}: ${(err as Error).message}`);
      },
    });
    const enqueue = (o: { metadata?: { name?: string; namespace?: string } }) =>
      this.#controller.enqueue(keyOf(o));
    this.#services.addEventHandler({ add: enqueue, update: (_, s) => enqueue(s), delete: enqueue });
    this.#endpoints.addEventHandler({
      add: (ep) => shouldMirror(ep) && enqueue(ep),
      update: (old, ep) => (shouldMirror(ep) || shouldMirror(old)) && enqueue(ep),
      delete: (ep) => shouldMirror(ep) && enqueue(ep),
    });
    const later = (s: EndpointSlice) => {
      const name = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (name) this.#controller.queue.addAfter(`${s.metadata?.namespace}/${name}`, this.#delayMs);
    };
    this.#slices.addEventHandler({
      add: (s) => this.#managed(s) && this.#tracker.shouldSync(s) && later(s),
      update: (old, s) => {
        if (old.metadata?.labels?.[LABEL_SERVICE_NAME] !== s.metadata?.labels?.[LABEL_SERVICE_NAME]) {
          later(old);
          later(s);
        } else if (
          this.#managed(old) !== this.#managed(s) || (this.#managed(s) && this.#tracker.shouldSync(s))
        ) {
          later(s);
        }
      },
      delete: (s) => {
        if (this.#managed(s) && this.#tracker.has(s) && !this.#tracker.handleDeletion(s)) later(s);
      },
    });
  }

  #managed(s: EndpointSlice): boolean {
    return s.metadata?.labels?.[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER_NAME;
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  #mirrored(key: string): EndpointSlice[] {
    return this.#slices.cache.byIndex("service", key).filter((s) =>
      this.#managed(s) && !s.metadata?.deletionTimestamp
    );
  }

  async #deleteMirrored(key: string): Promise<void> {
    const errors: string[] = [];
    const slices = this.#mirrored(key);
    for (const s of slices) {
      try {
        await this.#client.delete(s.metadata!.namespace!, s.metadata!.name!);
        this.#tracker.expectDeletion(s);
      } catch (err) {
        if (!isStatusError(err, "NotFound")) errors.push((err as Error).message);
      }
    }
    if (errors.length) {
      const { namespace, name } = splitKey(key);
      throw new Error(
        `Error(s) deleting ${errors.length}/${slices.length} EndpointSlices for ${namespace}/${name} Endpoints, including: ${
          errors[0]
        }`,
      );
    }
  }

  async #syncEndpoints(key: string): Promise<void> {
    const svc = this.#services.cache.get(key);
    if (!svc) {
      this.#tracker.deleteService(key);
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    if (serviceSelector(svc)) return await this.#deleteMirrored(key);
    const endpoints = this.#endpoints.cache.get(key);
    if (!endpoints || !shouldMirror(endpoints)) return await this.#deleteMirrored(key);
    const existing = this.#mirrored(key);
    if (this.#tracker.staleSlices(key, existing)) {
      throw new StaleInformerCache("EndpointSlice informer cache is out of date");
    }
    await this.#reconcile(endpoints, existing);
  }

  async #reconcile(endpoints: Endpoints, existing: EndpointSlice[]): Promise<void> {
    // Desired endpoints by address family and ports.
    const desired = new Map<
      string,
      { type: AddressType; ports: EndpointPort[]; endpoints: Map<string, Endpoint> }
    >();
    let invalid = 0;
    let skipped = 0;
    for (const subset of endpoints.subsets ?? []) {
      const ports = (subset.ports ?? []).map(toSlicePort);
      const pk = portMapKey(ports);
      let added = 0;
      const total = (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0);
      const add = (address: EndpointAddress, ready: boolean) => {
        const parsed = parseIP(address.ip);
        if (!parsed) {
          invalid++;
          return;
        }
        const ep: Endpoint = { addresses: [parsed.ip], conditions: { ready } };
        if (address.targetRef) ep.targetRef = address.targetRef;
        if (address.nodeName) ep.nodeName = address.nodeName;
        if (address.hostname) ep.hostname = address.hostname;
        const k = `${parsed.type}/${pk}`;
        let d = desired.get(k);
        if (!d) desired.set(k, d = { type: parsed.type, ports, endpoints: new Map() });
        d.endpoints.set(endpointKey(ep), ep);
        added++;
      };
      for (const a of subset.addresses ?? []) {
        if (added >= this.#max) break;
        add(a, true);
      }
      for (const a of subset.notReadyAddresses ?? []) {
        if (added >= this.#max) break;
        add(a, false);
      }
      skipped += total - added;
    }
    if (invalid > 0) {
      this.#recorder.event(
        endpoints,
        "Warning",
        "InvalidIPAddress",
        `Skipped ${invalid} invalid IP addresses when mirroring to EndpointSlices`,
      );
    }
    if (skipped > invalid) {
      this.#recorder.event(
        endpoints,
        "Warning",
        "TooManyAddressesToMirror",
        `A max of ${this.#max} addresses can be mirrored to EndpointSlices per Endpoints subset. ${skipped} addresses were skipped`,
      );
    }
    const existingByKey = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const k = `${s.addressType}/${portMapKey(s.ports)}`;
      existingByKey.set(k, [...existingByKey.get(k) ?? [], s]);
    }
    const toCreate: EndpointSlice[] = [];
    const toUpdate: EndpointSlice[] = [];
    const toDelete: EndpointSlice[] = [];
    for (const [k, d] of desired) {
      const slices = existingByKey.get(k) ?? [];
      if (d.endpoints.size === 0) {
        toDelete.push(...slices);
        continue;
      }
      toDelete.push(...slices.slice(1));
      const want = this.#newSlice(endpoints, d.ports, d.type, slices[0]);
      want.endpoints = [...d.endpoints.values()].slice(0, this.#max);
      if (slices[0] && this.#unchanged(slices[0], want)) continue;
      if (slices[0]) toUpdate.push(want);
      else toCreate.push(want);
    }
    for (const [k, slices] of existingByKey) if (!desired.has(k)) toDelete.push(...slices);
    // Recycle slices marked for deletion rather than create new ones.
    while (toCreate.length && toDelete.length) {
      const doomed = toDelete.shift()!;
      const fresh = toCreate.pop()!;
      fresh.metadata!.name = doomed.metadata!.name;
      fresh.metadata!.resourceVersion = doomed.metadata!.resourceVersion;
      delete fresh.metadata!.generateName;
      toUpdate.push(fresh);
    }
    const ns = endpoints.metadata!.namespace!;
    const where = `Endpoints ${ns}/${endpoints.metadata?.name}`;
    if (!endpoints.metadata?.deletionTimestamp) {
      for (const s of toCreate) {
        try {
          this.#tracker.update(await this.#client.create(ns, s));
        } catch (err) {
          if (isStatusError(err, "Forbidden") && /being terminated/.test(err.message)) return;
          throw new Error(`failed to create EndpointSlice for ${where}: ${(err as Error).message}`);
        }
      }
    }
    for (const s of toUpdate) {
      try {
        this.#tracker.update(await this.#client.update(ns, s));
      } catch (err) {
        throw new Error(
          `failed to update ${s.metadata?.name} EndpointSlice for ${where}: ${(err as Error).message}`,
        );
      }
    }
    for (const s of toDelete) {
      try {
        await this.#client.delete(ns, s.metadata!.name!);
      } catch (err) {
        if (!isStatusError(err, "NotFound")) {
          throw new Error(
            `failed to delete ${s.metadata?.name} EndpointSlice for ${where}: ${(err as Error).message}`,
          );
        }
      }
      this.#tracker.expectDeletion(s);
    }
  }

  /** A slice mirroring `endpoints` (taking the place of `existing` when given). */
  #newSlice(
    endpoints: Endpoints,
    ports: EndpointPort[],
    type: AddressType,
    existing?: EndpointSlice,
  ): EndpointSlice {
    const labels: Record<string, string> = { ...endpoints.metadata?.labels };
    labels[LABEL_SERVICE_NAME] = endpoints.metadata!.name!;
    labels[LABEL_MANAGED_BY] = MIRRORING_CONTROLLER_NAME;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(endpoints.metadata?.annotations ?? {})) {
      if (k !== LAST_CHANGE_TRIGGER_TIME && k !== LAST_APPLIED_CONFIG) annotations[k] = v;
    }
    const meta: EndpointSlice["metadata"] = {
      ...(existing ? { ...existing.metadata } : { generateName: `${endpoints.metadata!.name}-` }),
      namespace: endpoints.metadata!.namespace,
      labels,
      annotations,
      ownerReferences: [{
        apiVersion: "v1",
        kind: "Endpoints",
        name: endpoints.metadata!.name!,
        uid: endpoints.metadata!.uid!,
        controller: true,
        blockOwnerDeletion: true,
      }],
    };
    return {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: meta,
      addressType: type,
      endpoints: [],
      ports,
    };
  }

  #unchanged(current: EndpointSlice, want: EndpointSlice): boolean {
    if (!jsonEqual(current.metadata?.labels ?? {}, want.metadata?.labels ?? {})) return false;
    if (!jsonEqual(current.metadata?.annotations ?? {}, want.metadata?.annotations ?? {})) return false;
    const have = new Map((current.endpoints ?? []).map((e) => [endpointKey(e), e]));
    if (have.size !== want.endpoints.length) return false;
    return want.endpoints.every((e) => {
      const h = have.get(endpointKey(e));
      return h !== undefined && endpointsEqualBeyondKey(e, h);
    });
  }
}

function toSlicePort(p: CorePort): EndpointPort {
  const out: EndpointPort = { name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" };
  if (p.appProtocol) out.appProtocol = p.appProtocol;
  return out;
}
