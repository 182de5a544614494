/**
 * Services: cluster IPs, node ports and health-check node ports handed out as kube-apiserver
 * v1.33 does it (single-stack IPv4), plus the type-dependent field rules of its service strategy.
 *
 * The work is split over the store's phases:
 * - `prepareForCreate` / `prepareForUpdate` (before validation, no I/O): keep values the client
 *   left out on update, sync `clusterIP` with `clusterIPs`, settle `ipFamilyPolicy` and
 *   `ipFamilies`, and drop fields the new `type` no longer uses;
 * - `beforeCreate` / `beforeUpdate` (after validation, before the write): reserve IPs and ports
 *   and fill them in; the returned reservation frees new values if the write fails and frees
 *   values the change gave up once it succeeds;
 * - `afterDelete`: free what the deleted Service held.
 * `repairServiceAllocations` makes the allocators agree with the stored Services at start.
 */

import type { Store } from "../../../storage/store.ts";
import { type KubeObject, metaOf } from "../../../machinery/object_meta.ts";
import {
  field,
  type FieldError,
  internalError,
  invalid,
  type StatusError,
} from "../../../machinery/status.ts";
import type { Reservation, Strategy, StrategyContext } from "../strategy.ts";
import { defaultKeyPrefix } from "../resource_store.ts";
import { canonicalIp, IpAllocator, type IpOwner, isIPv6, parseIPv4 } from "../allocators/ip_allocator.ts";
import { DEFAULT_NODE_PORT_RANGE, PortAllocator } from "../allocators/port_allocator.ts";
import { AllocationError, isAllocationError } from "../allocators/errors.ts";

/** The service cluster IP range a cluster starts with (`--service-cluster-ip-range`). */
export const DEFAULT_SERVICE_CIDR = "10.96.0.0/12";

export interface ServiceAllocators {
  ips: IpAllocator;
  nodePorts: PortAllocator;
}

export interface ServiceAllocatorOptions {
  /** IPv4 CIDR (default `10.96.0.0/12`). */
  serviceClusterIPRange?: string;
  /** `first-last` (default `30000-32767`). */
  serviceNodePortRange?: string;
  random?: () => number;
  now?: () => number;
}

/** The allocators of one cluster, keeping their state in `store`. */
export function createServiceAllocators(
  store: Store,
  options: ServiceAllocatorOptions = {},
): ServiceAllocators {
  return {
    ips: new IpAllocator(store, {
      cidr: options.serviceClusterIPRange ?? DEFAULT_SERVICE_CIDR,
      keyPrefix: defaultKeyPrefix({ group: "networking.k8s.io", resource: "ipaddresses" }),
      random: options.random,
      now: options.now,
    }),
    nodePorts: new PortAllocator(store, {
      range: options.serviceNodePortRange ?? DEFAULT_NODE_PORT_RANGE,
      random: options.random,
      now: options.now,
    }),
  };
}

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[] | null;
  ipFamilies?: string[] | null;
  ipFamilyPolicy?: string | null;
  selector?: Record<string, string> | null;
  ports?: ServicePort[] | null;
  healthCheckNodePort?: number;
  externalTrafficPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean | null;
  loadBalancerClass?: string | null;
}

const NONE = "None";
const CONFIGURED_FAMILIES = new Set(["IPv4"]);
const SUPPORTED_FAMILIES = ["IPv4", "IPv6"];
const SUPPORTED_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"];

function specOf(svc: KubeObject): ServiceSpec {
  if (svc.spec === null || typeof svc.spec !== "object" || Array.isArray(svc.spec)) svc.spec = {};
  return svc.spec as ServiceSpec;
}

function typeOf(svc: KubeObject): string {
  return specOf(svc).type || "ClusterIP";
}

function portsOf(svc: KubeObject): ServicePort[] {
  const ports = specOf(svc).ports;
  return Array.isArray(ports) ? ports.filter((p) => p !== null && typeof p === "object") : [];
}

function nodePortOf(p: ServicePort): number {
  return typeof p.nodePort === "number" ? p.nodePort : 0;
}

function clusterIPsOf(svc: KubeObject): string[] {
  const ips = specOf(svc).clusterIPs;
  return Array.isArray(ips) ? ips : [];
}

function needsClusterIP(svc: KubeObject): boolean {
  return typeOf(svc) !== "ExternalName";
}

