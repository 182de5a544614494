/**
 * The EndpointSlice controller, as upstream's: for every Service with a selector, the
 * discovery.k8s.io/v1 EndpointSlices of its matching pods (named `<service>-<random>`, labelled
 * `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
 * endpointslice-controller.k8s.io`, owned by the Service, at most 100 endpoints each). Slices of
 * a deleted Service go with it through the garbage collector. A change to one of its slices by
 * anyone else brings the Service back for a sync (after a second, to batch).
 */

import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Informer } from "../framework/informer.ts";
import type { Node, Pod, Service } from "../types.ts";
import {
  selectorMatches,
  serviceSelector,
  servicesForLabels,
  servicesToUpdateOnPodChange,
  TriggerTimeTracker,
} from "../endpoints/pod_endpoints.ts";
import { CONTROLLER_NAME, type EndpointSlice, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from "./endpoints.ts";
import { DEFAULT_MAX_ENDPOINTS_PER_SLICE, Reconciler } from "./reconciler.ts";
import { EndpointSliceTracker } from "./tracker.ts";

export interface EndpointSliceControllerOptions {
  /** Most endpoints in one slice (upstream's --max-endpoints-per-slice, default 100). */
  maxEndpointsPerSlice?: number;
  /** How long a slice change waits before its Service is synced (upstream: 1 s). */
  sliceChangeDelayMs?: number;
}

/** Makes the EndpointSlice controller with upstream's defaults. */
export function newEndpointSliceController(ctx: ControllerContext): Runnable {
  return new EndpointSliceController(ctx);
}

/** Makes an EndpointSlice controller factory with options. */
export function endpointSliceControllerWith(options: EndpointSliceControllerOptions) {
  return (ctx: ControllerContext): Runnable => new EndpointSliceController(ctx, options);
}

/** Slices of one Service, by namespace and service-name label. */
const byService = (s: EndpointSlice) => {
  const name = s.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name ? [`${s.metadata?.namespace}/${name}`] : [];
};

class StaleInformerCache extends Error {}

class EndpointSliceController implements Runnable {
  readonly name = "endpointslice";
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #controller: Controller;
  readonly #recorder: EventRecorder;
  readonly #tracker = new EndpointSliceTracker();
  readonly #triggerTimes = new TriggerTimeTracker();
  readonly #reconciler: Reconciler;
  readonly #sliceDelayMs: number;

  constructor(ctx: ControllerContext, options: EndpointSliceControllerOptions = {}) {
    this.#sliceDelayMs = options.sliceChangeDelayMs ?? 1000;
    this.#services = ctx.informers.informer<Service>("", "services");
    this.#pods = ctx.informers.informer<Pod>("", "pods");
    this.#nodes = ctx.informers.informer<Node>("", "nodes");
    this.#slices = ctx.informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices", {
      indexers: { service: byService },
    });
    this.#recorder = ctx.events.recorder("endpoint-slice-controller");
    this.#reconciler = new Reconciler({
      client: ctx.client.resource<EndpointSlice>("discovery.k8s.io", "endpointslices"),
      node: (name) => this.#nodes.cache.get(name),
      tracker: this.#tracker,
      maxEndpointsPerSlice: options.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE,
      controllerName: CONTROLLER_NAME,
    });
    this.#controller = new Controller({
      name: "endpointslice",
      workers: ctx.options.workers,
      reconcile: (key) => this.#syncService(key),
      maxRetries: 15,
      onError: (name, key, err) => {
        if (err instanceof StaleInformerCache) return;
        console.error(`kubedeno: ${name} controller: ${key}: ${(err as Error).message}`);
      },
    });
    const enqueue = (s: Service) => this.#controller.enqueue(keyOf(s));
    this.#services.addEventHandler({ add: enqueue, update: (_, s) => enqueue(s), delete: enqueue });
    this.#pods.addEventHandler({
      add: (pod) => this.#podMemberships(pod),
      update: (old, pod) => {
        const services = this.#services.cache.inNamespace(pod.metadata?.namespace ?? "");
        for (const key of servicesToUpdateOnPodChange(services, old, pod)) this.#controller.enqueue(key);
      },
      delete: (pod) => this.#podMemberships(pod),
    });
    this.#slices.addEventHandler({
      add: (slice) => {
        if (this.#managed(slice) && this.#tracker.shouldSync(slice)) this.#queueForSlice(slice);
      },
      update: (old, slice) => {
        const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
        const oldName = old.metadata?.labels?.[LABEL_SERVICE_NAME];
        if (name !== oldName) {
          this.#queueForSlice(slice);
          this.#queueForSlice(old);
          return;
        }
        if (
          this.#managed(old) !== this.#managed(slice) ||
          (this.#managed(slice) && this.#tracker.shouldSync(slice))
        ) this.#queueForSlice(slice);
      },
      delete: (slice) => {
        if (!this.#managed(slice) || !this.#tracker.has(slice)) return;
        // A deletion this controller did not ask for: make the slice again.
        if (!this.#tracker.handleDeletion(slice)) this.#queueForSlice(slice);
      },
    });
  }

  #managed(slice: EndpointSlice): boolean {
    return slice.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME;
  }

  #queueForSlice(slice: EndpointSlice): void {
    const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!name) return;
    this.#controller.queue.addAfter(`${slice.metadata?.namespace}/${name}`, this.#sliceDelayMs);
  }

  #podMemberships(pod: Pod): void {
    const services = this.#services.cache.inNamespace(pod.metadata?.namespace ?? "");
    for (const key of servicesForLabels(services, pod.metadata?.labels)) this.#controller.enqueue(key);
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  async #syncService(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.#services.cache.get(key);
    if (!svc) {
      // Its slices go with it (owner references).
      this.#triggerTimes.delete(namespace, name);
      this.#tracker.deleteService(key);
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    const selector = serviceSelector(svc);
    if (!selector) return;
    const pods = this.#pods.cache.inNamespace(namespace).filter((p) =>
      selectorMatches(selector, p.metadata?.labels)
    );
    const slices = this.#slices.cache.byIndex("service", key).filter((s) =>
      this.#managed(s) && !s.metadata?.deletionTimestamp
    );
    if (this.#tracker.staleSlices(key, slices)) {
      throw new StaleInformerCache("EndpointSlice informer cache is out of date");
    }
    const triggerTime = this.#triggerTimes.compute(svc, pods);
    try {
      await this.#reconciler.reconcile(svc, pods, slices, triggerTime);
    } catch (err) {
      this.#recorder.event(
        svc,
        "Warning",
        "FailedToUpdateEndpointSlices",
        `Error updating Endpoint Slices for Service ${namespace}/${name}: ${(err as Error).message}`,
      );
      throw err;
    }
  }
}
