/**
 * Defaults of pods and of everything a pod spec holds: containers (init, app and ephemeral),
 * their ports, env, probes and lifecycle hooks, and volumes. `defaultPodSpec` applies wherever
 * a pod spec occurs (pods and every pod template); `defaultPod` adds what only a Pod gets.
 */

import { defaultPullPolicy } from "./image.ts";
import {
  child,
  eachObject,
  isNonEmptyMap,
  isObject,
  isUnset,
  type Obj,
  setDefault,
  setDefaultNumber,
  setDefaultString,
  structChild,
} from "./util.ts";
import { defaultObjectFieldSelector, defaultVolume } from "./volumes.ts";

export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

/** An HTTP probe or hook requests `/` over plain HTTP unless told otherwise. */
export function defaultHTTPGetAction(action: Obj): void {
  setDefaultString(action, "path", "/");
  setDefaultString(action, "scheme", "HTTP");
}

/** A gRPC probe checks the server's overall health (service "") unless it names a service. */
export function defaultGRPCAction(action: Obj): void {
  setDefault(action, "service", "");
}

/** A probe runs every 10s with a 1s timeout; one success passes it, three failures fail it. */
export function defaultProbe(probe: Obj): void {
  setDefaultNumber(probe, "timeoutSeconds", 1);
  setDefaultNumber(probe, "periodSeconds", 10);
  setDefaultNumber(probe, "successThreshold", 1);
  setDefaultNumber(probe, "failureThreshold", 3);
  const httpGet = child(probe, "httpGet");
  if (httpGet) defaultHTTPGetAction(httpGet);
  const grpc = child(probe, "grpc");
  if (grpc) defaultGRPCAction(grpc);
}

/** A postStart or preStop hook. */
export function defaultLifecycleHandler(handler: Obj): void {
  const httpGet = child(handler, "httpGet");
  if (httpGet) defaultHTTPGetAction(httpGet);
}

export function defaultContainerPort(port: Obj): void {
  setDefaultString(port, "protocol", "TCP");
}

export function defaultEnvVar(env: Obj): void {
  const valueFrom = child(env, "valueFrom");
  const fieldRef = valueFrom && child(valueFrom, "fieldRef");
  if (fieldRef) defaultObjectFieldSelector(fieldRef);
}

/**
 * One container of any kind (init, app, ephemeral): pull policy from the image tag, where the
 * termination message goes, and the defaults of its ports, env, probes and hooks. `resources`
 * is always present (`{}` when empty) in what the API server returns.
 */
export function defaultContainer(container: Obj): void {
  setDefaultString(container, "imagePullPolicy", defaultPullPolicy(container.image));
  setDefaultString(container, "terminationMessagePath", DEFAULT_TERMINATION_MESSAGE_PATH);
  setDefaultString(container, "terminationMessagePolicy", "File");
  eachObject(container, "ports", defaultContainerPort);
  eachObject(container, "env", defaultEnvVar);
  for (const key of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const probe = child(container, key);
    if (probe) defaultProbe(probe);
  }
  const lifecycle = child(container, "lifecycle");
  if (lifecycle) {
    for (const key of ["postStart", "preStop"]) {
      const handler = child(lifecycle, key);
      if (handler) defaultLifecycleHandler(handler);
    }
  }
  structChild(container, "resources");
}

/** An ephemeral container takes the same defaults as any other. */
export const defaultEphemeralContainer = defaultContainer;

/**
 * `serviceAccount` is the deprecated spelling of `serviceAccountName`: a pod spec naming only
 * the old field reads back with both, and the new field wins when they differ.
 */
export function syncDeprecatedServiceAccount(spec: Obj): void {
  const name = spec.serviceAccountName;
  const deprecated = spec.serviceAccount;
  if ((isUnset(name) || name === "") && typeof deprecated === "string" && deprecated !== "") {
    spec.serviceAccountName = deprecated;
  }
  const effective = spec.serviceAccountName;
  if (
    typeof effective === "string" && effective !== "" &&
    (isUnset(deprecated) || typeof deprecated === "string")
  ) {
    spec.serviceAccount = effective;
  }
}

/** Defaults of a pod spec, in a Pod or in any pod template. */
export function defaultPodSpec(spec: Obj): void {
  setDefaultString(spec, "dnsPolicy", "ClusterFirst");
  setDefaultString(spec, "restartPolicy", "Always");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
  setDefaultString(spec, "schedulerName", DEFAULT_SCHEDULER_NAME);
  eachObject(spec, "volumes", defaultVolume);
  eachObject(spec, "initContainers", defaultContainer);
  eachObject(spec, "containers", defaultContainer);
  eachObject(spec, "ephemeralContainers", defaultEphemeralContainer);
  syncDeprecatedServiceAccount(spec);
}

/** A pod template (Deployment, Job, PodTemplate, …): its spec. */
export function defaultPodTemplateSpec(template: Obj): void {
  const spec = structChild(template, "spec");
  if (spec) defaultPodSpec(spec);
}

/** A container that states limits but no request for a resource requests its limit. */
export function defaultRequestsFromLimits(container: Obj): void {
  const resources = child(container, "resources");
  const limits = resources && child(resources, "limits");
  if (!resources || !isNonEmptyMap(limits)) return;
  if (isUnset(resources.requests)) resources.requests = {};
  const requests = resources.requests;
  if (!isObject(requests)) return;
  for (const [name, quantity] of Object.entries(limits)) {
    if (!(name in requests)) requests[name] = quantity;
  }
}

/** With host networking, each container port is also a host port of the same number. */
export function defaultHostNetworkPorts(container: Obj): void {
  eachObject(container, "ports", (port) => {
    const containerPort = port.containerPort;
    if (
      (isUnset(port.hostPort) || port.hostPort === 0) && typeof containerPort === "number" &&
      containerPort !== 0
    ) {
      port.hostPort = containerPort;
    }
  });
}

/**
 * A Pod (not a template): requests from limits for init and app containers, service links on,
 * host ports under host networking, then the pod spec's own defaults.
 */
export function defaultPod(pod: Obj): void {
  const spec = structChild(pod, "spec");
  if (!spec) return;
  eachObject(spec, "containers", defaultRequestsFromLimits);
  eachObject(spec, "initContainers", defaultRequestsFromLimits);
  setDefault(spec, "enableServiceLinks", true);
  if (spec.hostNetwork === true) {
    eachObject(spec, "containers", defaultHostNetworkPorts);
    eachObject(spec, "initContainers", defaultHostNetworkPorts);
  }
  defaultPodSpec(spec);
}
