/**
 * Defaults of networking.k8s.io (NetworkPolicy, IngressClass) and discovery.k8s.io
 * (EndpointSlice). Ingress, IngressClass without parameters, IPAddress and ServiceCIDR have none.
 */

import {
  child,
  eachObject,
  isNonEmptyArray,
  type Obj,
  setDefault,
  setDefaultArray,
  structChild,
} from "./util.ts";

function defaultNetworkPolicyPorts(rule: Obj): void {
  eachObject(rule, "ports", (port) => setDefault(port, "protocol", "TCP"));
}

/**
 * A NetworkPolicy: its pod selector is always present (`{}` selects every pod); a policy that
 * lists no policy types restricts ingress, and egress too when it has egress rules; ports are
 * TCP unless named.
 */
export function defaultNetworkPolicy(policy: Obj): void {
  const spec = structChild(policy, "spec");
  if (!spec) return;
  structChild(spec, "podSelector");
  setDefaultArray(spec, "policyTypes", isNonEmptyArray(spec.egress) ? ["Ingress", "Egress"] : ["Ingress"]);
  eachObject(spec, "ingress", defaultNetworkPolicyPorts);
  eachObject(spec, "egress", defaultNetworkPolicyPorts);
}

/** An IngressClass's parameters are cluster-scoped unless said otherwise. */
export function defaultIngressClass(ingressClass: Obj): void {
  const spec = child(ingressClass, "spec");
  const parameters = spec && child(spec, "parameters");
  if (parameters) setDefault(parameters, "scope", "Cluster");
}

/**
 * An EndpointSlice: ports are unnamed ("") and TCP unless said otherwise; every endpoint reads
 * back with its `conditions` (`{}` when none is known).
 */
export function defaultEndpointSlice(slice: Obj): void {
  eachObject(slice, "ports", (port) => {
    setDefault(port, "name", "");
    setDefault(port, "protocol", "TCP");
  });
  eachObject(slice, "endpoints", (endpoint) => {
    structChild(endpoint, "conditions");
  });
}