function needsNodePort(svc: KubeObject): boolean {
  const type = typeOf(svc);
  return type === "NodePort" || type === "LoadBalancer";
}

function needsHealthCheckNodePort(svc: KubeObject): boolean {
  return typeOf(svc) === "LoadBalancer" && specOf(svc).externalTrafficPolicy === "Local";
}

function shouldAllocateNodePorts(svc: KubeObject): boolean {
  const type = typeOf(svc);
  if (type === "NodePort") return true;
  if (type === "LoadBalancer") return specOf(svc).allocateLoadBalancerNodePorts !== false;
  return false;
}

function isHeadless(svc: KubeObject): boolean {
  return clusterIPsOf(svc)[0] === NONE;
}

function hasSelector(svc: KubeObject): boolean {
  const selector = specOf(svc).selector;
  return !!selector && typeof selector === "object" && !Array.isArray(selector) &&
    Object.keys(selector).length > 0;
}

function familiesOf(svc: KubeObject): string[] {
  const families = specOf(svc).ipFamilies;
  return Array.isArray(families) ? families : [];
}

function healthCheckNodePortOf(svc: KubeObject): number {
  const port = specOf(svc).healthCheckNodePort;
  return typeof port === "number" ? port : 0;
}

function sameStrings(a: unknown, b: unknown): boolean {
  const x = Array.isArray(a) ? a : [];
  const y = Array.isArray(b) ? b : [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameClusterIPs(a: KubeObject, b: KubeObject): boolean {
  return (specOf(a).clusterIP ?? "") === (specOf(b).clusterIP ?? "") &&
    sameStrings(clusterIPsOf(a), clusterIPsOf(b));
}

function familyOf(ip: unknown): string {
  if (typeof ip !== "string") return "unknown";
  if (parseIPv4(ip) !== undefined) return "IPv4";
  if (isIPv6(ip)) return "IPv6";
  return "unknown";
}

function nodePortsOf(svc: KubeObject): number[] {
  return portsOf(svc).map(nodePortOf).filter((p) => p !== 0);
}

/** A string list as Go's `%#v` prints it in field errors: `[]string{"a", "b"}`. */
function goStrings(values: unknown): string {
  if (!Array.isArray(values)) return "[]string(nil)";
  return `[]string{${values.map((v) => JSON.stringify(String(v))).join(", ")}}`;
}

/** An Invalid field error whose value is a string list, printed as upstream prints it. */
function invalidStrings(path: string, values: unknown, detail: string): FieldError {
  return {
    type: "FieldValueInvalid",
    field: path,
    value: values,
    omitValue: true,
    detail: `${goStrings(values)}: ${detail}`,
  };
}

function serviceInvalid(svc: KubeObject, errors: FieldError[]): StatusError {
  return invalid("", "Service", metaOf(svc).name ?? "", errors);
}

/** `clusterIP` and `clusterIPs` kept in step for clients that set only the singular field. */
function normalizeClusterIPs(svc: KubeObject, old?: KubeObject): void {
  const spec = specOf(svc);
  const clusterIP = spec.clusterIP ?? "";
  if (!old) {
    if (clusterIP && clusterIPsOf(svc).length === 0) spec.clusterIPs = [clusterIP];
    return;
  }
  const oldSpec = specOf(old);
  const oldIPs = clusterIPsOf(old);
  if (oldIPs.length > 0 && clusterIPsOf(svc).length === 0 && (oldSpec.clusterIP ?? "") === clusterIP) {
    spec.clusterIPs = [...oldIPs];
  }
  if ((oldSpec.clusterIP ?? "") !== clusterIP) {
    if (oldSpec.clusterIP && !clusterIP) {
      if (sameStrings(clusterIPsOf(svc), oldIPs)) delete spec.clusterIPs;
    } else if (sameStrings(clusterIPsOf(svc), oldIPs)) {
      spec.clusterIPs = [clusterIP];
    }
  }
}

/**
 * Fills the IP fields of a Service stored before they were kept (only `clusterIP`, no
 * `clusterIPs` or families), so an update compares against what a current one would hold.
 */
function defaultStoredIPFields(svc: KubeObject): void {
  if (!needsClusterIP(svc)) return;
  const spec = specOf(svc);
  if (spec.clusterIP && clusterIPsOf(svc).length === 0) spec.clusterIPs = [spec.clusterIP];
  if (familiesOf(svc).length > 0 || clusterIPsOf(svc).length === 0) return;
  if (spec.clusterIP === NONE) {
    spec.ipFamilyPolicy = hasSelector(svc) ? "SingleStack" : "RequireDualStack";
    spec.ipFamilies = hasSelector(svc) ? ["IPv4"] : ["IPv4", "IPv6"];
  } else {
    spec.ipFamilies = clusterIPsOf(svc).map((ip) => familyOf(ip) === "IPv6" ? "IPv6" : "IPv4");
    spec.ipFamilyPolicy = spec.ipFamilies.length === 2 ? "RequireDualStack" : "SingleStack";
  }
}

/** Values allocated for the client come back when an update leaves them out (re-applied YAML). */
function patchAllocatedValues(svc: KubeObject, old: KubeObject): void {
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (clusterIPsOf(svc).length === 0 && clusterIPsOf(old).length > 0) {
      spec.clusterIPs = [...clusterIPsOf(old)];
    }
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const newUsed = new Set(nodePortsOf(svc));
    const used = new Set(nodePortsOf(old).filter((p) => newUsed.has(p)));
    const byName = new Map<string, number>();
    for (const p of portsOf(old)) byName.set(p.name ?? "", nodePortOf(p));
    for (const p of portsOf(svc)) {
      if (nodePortOf(p) !== 0) continue;
      const previous = byName.get(p.name ?? "") ?? 0;
      if (previous && !used.has(previous)) p.nodePort = previous;
    }
  }
  if (
    needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && !healthCheckNodePortOf(svc) &&
    healthCheckNodePortOf(old)
  ) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

/** Whether both are PreferDualStack with the same IPs and families (nothing to settle again). */
function isMatchingPreferDualStack(svc: KubeObject, old?: KubeObject): boolean {
  if (!old) return false;
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (!spec.ipFamilyPolicy || typeOf(old) !== typeOf(svc) || !needsClusterIP(svc)) return false;
  if (spec.ipFamilyPolicy !== "PreferDualStack") return false;
  if (oldSpec.ipFamilyPolicy && oldSpec.ipFamilyPolicy !== "PreferDualStack") return false;
  return sameStrings(clusterIPsOf(old), clusterIPsOf(svc)) &&
    sameStrings(oldSpec.ipFamilies, spec.ipFamilies);
}

/** The checks of the IP fields upstream runs before allocating (its loose pre-validation). */
function validateClusterIPFields(svc: KubeObject): FieldError[] {
  const spec = specOf(svc);
  const errors: FieldError[] = [];
  const ips = clusterIPsOf(svc);
  if (spec.clusterIP) {
    if (ips.length === 0) errors.push(field.required("spec.clusterIPs"));
    else if (ips[0] !== spec.clusterIP) {
      errors.push(invalidStrings("spec.clusterIPs", ips, "first value must match `clusterIP`"));
    }
  } else if (ips.length !== 0) {
    errors.push(invalidStrings("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"));
  }
  const seen = new Set<string>();
  familiesOf(svc).forEach((family, i) => {
    if (!SUPPORTED_FAMILIES.includes(family)) {
      errors.push(field.notSupported(`spec.ipFamilies[${i}]`, family, SUPPORTED_FAMILIES));
    }
    if (seen.has(family)) errors.push(field.duplicate(`spec.ipFamilies[${i}]`, family));
    seen.add(family);
  });
  if (spec.ipFamilyPolicy && !SUPPORTED_POLICIES.includes(spec.ipFamilyPolicy)) {
    errors.push(field.notSupported("spec.ipFamilyPolicy", spec.ipFamilyPolicy, SUPPORTED_POLICIES));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === NONE) {
      if (ips.length > 1) {
        badIPs = true;
        errors.push(invalidStrings("spec.clusterIPs", ips, "'None' must be the first and only value"));
      }
      return;
    }
    if (familyOf(ip) === "unknown") {
      badIPs = true;
      errors.push(
        field.invalid(
          `spec.clusterIPs[${i}]`,
          ip,
          "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ),
      );
    }
  });
  if (ips.length > 2) errors.push(invalidStrings("spec.clusterIPs", ips, "may only hold up to 2 values"));
  if (badIPs) return errors;
  if (ips.length > 1 && familyOf(ips[0]) === familyOf(ips[1])) {
    errors.push(invalidStrings("spec.clusterIPs", ips, "may specify no more than one IP for each IP family"));
  }
  const families = familiesOf(svc);
  if (!isHeadless(svc)) {
    ips.forEach((ip, i) => {
      if (i >= families.length) return;
      if (families[i] === "IPv4" && familyOf(ip) === "IPv6") {
        errors.push(
          field.invalid(
            `spec.clusterIPs[${i}]`,
            ip,
            `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``,
          ),
        );
      }
      if (families[i] === "IPv6" && familyOf(ip) !== "IPv6") {
        errors.push(
          field.invalid(
            `spec.clusterIPs[${i}]`,
            ip,
            `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``,
          ),
        );
      }
    });
  }
  return errors;
}

/** Settles `ipFamilyPolicy` and `ipFamilies` for this single-stack IPv4 cluster; throws Invalid. */
function initIPFamilyFields(svc: KubeObject, old?: KubeObject): void {
  if (!needsClusterIP(svc)) return;
  if (isMatchingPreferDualStack(svc, old)) return;
  const spec = specOf(svc);
  if (!spec.ipFamilyPolicy) {
    if (old && specOf(old).ipFamilyPolicy) spec.ipFamilyPolicy = specOf(old).ipFamilyPolicy;
    else if (spec.clusterIP === NONE && !hasSelector(svc)) spec.ipFamilyPolicy = "RequireDualStack";
    else spec.ipFamilyPolicy = "SingleStack";
  }
  const pre = validateClusterIPFields(svc);
  if (pre.length) throw serviceInvalid(svc, pre);

  const errors: FieldError[] = [];
  const policy = spec.ipFamilyPolicy;
  if (old) {
    if (policy === "SingleStack") {
      if (sameStrings(clusterIPsOf(old), clusterIPsOf(svc)) && clusterIPsOf(svc).length > 1) {
        spec.clusterIPs = clusterIPsOf(svc).slice(0, 1);
      }
      if (sameStrings(specOf(old).ipFamilies, spec.ipFamilies) && familiesOf(svc).length > 1) {
        spec.ipFamilies = familiesOf(svc).slice(0, 1);
      }
    } else {
      const ips = clusterIPsOf(svc);
      if (ips.length > 0 && ips.length < clusterIPsOf(old).length) {
        errors.push(
          field.invalid(
            "spec.ipFamilyPolicy",
            policy,
            "must be 'SingleStack' to release the secondary cluster IP",
          ),
        );
      }
      const families = familiesOf(svc);
      if (families.length > 0 && families.length < familiesOf(old).length) {
        errors.push(
          field.invalid(
            "spec.ipFamilyPolicy",
            policy,
            "must be 'SingleStack' to release the secondary IP family",
          ),
        );
      }
    }
  }
  if (policy === "SingleStack") {
    if (clusterIPsOf(svc).length === 2) {
      errors.push(
        field.invalid(
          "spec.ipFamilyPolicy",
          policy,
          "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
        ),
      );
    }
    if (familiesOf(svc).length === 2) {
      errors.push(
        field.invalid(
          "spec.ipFamilyPolicy",
          policy,
          "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
        ),
      );
    }
  }
  const families = [...familiesOf(svc)];
  const ips = clusterIPsOf(svc);
  for (let i = 0; i < ips.length; i++) {
    if (ips[i] === NONE) break;
    const family = familyOf(ips[i]);
    if (i >= families.length) {
      if (!CONFIGURED_FAMILIES.has(family)) {
        errors.push(
          invalidStrings(`spec.clusterIPs[${i}]`, ips, `${family} is not configured on this cluster`),
        );
      } else {
        families.push(family);
      }
    }
  }
  if (errors.length) throw serviceInvalid(svc, errors);
  if (families.length) spec.ipFamilies = families;

  // Headless without a selector may name any families, even on a single-stack cluster.
  if (spec.clusterIP === NONE && !hasSelector(svc)) {
    if (families.length === 0) families.push("IPv4");
    if (families.length < 2 && policy !== "SingleStack") {
      families.push(families[0] === "IPv4" ? "IPv6" : "IPv4");
    }
    spec.ipFamilies = families;
    return;
  }
  if (policy === "RequireDualStack") {
    errors.push(
      field.invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services"),
    );
  }
  families.forEach((family, i) => {
    if (!CONFIGURED_FAMILIES.has(family)) {
      errors.push(field.invalid(`spec.ipFamilies[${i}]`, family, "not configured on this cluster"));
    }
  });
  if (errors.length) throw serviceInvalid(svc, errors);
  spec.ipFamilies = families.length ? families : ["IPv4"];
}

/**
 * Fields the new `type` does not use are dropped on the client's behalf when the client left
 * them as they were (they are freed later); changed ones stay for validation to refuse.
 */
function dropTypeDependentFields(svc: KubeObject, old: KubeObject): void {
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (sameClusterIPs(old, svc)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(oldSpec.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if ((oldSpec.ipFamilyPolicy ?? "") === (spec.ipFamilyPolicy ?? "")) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(svc)) {
    const oldPorts = new Set(nodePortsOf(old));
    if (nodePortsOf(svc).every((p) => oldPorts.has(p))) {
      for (const p of portsOf(svc)) delete p.nodePort;
    }
  }
  if (
    needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(svc) &&
    healthCheckNodePortOf(old) === healthCheckNodePortOf(svc)
  ) {
    delete spec.healthCheckNodePort;
  }
  if (typeOf(old) === "LoadBalancer" && typeOf(svc) !== "LoadBalancer") {
    if (
      typeof spec.allocateLoadBalancerNodePorts === "boolean" &&
      spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts
    ) delete spec.allocateLoadBalancerNodePorts;
    if ((spec.loadBalancerClass ?? null) === (oldSpec.loadBalancerClass ?? null)) {
      delete spec.loadBalancerClass;
    }
  }
  if (
    needsNodePort(old) && !needsNodePort(svc) &&
    (spec.externalTrafficPolicy ?? "") === (oldSpec.externalTrafficPolicy ?? "")
  ) {
    delete spec.externalTrafficPolicy;
  }
  if (typeOf(svc) !== "LoadBalancer") {
    const status = svc.status !== null && typeof svc.status === "object"
      ? svc.status as Record<string, unknown>
      : {};
    svc.status = { ...status, loadBalancer: {} };
  }
}

/**
 * The IPs and ports one write reserved. New values are taken at once (leaking beats handing a
 * value out twice); values the write gives up are freed only after it is stored.
 */
class AllocationTxn implements Reservation {
  readonly #alloc: ServiceAllocators;
  readonly #owner: IpOwner;
  readonly dryRun: boolean;
  readonly #newIps: string[] = [];
  readonly #newPorts: number[] = [];
  readonly #oldIps: string[] = [];
  readonly #oldPorts: number[] = [];

  constructor(alloc: ServiceAllocators, svc: KubeObject, dryRun: boolean) {
    this.#alloc = alloc;
    const meta = metaOf(svc);
    this.#owner = { namespace: meta.namespace ?? "", name: meta.name ?? "" };
    this.dryRun = dryRun;
  }

  /** A free cluster IP (a dry run answers the network address and keeps nothing). */
  async nextIp(): Promise<string> {
    if (this.dryRun) return this.#alloc.ips.dryRunNext();
    const ip = await this.#alloc.ips.allocateNext(this.#owner);
    this.#newIps.push(ip);
    return ip;
  }

  async ip(ip: string): Promise<void> {
    if (this.dryRun) return this.#alloc.ips.checkDryRun(ip);
    await this.#alloc.ips.allocate(ip, this.#owner);
    this.#newIps.push(ip);
  }

  /** A free node port; a dry run makes one up above the last it handed out, as upstream does. */
  async nextPort(): Promise<number> {
    if (this.dryRun) {
      const port = (this.#newPorts.length ? Math.max(...this.#newPorts) : 32768) + 1;
      this.#newPorts.push(port);
      return port;
    }
    const port = await this.#alloc.nodePorts.allocateNext();
    this.#newPorts.push(port);
    return port;
  }

  async port(port: number): Promise<void> {
    if (this.dryRun) {
      if (this.#newPorts.includes(port) || await this.#alloc.nodePorts.has(port)) {
        throw new AllocationError("Allocated", "provided port is already allocated");
      }
      this.#newPorts.push(port);
      return;
    }
    await this.#alloc.nodePorts.allocate(port);
    this.#newPorts.push(port);
  }

  releaseIpLater(ip: string): void {
    this.#oldIps.push(ip);
  }

  releasePortLater(port: number): void {
    this.#oldPorts.push(port);
  }

  async commit(): Promise<void> {
    if (this.dryRun) return;
    await this.#free(this.#oldIps, this.#oldPorts, "freeing what the change gave up");
  }

  async rollback(): Promise<void> {
    if (this.dryRun) return;
    const ips = this.#newIps.splice(0);
    const ports = this.#newPorts.splice(0);
    await this.#free(ips, ports, "undoing allocations of a failed write");
  }

  async #free(ips: string[], ports: number[], what: string): Promise<void> {
    try {
      for (const ip of ips) await this.#alloc.ips.release(ip, this.#owner);
      await this.#alloc.nodePorts.releaseAll(ports);
    } catch (err) {
      // A leak, not a double allocation: the repair at the next start frees it.
      console.error(`Service ${this.#owner.namespace}/${this.#owner.name}: ${what} failed:`, err);
    }
  }
}

async function allocClusterIPs(svc: KubeObject, txn: AllocationTxn): Promise<void> {
  if (!needsClusterIP(svc) || isHeadless(svc)) return;
  const spec = specOf(svc);
  const families = familiesOf(svc).length ? familiesOf(svc) : ["IPv4"];
  const ips = [...clusterIPsOf(svc)];
  while (ips.length < families.length) ips.push("");
  for (let i = 0; i < families.length; i++) {
    let ip = ips[i];
    if (!ip) {
      try {
        ip = await txn.nextIp();
      } catch (err) {
        if (isAllocationError(err)) throw internalError(`failed to allocate a serviceIP: ${err.message}`);
        throw err;
      }
    } else {
      try {
        await txn.ip(ip);
      } catch (err) {
        if (!isAllocationError(err)) throw err;
        throw serviceInvalid(svc, [
          invalidStrings(
            "spec.clusterIPs",
            spec.clusterIPs ?? null,
            `failed to allocate IP ${ip}: ${err.message}`,
          ),
        ]);
      }
    }
    ips[i] = ip;
  }
  spec.clusterIPs = ips;
  if (ips.length) spec.clusterIP = ips[0];
}

function nodePortInvalid(svc: KubeObject, i: number, port: number, message: string): StatusError {
  return serviceInvalid(svc, [field.invalid(`spec.ports[${i}].nodePort`, port, message)]);
}

async function nextNodePort(txn: AllocationTxn): Promise<number> {
  try {
    return await txn.nextPort();
  } catch (err) {
    if (isAllocationError(err)) throw internalError(`failed to allocate a nodePort: ${err.message}`);
    throw err;
  }
}

/** Node ports of a new NodePort/LoadBalancer Service; ports sharing a number share a node port. */
async function initNodePorts(svc: KubeObject, txn: AllocationTxn): Promise<void> {
  const ports = portsOf(svc);
  const byPort = new Map<number, number>();
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i];
    if (nodePortOf(p) === 0 && !shouldAllocateNodePorts(svc)) continue;
    const shared = byPort.get(p.port ?? 0) ?? 0;
    if (shared === 0) {
      const requested = ports.find((q) => q.port === p.port && nodePortOf(q) !== 0);
      if (requested) {
        const np = nodePortOf(requested);
        try {
          await txn.port(np);
        } catch (err) {
          if (isAllocationError(err)) throw nodePortInvalid(svc, i, np, err.message);
          throw err;
        }
        p.nodePort = np;
        byPort.set(p.port ?? 0, np);
      } else {
        const np = await nextNodePort(txn);
        p.nodePort = np;
        byPort.set(p.port ?? 0, np);
      }
    } else if (nodePortOf(p) !== shared) {
      if (nodePortOf(p) === 0) {
        p.nodePort = shared;
      } else {
        try {
          await txn.port(nodePortOf(p));
        } catch (err) {
          if (isAllocationError(err)) throw nodePortInvalid(svc, i, nodePortOf(p), err.message);
          throw err;
        }
      }
    }
  }
}

