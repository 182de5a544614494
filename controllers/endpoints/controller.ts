/**
 * The Endpoints controller, as upstream's: for every Service with a selector, an Endpoints
 * object of the same name listing the matching pods' addresses — ready ones under `addresses`,
 * the others under `notReadyAddresses` (all under `addresses` with `publishNotReadyAddresses`)
 * — per port resolved on each pod (named ports from its containers), with `targetRef`,
 * `nodeName`, `hostname` (when the pod's subdomain is the Service), the
 * `endpoints.kubernetes.io/last-change-trigger-time` annotation and truncation to 1000
 * addresses (`endpoints.kubernetes.io/over-capacity: truncated`). Services without a selector
 * (and ExternalName Services) are left alone; an Endpoints whose Service is gone is deleted.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { isStatusError } from "../../machinery/status.ts";
import { jsonEqual } from "../../machinery/object_meta.ts";
import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Informer } from "../framework/informer.ts";
import type { Pod, Service } from "../types.ts";
import {
  findPort,
  formatTriggerTime,
  HEADLESS_SERVICE_LABEL,
  isHeadless,
  isPodReady,
  LAST_CHANGE_TRIGGER_TIME,
  podIPForService,
  selectorMatches,
  serviceSelector,
  servicesForLabels,
  servicesToUpdateOnPodChange,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  TriggerTimeTracker,
} from "./pod_endpoints.ts";
import {
  capacityAnnotationSetCorrectly,
  type EndpointAddress,
  type EndpointPort,
  type Endpoints,
  type EndpointSubset,
  normalizeSubsets,
  OVER_CAPACITY_ANNOTATION,
  repackSubsets,
  TRUNCATED,
  truncateSubsets,
} from "./subsets.ts";

/** Endpoints carrying this annotation are leader-election records, not a Service's. */
const LEADER_ELECTION_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";

export function newEndpointsController(ctx: ControllerContext): Runnable {
  return new EndpointsController(ctx);
}

class EndpointsController implements Runnable {
  readonly name = "endpoint";
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #endpoints: Informer<Endpoints>;
  readonly #client: ResourceClient<Endpoints>;
  readonly #controller: Controller;
  readonly #recorder: EventRecorder;
  readonly #triggerTimes = new TriggerTimeTracker();

