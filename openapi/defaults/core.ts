/**
 * Defaults of the core group's kinds other than Pods and what a pod spec holds (pod.ts) and
 * volume sources (volumes.ts). Kinds absent here (ConfigMap, ServiceAccount, ResourceQuota, …) have
 * no defaults.
 */

import { defaultPodTemplateSpec } from "./pod.ts";
import {
  child,
  cloneJson,
  eachObject,
  isEmptyMap,
  isNonEmptyArray,
  isNonEmptyMap,
  isObject,
  isUnset,
  type Obj,
  setDefault,
  setDefaultString,
  structChild,
} from "./util.ts";
import { defaultPersistentVolumeClaimSpec, defaultPersistentVolumeSource } from "./volumes.ts";

/** How long (three hours) ClientIP session affinity sticks when no timeout is named. */
export const DEFAULT_CLIENT_IP_SESSION_AFFINITY_SECONDS = 10800;

/** The label every named namespace carries with its own name. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** A ServicePort: TCP, and the target port is the service port unless named. */
export function defaultServicePort(port: Obj): void {
  setDefaultString(port, "protocol", "TCP");
  const target = port.targetPort;
  if ((isUnset(target) || target === 0 || target === "") && typeof port.port === "number") {
    port.targetPort = port.port;
  }
}

function defaultSessionAffinityConfig(spec: Obj): void {
  const config = spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "None") {
    if (isUnset(config) || isObject(config)) delete spec.sessionAffinityConfig;
    return;
  }
  if (spec.sessionAffinity !== "ClientIP") return;
  const fresh = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_SESSION_AFFINITY_SECONDS } };
  if (isUnset(config)) {
    spec.sessionAffinityConfig = fresh;
    return;
  }
  if (!isObject(config)) return;
  const clientIP = config.clientIP;
  if (isUnset(clientIP) || (isObject(clientIP) && isUnset(clientIP.timeoutSeconds))) {
    spec.sessionAffinityConfig = fresh;
  }
}

/** Whether traffic reaches the service from outside the cluster (node ports, LBs, external IPs). */
function externallyAccessible(spec: Obj): boolean {
  return spec.type === "LoadBalancer" || spec.type === "NodePort" ||
    (spec.type === "ClusterIP" && isNonEmptyArray(spec.externalIPs));
}

/**
 * A Service. Cluster IPs, IP families and node ports are allocated elsewhere, not defaulted.
 */
export function defaultService(service: Obj): void {
  const spec = structChild(service, "spec");
  if (!spec) return;
  setDefaultString(spec, "sessionAffinity", "None");
  defaultSessionAffinityConfig(spec);
  setDefaultString(spec, "type", "ClusterIP");
  eachObject(spec, "ports", defaultServicePort);
  if (externallyAccessible(spec)) setDefaultString(spec, "externalTrafficPolicy", "Cluster");
  if (spec.type === "NodePort" || spec.type === "LoadBalancer" || spec.type === "ClusterIP") {
    setDefault(spec, "internalTrafficPolicy", "Cluster");
  }
  if (spec.type === "LoadBalancer") {
    setDefault(spec, "allocateLoadBalancerNodePorts", true);
    defaultLoadBalancerIngressIPMode(service);
  }
}

/** A load balancer's ingress point reached by IP is a virtual IP unless said otherwise. */
function defaultLoadBalancerIngressIPMode(service: Obj): void {
  const status = child(service, "status");
  const loadBalancer = status && child(status, "loadBalancer");
  if (!loadBalancer) return;
  eachObject(loadBalancer, "ingress", (ingress) => {
    if (typeof ingress.ip === "string" && ingress.ip !== "") setDefault(ingress, "ipMode", "VIP");
  });
}