async function allocHealthCheckNodePort(svc: KubeObject, txn: AllocationTxn): Promise<void> {
  const spec = specOf(svc);
  const requested = healthCheckNodePortOf(svc);
  try {
    if (requested) await txn.port(requested);
    else spec.healthCheckNodePort = await txn.nextPort();
  } catch (err) {
    if (!isAllocationError(err)) throw err;
    throw internalError(
      requested
        ? `failed to allocate requested HealthCheck NodePort ${requested}: ${err.message}`
        : `failed to allocate a HealthCheck NodePort 0: ${err.message}`,
    );
  }
}

async function allocateCreate(svc: KubeObject, txn: AllocationTxn): Promise<void> {
  await allocClusterIPs(svc, txn);
  if (needsNodePort(svc)) await initNodePorts(svc, txn);
  if (needsHealthCheckNodePort(svc)) await allocHealthCheckNodePort(svc, txn);
}

/** Refuses a change of the primary cluster IP (validation says so too; this keeps IPs unique without it). */
function checkClusterIPKept(svc: KubeObject, old: KubeObject): void {
  if (!needsClusterIP(old) || !needsClusterIP(svc)) return;
  const oldIPs = clusterIPsOf(old);
  const ips = clusterIPsOf(svc);
  if (oldIPs.length === 0 || ips[0] === oldIPs[0]) return;
  const detail = ips.length === 0 ? "primary clusterIP can not be unset" : "may not change once set";
  throw serviceInvalid(svc, [invalidStrings("spec.clusterIPs[0]", specOf(svc).clusterIPs ?? null, detail)]);
}

