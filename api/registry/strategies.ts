/**
 * The strategies of the built-in kinds. Most kinds need none beyond the defaults; the table at
 * the bottom names the few that differ.
 */

import { admitPodDefaults } from "../../openapi/defaults/pod_admission.ts";
import { forbidden } from "../../machinery/status.ts";
import { jsonEqual, type KubeObject, metaOf } from "../../machinery/object_meta.ts";
import type { Strategy } from "./strategy.ts";
import { type ServiceAllocators, serviceStrategy } from "./strategies/services.ts";

/** Kinds whose `metadata.generation` counts spec changes, as upstream's strategies keep it. */
const TRACKS_GENERATION = new Set([
  "apps/deployments",
  "apps/replicasets",
  "apps/statefulsets",
  "apps/daemonsets",
  "batch/jobs",
  "batch/cronjobs",
  "/replicationcontrollers",
  "autoscaling/horizontalpodautoscalers",
  "policy/poddisruptionbudgets",
  "networking.k8s.io/ingresses",
  "networking.k8s.io/networkpolicies",
  "apiextensions.k8s.io/customresourcedefinitions",
  "admissionregistration.k8s.io/validatingwebhookconfigurations",
  "admissionregistration.k8s.io/mutatingwebhookconfigurations",
  "admissionregistration.k8s.io/validatingadmissionpolicies",
  "admissionregistration.k8s.io/validatingadmissionpolicybindings",
  "flowcontrol.apiserver.k8s.io/flowschemas",
  "flowcontrol.apiserver.k8s.io/prioritylevelconfigurations",
]);

/** Kinds a PUT may create, as upstream allows. */
const CREATE_ON_UPDATE = new Set([
  "/events",
  "events.k8s.io/events",
  "/endpoints",
  "/nodes",
  "coordination.k8s.io/leases",
]);

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
}