  constructor(ctx: ControllerContext) {
    this.#services = ctx.informers.informer<Service>("", "services");
    this.#pods = ctx.informers.informer<Pod>("", "pods");
    this.#endpoints = ctx.informers.informer<Endpoints>("", "endpoints");
    this.#client = ctx.client.resource<Endpoints>("", "endpoints");
    this.#recorder = ctx.events.recorder("endpoint-controller");
    this.#controller = new Controller({
      name: "endpoint",
      workers: ctx.options.workers,
      reconcile: (key) => this.#syncService(key),
      maxRetries: 15,
    });
    const enqueue = (o: { metadata?: { name?: string; namespace?: string } }) =>
      this.#controller.enqueue(keyOf(o));
    this.#services.addEventHandler({ add: enqueue, update: (_, s) => enqueue(s), delete: enqueue });
    this.#pods.addEventHandler({
      add: (pod) => this.#podMemberships(pod),
      update: (old, pod) => {
        const services = this.#services.cache.inNamespace(pod.metadata?.namespace ?? "");
        for (const key of servicesToUpdateOnPodChange(services, old, pod)) this.#controller.enqueue(key);
      },
      delete: (pod) => this.#podMemberships(pod),
    });
    this.#endpoints.addEventHandler({ delete: enqueue });
  }

  #podMemberships(pod: Pod): void {
    const services = this.#services.cache.inNamespace(pod.metadata?.namespace ?? "");
    for (const key of servicesForLabels(services, pod.metadata?.labels)) this.#controller.enqueue(key);
  }

  run(): void {
    this.#controller.run();
    // Endpoints left behind by Services deleted while no controller ran.
    for (const ep of this.#endpoints.cache.list()) {
      if (ep.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] !== undefined) continue;
      this.#controller.enqueue(keyOf(ep));
    }
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  async #syncService(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.#services.cache.get(key);
    if (!svc) {
      try {
        await this.#client.delete(namespace, name);
      } catch (err) {
        if (!isStatusError(err, "NotFound")) throw err;
      }
      this.#triggerTimes.delete(namespace, name);
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    const selector = serviceSelector(svc);
    if (!selector) return;
    const pods = this.#pods.cache.inNamespace(namespace).filter((p) =>
      selectorMatches(selector, p.metadata?.labels)
    );
    const triggerTime = this.#triggerTimes.compute(svc, pods);
    const subsets = repackSubsets(subsetsFor(svc, pods));

    const current = this.#endpoints.cache.get(key);
    const labels = { ...svc.metadata?.labels };
    if (current) {
      const compareLabels = { ...current.metadata?.labels };
      delete compareLabels[HEADLESS_SERVICE_LABEL];
      if (
        jsonEqual(normalizeSubsets(current.subsets), normalizeSubsets(subsets)) &&
        jsonEqual(compareLabels, labels) &&
        capacityAnnotationSetCorrectly(current.metadata?.annotations, current.subsets)
      ) return;
    }
    const annotations: Record<string, string> = { ...current?.metadata?.annotations };
    if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(triggerTime);
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncateSubsets(subsets)) annotations[OVER_CAPACITY_ANNOTATION] = TRUNCATED;
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    if (isHeadless(svc)) labels[HEADLESS_SERVICE_LABEL] = "";
    else delete labels[HEADLESS_SERVICE_LABEL];

    const next: Endpoints = {
      ...(current ?? {}),
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: {
        ...(current?.metadata ?? { name, namespace }),
        labels,
        annotations,
      },
      subsets,
    };
    try {
      if (current) await this.#client.update(namespace, next);
      else await this.#client.create(namespace, next);
    } catch (err) {
      if (!current && isStatusError(err, "Forbidden") && /being terminated/.test(err.message)) return;
      if (!current && isStatusError(err, "AlreadyExists")) throw err; // the cache is behind: look again
      if (current) {
        this.#recorder.event(
          next,
          "Warning",
          "FailedToUpdateEndpoint",
          `Failed to update endpoint ${namespace}/${name}: ${(err as Error).message}`,
        );
      } else {
        this.#recorder.event(
          next,
          "Warning",
          "FailedToCreateEndpoint",
          `Failed to create endpoint for service ${namespace}/${name}: ${(err as Error).message}`,
        );
      }
      throw err;
    }
  }
}

/** One subset per (pod, port), before repacking. */
export function subsetsFor(svc: Service, pods: Pod[]): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const ports = svc.spec?.ports ?? [];
  const out: EndpointSubset[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPForService(svc, pod);
    if (!ip) continue;
    const address: EndpointAddress = {
      ip,
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata?.namespace,
        name: pod.metadata?.name,
        uid: pod.metadata?.uid,
      },
    };
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    if (shouldSetHostname(pod, svc)) address.hostname = pod.spec!.hostname;
    const ready = publishNotReady || isPodReady(pod);
    const subset = (port?: EndpointPort): EndpointSubset => ({
      ...(ready ? { addresses: [address] } : { notReadyAddresses: [address] }),
      ...(port ? { ports: [port] } : {}),
    });
    if (ports.length === 0) {
      // A headless Service may have no ports: its endpoints are addresses alone.
      if (svc.spec?.clusterIP === "None") out.push(subset());
      continue;
    }
    for (const sp of ports) {
      const portNum = findPort(pod, sp);
      if (portNum === undefined) continue;
      const port: EndpointPort = { port: portNum, protocol: sp.protocol ?? "TCP" };
      if (sp.name) port.name = sp.name;
      if (sp.appProtocol) port.appProtocol = sp.appProtocol;
      out.push(subset(port));
    }
  }
  return out;
}