async function allocateUpdate(svc: KubeObject, old: KubeObject, txn: AllocationTxn): Promise<void> {
  // Cluster IPs.
  if (!isMatchingPreferDualStack(svc, old)) {
    if (!needsClusterIP(old) && needsClusterIP(svc)) {
      await allocClusterIPs(svc, txn);
    } else if (needsClusterIP(old) && !needsClusterIP(svc)) {
      if (!isHeadless(old)) { for (const ip of clusterIPsOf(old)) if (ip) txn.releaseIpLater(ip); }
    } else if (needsClusterIP(svc) && clusterIPsOf(old).length === 0 && clusterIPsOf(svc).length === 0) {
      // Stored before this server handed out IPs: it gets one now.
      await allocClusterIPs(svc, txn);
    }
  }

  // Node ports.
  const oldPorts = nodePortsOf(old);
  if (needsNodePort(old) && !needsNodePort(svc)) {
    for (const p of oldPorts) txn.releasePortLater(p);
  }
  if (needsNodePort(svc)) {
    const taken = new Set<number>();
    const seen = new Set<string>();
    const ports = portsOf(svc);
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (nodePortOf(p) === 0 && !shouldAllocateNodePorts(svc)) continue;
      let np = nodePortOf(p);
      if (np !== 0) {
        if (!oldPorts.includes(np) && !taken.has(np)) {
          try {
            await txn.port(np);
          } catch (err) {
            if (isAllocationError(err)) throw nodePortInvalid(svc, i, np, err.message);
            throw err;
          }
          taken.add(np);
        }
      } else {
        np = await nextNodePort(txn);
        p.nodePort = np;
      }
      const id = `{${p.protocol ?? "TCP"} ${np}}`;
      if (seen.has(id)) throw internalError(`duplicate nodePort: ${id}`);
      seen.add(id);
    }
    const kept = new Set(nodePortsOf(svc));
    for (const p of oldPorts) if (!kept.has(p)) txn.releasePortLater(p);
  }

  // Health-check node port.
  const needed = needsHealthCheckNodePort(old);
  const needs = needsHealthCheckNodePort(svc);
  const oldHc = healthCheckNodePortOf(old);
  if (!needed && needs) {
    await allocHealthCheckNodePort(svc, txn);
  } else if (needed && !needs) {
    if (oldHc) txn.releasePortLater(oldHc);
  } else if (needed && needs) {
    const hc = healthCheckNodePortOf(svc);
    if (hc && hc !== oldHc) {
      await allocHealthCheckNodePort(svc, txn);
      if (oldHc) txn.releasePortLater(oldHc);
    }
  }
}