/** A named Namespace carries its name as a label; a new one is Active. */
export function defaultNamespace(namespace: Obj): void {
  const metadata = child(namespace, "metadata");
  const name = metadata?.name;
  if (metadata && typeof name === "string" && name !== "") {
    if (isUnset(metadata.labels)) metadata.labels = {};
    const labels = metadata.labels;
    if (isObject(labels)) labels[NAMESPACE_NAME_LABEL] = name;
  }
  const status = structChild(namespace, "status");
  if (status) setDefaultString(status, "phase", "Active");
}

export function defaultSecret(secret: Obj): void {
  setDefaultString(secret, "type", "Opaque");
}

export function defaultEndpoints(endpoints: Obj): void {
  eachObject(endpoints, "subsets", (subset) => {
    eachObject(subset, "ports", (port) => setDefaultString(port, "protocol", "TCP"));
  });
}

/**
 * A PersistentVolume keeps its data when released and is a filesystem unless said otherwise.
 * Its status is its strategy's business.
 */
export function defaultPersistentVolume(volume: Obj): void {
  const spec = structChild(volume, "spec");
  if (!spec) return;
  setDefaultString(spec, "persistentVolumeReclaimPolicy", "Retain");
  setDefault(spec, "volumeMode", "Filesystem");
  defaultPersistentVolumeSource(spec);
}

/** A PersistentVolumeClaim's spec. Its status (phase Pending) is its strategy's business. */
export function defaultPersistentVolumeClaim(claim: Obj): void {
  const spec = structChild(claim, "spec");
  if (spec) defaultPersistentVolumeClaimSpec(spec);
}

/** A Node that reports capacity but no allocatable has all of its capacity allocatable. */
export function defaultNode(node: Obj): void {
  const status = child(node, "status");
  if (!status || !isUnset(status.allocatable) || !isNonEmptyMap(status.capacity)) return;
  status.allocatable = cloneJson(status.capacity);
}

/** Adds to the map at `obj[key]` each entry of `from` it lacks; makes the map when needed. */
function fillMissing(obj: Obj, key: string, from: unknown): void {
  if (!isNonEmptyMap(from)) return;
  if (isUnset(obj[key])) obj[key] = {};
  const to = obj[key];
  if (!isObject(to)) return;
  for (const [name, quantity] of Object.entries(from)) {
    if (!(name in to)) to[name] = cloneJson(quantity);
  }
}

/**
 * A LimitRange item for containers: the default limit is the max, the default request is the
 * default limit, else the min.
 */
export function defaultLimitRangeItem(item: Obj): void {
  if (item.type !== "Container") return;
  fillMissing(item, "default", item.max);
  fillMissing(item, "defaultRequest", item.default);
  fillMissing(item, "defaultRequest", item.min);
}

export function defaultLimitRange(limitRange: Obj): void {
  const spec = structChild(limitRange, "spec");
  if (spec) eachObject(spec, "limits", defaultLimitRangeItem);
}

/**
 * A ReplicationController: one replica; the template's labels stand in for a missing selector
 * and for the controller's own missing labels.
 */
export function defaultReplicationController(controller: Obj): void {
  const spec = structChild(controller, "spec");
  if (!spec) return;
  setDefault(spec, "replicas", 1);
  const template = child(spec, "template");
  if (!template) return;
  const templateMetadata = child(template, "metadata");
  const labels = templateMetadata?.labels;
  if (isNonEmptyMap(labels)) {
    if (isEmptyMap(spec.selector)) spec.selector = cloneJson(labels);
    const metadata = structChild(controller, "metadata");
    if (metadata && isEmptyMap(metadata.labels)) metadata.labels = cloneJson(labels);
  }
  defaultPodTemplateSpec(template);
}

export function defaultPodTemplate(podTemplate: Obj): void {
  const template = structChild(podTemplate, "template");
  if (template) defaultPodTemplateSpec(template);
}

/** A core Event always reads back with its reporting component and instance, empty or not. */
export function defaultEvent(event: Obj): void {
  setDefault(event, "reportingComponent", "");
  setDefault(event, "reportingInstance", "");
}