/** Quality of service from the containers' requests and limits, as `status.qosClass` reports it. */
export function podQosClass(pod: KubeObject): "Guaranteed" | "Burstable" | "BestEffort" {
  const spec = obj(pod.spec);
  const containers = [
    ...(Array.isArray(spec.containers) ? spec.containers : []),
    ...(Array.isArray(spec.initContainers) ? spec.initContainers : []),
  ].map(obj);
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const res = obj(c.resources);
    const requests = obj(res.requests);
    const limits = obj(res.limits);
    for (const name of ["cpu", "memory"]) {
      const req = requests[name] ?? limits[name];
      const lim = limits[name];
      if (req !== undefined || lim !== undefined) anySet = true;
      if (lim === undefined || (req !== undefined && String(req) !== String(lim))) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export interface PodStrategyOptions {
  /** Whether a node of that name exists (a pod bound to no live node is deleted at once). */
  nodeExists(name: string): Promise<boolean>;
}

/** Pods: Pending at birth, graceful deletion while a node runs them. */
export function podStrategy(options: PodStrategyOptions): Strategy {
  return {
    prepareForCreate(pod) {
      admitPodDefaults(pod);
      pod.status = { phase: "Pending", qosClass: podQosClass(pod) };
    },
    prepareForUpdate(pod, old) {
      // As the Priority admission keeps them: an update that leaves them out keeps the old ones.
      const spec = obj(pod.spec);
      const oldSpec = obj(old.spec);
      for (const key of ["priority", "preemptionPolicy"]) {
        if (spec[key] === undefined && oldSpec[key] !== undefined) spec[key] = oldSpec[key];
      }
    },
    async gracePeriod(pod, request) {
      const spec = obj(pod.spec);
      const status = obj(pod.status);
      const nodeName = typeof spec.nodeName === "string" ? spec.nodeName : "";
      if (!nodeName || status.phase === "Succeeded" || status.phase === "Failed") return 0;
      const requested = request.gracePeriodSeconds ??
        (typeof spec.terminationGracePeriodSeconds === "number" ? spec.terminationGracePeriodSeconds : 30);
      if (requested <= 0) return 0;
      if (!(await options.nodeExists(nodeName))) return 0;
      return requested;
    },
  };
}

/** The finalizer that keeps a namespace until its content is gone. */
export const NAMESPACE_FINALIZER = "kubernetes";

/** Namespaces that may never be deleted, as upstream's namespace lifecycle admission keeps them. */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

/** Namespaces: Active at birth, a name label, spec.finalizers changed only through `finalize`. */
export const namespaceStrategy: Strategy = {
  prepareForCreate(ns) {
    const meta = metaOf(ns);
    ns.status = { phase: "Active" };
    const spec = obj(ns.spec);
    if (!Array.isArray(spec.finalizers)) spec.finalizers = [NAMESPACE_FINALIZER];
    ns.spec = spec;
    if (meta.name) meta.labels = { ...meta.labels, "kubernetes.io/metadata.name": meta.name };
  },
  prepareForUpdate(ns, old, ctx) {
    const meta = metaOf(ns);
    if (ctx.subresource === "finalize") {
      const finalizers = obj(ns.spec).finalizers;
      ns.spec = { ...obj(old.spec), finalizers: Array.isArray(finalizers) ? finalizers : [] };
    } else if (ctx.subresource !== "status") {
      ns.spec = obj(old.spec);
    }
    if (meta.name) meta.labels = { ...meta.labels, "kubernetes.io/metadata.name": meta.name };
    if (metaOf(old).deletionTimestamp) ns.status = { ...obj(ns.status), phase: "Terminating" };
  },
  checkDelete(ns) {
    const name = metaOf(ns).name ?? "";
    if (IMMORTAL_NAMESPACES.has(name)) {
      throw forbidden({ group: "", resource: "namespaces" }, name, "this namespace may not be deleted");
    }
  },
  pendingFinalizers(ns) {
    const finalizers = obj(ns.spec).finalizers;
    return Array.isArray(finalizers) && finalizers.length > 0;
  },
  markDeleted(ns) {
    ns.status = { ...obj(ns.status), phase: "Terminating" };
  },
};

/** Secrets: `type` defaults to Opaque. */
export const secretStrategy: Strategy = {
  prepareForCreate(secret) {
    if (!secret.type) secret.type = "Opaque";
  },
};

/** Persistent volumes and claims start Pending, until a binder says otherwise. */
export const volumeStrategy: Strategy = {
  prepareForCreate(volume, ctx) {
    volume.status = volume.kind === "PersistentVolume"
      ? { phase: "Pending", lastPhaseTransitionTime: new Date(ctx.now).toISOString().replace(/\.\d+Z$/, "Z") }
      : { phase: "Pending" };
  },
};

/**
 * A Job without `manualSelector` gets its selector and pod labels from the server, as
 * upstream's strategy generates them: the template is labelled with the Job's name and uid
 * (current and legacy keys, each unless already set) and the selector matches the uid.
 */
export const jobStrategy: Strategy = {
  tracksGeneration: true,
  prepareForCreate(job) {
    const spec = obj(job.spec);
    if (spec.manualSelector === true || job.spec === undefined) return;
    const meta = metaOf(job);
    const template = obj(spec.template);
    const templateMeta = obj(template.metadata);
    const labels = obj(templateMeta.labels) as Record<string, string>;
    for (const key of ["job-name", "batch.kubernetes.io/job-name"]) labels[key] ??= meta.name ?? "";
    for (const key of ["controller-uid", "batch.kubernetes.io/controller-uid"]) {
      labels[key] ??= meta.uid ?? "";
    }
    templateMeta.labels = labels;
    template.metadata = templateMeta;
    spec.template = template;
    const selector = obj(spec.selector);
    const matchLabels = obj(selector.matchLabels) as Record<string, string>;
    matchLabels["batch.kubernetes.io/controller-uid"] ??= meta.uid ?? "";
    selector.matchLabels = matchLabels;
    spec.selector = selector;
  },
};

const TEMPLATE_GENERATION = "deprecated.daemonset.template.generation";

function templateGenerationOf(ds: KubeObject): number {
  const n = Number(ds.metadata?.annotations?.[TEMPLATE_GENERATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function setTemplateGeneration(ds: KubeObject, generation: number): void {
  const meta = metaOf(ds);
  meta.annotations = { ...meta.annotations, [TEMPLATE_GENERATION]: String(generation) };
}

/**
 * DaemonSets count template changes in the `deprecated.daemonset.template.generation`
 * annotation (upstream's spec.templateGeneration as apps/v1 shows it): 1 on create, one more on
 * every update that changes the template; clients cannot set it.
 */
export const daemonSetStrategy: Strategy = {
  tracksGeneration: true,
  prepareForCreate(ds) {
    setTemplateGeneration(ds, Math.max(1, templateGenerationOf(ds)));
  },
  prepareForUpdate(ds, old) {
    const before = templateGenerationOf(old) || 1;
    const changed = !jsonEqual(obj(ds.spec).template ?? null, obj(old.spec).template ?? null);
    setTemplateGeneration(ds, changed ? before + 1 : before);
  },
};

/** The strategy for `group/resource`, from the table above and the special kinds. */
export function strategyFor(
  group: string,
  resource: string,
  pods: PodStrategyOptions,
  services?: ServiceAllocators,
): Strategy {
  const gr = `${group}/${resource}`;
  if (gr === "/pods") return { ...podStrategy(pods) };
  if (gr === "/services" && services) return serviceStrategy(services);
  if (gr === "/namespaces") return namespaceStrategy;
  if (gr === "/secrets") return secretStrategy;
  if (gr === "/persistentvolumeclaims" || gr === "/persistentvolumes") return volumeStrategy;
  if (gr === "batch/jobs") return jobStrategy;
  if (gr === "apps/daemonsets") return daemonSetStrategy;
  return {
    tracksGeneration: TRACKS_GENERATION.has(gr),
    allowCreateOnUpdate: CREATE_ON_UPDATE.has(gr),
    // A kubelet registers its Node with capacity and conditions in one create.
    keepStatusOnCreate: gr === "/nodes",
  };
}