/** Frees what a deleted Service held. */
async function releaseAllocated(alloc: ServiceAllocators, svc: KubeObject): Promise<void> {
  const meta = metaOf(svc);
  const owner = { namespace: meta.namespace ?? "", name: meta.name ?? "" };
  if (needsClusterIP(svc) && !isHeadless(svc)) {
    const ips = clusterIPsOf(svc).length ? clusterIPsOf(svc) : [specOf(svc).clusterIP ?? ""];
    for (const ip of ips) if (ip) await alloc.ips.release(ip, owner);
  }
  const ports = needsNodePort(svc) ? nodePortsOf(svc) : [];
  const hc = healthCheckNodePortOf(svc);
  if (needsHealthCheckNodePort(svc) && hc > 0) ports.push(hc);
  await alloc.nodePorts.releaseAll(ports);
}

async function withTxn(
  alloc: ServiceAllocators,
  svc: KubeObject,
  ctx: StrategyContext,
  work: (txn: AllocationTxn) => Promise<void>,
): Promise<Reservation | undefined> {
  if (ctx.subresource) return undefined;
  const txn = new AllocationTxn(alloc, svc, !!ctx.dryRun);
  try {
    await work(txn);
  } catch (err) {
    await txn.rollback();
    throw err;
  }
  return txn;
}

/** The Service strategy over the cluster's allocators. */
export function serviceStrategy(alloc: ServiceAllocators): Strategy {
  return {
    allowCreateOnUpdate: true,
    prepareForCreate(svc) {
      svc.status = { loadBalancer: {} };
      normalizeClusterIPs(svc);
      initIPFamilyFields(svc);
    },
    prepareForUpdate(svc, old, ctx) {
      if (ctx.subresource) return;
      defaultStoredIPFields(old);
      patchAllocatedValues(svc, old);
      normalizeClusterIPs(svc, old);
      initIPFamilyFields(svc, old);
      dropTypeDependentFields(svc, old);
    },
    beforeCreate(svc, ctx) {
      return withTxn(alloc, svc, ctx, (txn) => allocateCreate(svc, txn));
    },
    beforeUpdate(svc, old, ctx) {
      if (!ctx.subresource) checkClusterIPKept(svc, old);
      return withTxn(alloc, svc, ctx, (txn) => allocateUpdate(svc, old, txn));
    },
    afterDelete(svc) {
      return releaseAllocated(alloc, svc);
    },
  };
}

export interface RepairOptions {
  /** Free an orphaned IPAddress only when it is at least this old (default 0: at start, before serving). */
  minAgeMs?: number;
}

export interface RepairResult {
  ipsCreated: string[];
  ipsUpdated: string[];
  ipsReleased: string[];
  portsMarked: number[];
  portsFreed: number[];
}

/**
 * Rebuilds the allocators' state from the stored `services`: frees what a crash between allocating
 * and storing left behind, and marks what Services hold but the allocators miss. Run it before
 * the server takes requests.
 */
export async function repairServiceAllocations(
  services: KubeObject[],
  alloc: ServiceAllocators,
  options: RepairOptions = {},
): Promise<RepairResult> {
  const ipClaims = new Map<string, IpOwner>();
  const portClaims = new Map<number, string>();
  for (const svc of services) {
    const meta = metaOf(svc);
    const owner = { namespace: meta.namespace ?? "", name: meta.name ?? "" };
    const who = `${owner.namespace}/${owner.name}`;
    if (needsClusterIP(svc) && !isHeadless(svc)) {
      for (const raw of clusterIPsOf(svc).length ? clusterIPsOf(svc) : [specOf(svc).clusterIP ?? ""]) {
        if (!raw || !alloc.ips.contains(raw)) continue;
        const ip = canonicalIp(raw);
        const holder = ipClaims.get(ip);
        if (holder) {
          console.error(
            `Service ${who}: cluster IP ${ip} is also held by ${holder.namespace}/${holder.name}`,
          );
        } else ipClaims.set(ip, owner);
      }
    }
    const ports = needsNodePort(svc) ? nodePortsOf(svc) : [];
    const hc = healthCheckNodePortOf(svc);
    if (needsHealthCheckNodePort(svc) && hc > 0) ports.push(hc);
    for (const port of new Set(ports)) {
      const holder = portClaims.get(port);
      if (holder) console.error(`Service ${who}: node port ${port} is also held by ${holder}`);
      else portClaims.set(port, who);
    }
  }
  const ips = await alloc.ips.repair(ipClaims, { minAgeMs: options.minAgeMs ?? 0 });
  const ports = await alloc.nodePorts.repair(portClaims.keys());
  return {
    ipsCreated: ips.created,
    ipsUpdated: ips.updated,
    ipsReleased: ips.released,
    portsMarked: ports.marked,
    portsFreed: ports.freed,
  };
}
