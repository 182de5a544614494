/**
 * Checks of a PodSpec, wherever it occurs (pods and every pod template), worded as
 * kube-apiserver words them. Objects arrive defaulted.
 */

import { field, type FieldError } from "../../machinery/status.ts";
import { isDNS1123Label } from "../../machinery/validation.ts";
import { parseQuantity } from "../../machinery/quantity.ts";
import { clone, jsonEqual } from "../../machinery/object_meta.ts";
import { ianaServiceNameProblems, isInt, isObject, list, type Obj, obj, sortKeys } from "./util.ts";

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const TERMINATION_MESSAGE_POLICIES = ["FallbackToLogsOnError", "File"];
const HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];
const PORT_RANGE = "must be between 1 and 65535, inclusive";

export interface PodSpecOptions {
  /** The restart policies this place allows (workload templates: Always only). */
  restartPolicies?: string[];
  /** Volume names mounts may use besides the pod's own volumes (a StatefulSet's claim templates). */
  extraVolumes?: string[];
}

function checkPort(errors: FieldError[], path: string, value: unknown, allowZero = false) {
  if (value === undefined || value === null) return;
  if (!isInt(value) || value > 65535 || value < (allowZero ? 0 : 1)) {
    errors.push(field.invalid(path, value, PORT_RANGE));
  }
}

function checkProbe(errors: FieldError[], path: string, probe: unknown) {
  if (!isObject(probe)) return;
  const handlers = HANDLERS.filter((h) => probe[h] !== undefined && probe[h] !== null);
  if (handlers.length === 0) errors.push(field.required(path, "must specify a handler type"));
  for (const extra of handlers.slice(1)) {
    errors.push(field.forbidden(`${path}.${extra}`, "may not specify more than 1 handler type"));
  }
  for (
    const key of [
      "initialDelaySeconds",
      "timeoutSeconds",
      "periodSeconds",
      "successThreshold",
      "failureThreshold",
    ]
  ) {
    const v = probe[key];
    if (isInt(v) && v < 0) {
      errors.push(field.invalid(`${path}.${key}`, v, "must be greater than or equal to 0"));
    }
  }
  const port = obj(probe.httpGet).port ?? obj(probe.tcpSocket).port;
  if (isInt(port)) checkPort(errors, `${path}.${probe.httpGet ? "httpGet" : "tcpSocket"}.port`, port);
}

function checkResources(errors: FieldError[], path: string, resources: unknown) {
  const requests = obj(obj(resources).requests);
  const limits = obj(obj(resources).limits);
  for (const [section, values] of [["requests", requests], ["limits", limits]] as const) {
    for (const [name, q] of Object.entries(values)) {
      const n = parseQuantity(q);
      if (n !== undefined && n < 0) {
        errors.push(
          field.invalid(`${path}.${section}[${name}]`, String(q), "must be greater than or equal to 0"),
        );
      }
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined) continue;
    const r = parseQuantity(q);
    const l = parseQuantity(limit);
    if (r !== undefined && l !== undefined && r > l) {
      errors.push(
        field.invalid(
          `${path}.requests`,
          String(q),
          `must be less than or equal to ${name} limit of ${limit}`,
        ),
      );
    }
  }
}

function checkContainer(errors: FieldError[], path: string, c: Obj, volumes: Set<string>, init: boolean) {
  if (!c.name) errors.push(field.required(`${path}.name`));
  else if (typeof c.name === "string") {
    for (const p of isDNS1123Label(c.name)) errors.push(field.invalid(`${path}.name`, c.name, p));
  }
  if (!c.image) errors.push(field.required(`${path}.image`));
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(String(c.imagePullPolicy))) {
    errors.push(field.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  if (
    c.terminationMessagePolicy !== undefined &&
    !TERMINATION_MESSAGE_POLICIES.includes(String(c.terminationMessagePolicy))
  ) {
    errors.push(
      field.notSupported(
        `${path}.terminationMessagePolicy`,
        c.terminationMessagePolicy,
        TERMINATION_MESSAGE_POLICIES,
      ),
    );
  }
  const portNames = new Set<string>();
  list(c.ports).forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    if (p.containerPort === undefined) errors.push(field.required(`${pp}.containerPort`));
    else checkPort(errors, `${pp}.containerPort`, p.containerPort);
    if (p.hostPort !== undefined && p.hostPort !== 0) checkPort(errors, `${pp}.hostPort`, p.hostPort);
    if (p.protocol !== undefined && !PROTOCOLS.includes(String(p.protocol))) {
      errors.push(field.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
    }
    if (typeof p.name === "string" && p.name) {
      for (const problem of ianaServiceNameProblems(p.name)) {
        errors.push(field.invalid(`${pp}.name`, p.name, problem));
      }
      if (portNames.has(p.name)) errors.push(field.duplicate(`${pp}.name`, p.name));
      portNames.add(p.name);
    }
  });
  const envNames = new Set<string>();
  list(c.env).forEach((e, i) => {
    if (!e.name) errors.push(field.required(`${path}.env[${i}].name`));
    envNames.add(String(e.name));
  });
  list(c.volumeMounts).forEach((m, i) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (!m.name) errors.push(field.required(`${mp}.name`));
    else if (!volumes.has(String(m.name))) errors.push(field.notFound(`${mp}.name`, m.name));
    if (!m.mountPath) errors.push(field.required(`${mp}.mountPath`));
  });
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    if (init && c.restartPolicy !== "Always" && c[probe] !== undefined) {
      errors.push(
        field.forbidden(
          `${path}.${probe}`,
          "may not be set for init containers without restartPolicy=Always",
        ),
      );
      continue;
    }
    checkProbe(errors, `${path}.${probe}`, c[probe]);
  }
  checkResources(errors, `${path}.resources`, c.resources);
}

/** Problems of the PodSpec at `path` (`spec`, `spec.template.spec`, …). */
export function validatePodSpec(spec: unknown, path: string, options: PodSpecOptions = {}): FieldError[] {
  const errors: FieldError[] = [];
  const s = obj(spec);
  const volumes = new Set<string>();
  const mountable = new Set<string>(options.extraVolumes ?? []);
  list(s.volumes).forEach((v, i) => {
    const vp = `${path}.volumes[${i}]`;
    if (!v.name) errors.push(field.required(`${vp}.name`));
    else if (volumes.has(String(v.name))) errors.push(field.duplicate(`${vp}.name`, v.name));
    else {
      for (const p of isDNS1123Label(String(v.name))) errors.push(field.invalid(`${vp}.name`, v.name, p));
    }
    volumes.add(String(v.name));
    mountable.add(String(v.name));
    const sources = Object.keys(v).filter((k) => k !== "name" && v[k] !== null && v[k] !== undefined);
    if (sources.length === 0) errors.push(field.required(vp, "must specify a volume type"));
    for (const extra of sources.slice(1)) {
      errors.push(field.forbidden(`${vp}.${extra}`, "may not specify more than 1 volume type"));
    }
  });
  const containers = list(s.containers);
  if (containers.length === 0) errors.push(field.required(`${path}.containers`));
  const names = new Set<string>();
  const checkName = (c: Obj, p: string) => {
    if (typeof c.name !== "string" || !c.name) return;
    if (names.has(c.name)) errors.push(field.duplicate(`${p}.name`, c.name));
    names.add(c.name);
  };
  list(s.initContainers).forEach((c, i) => {
    checkContainer(errors, `${path}.initContainers[${i}]`, c, mountable, true);
    checkName(c, `${path}.initContainers[${i}]`);
  });
  containers.forEach((c, i) => {
    checkContainer(errors, `${path}.containers[${i}]`, c, mountable, false);
    checkName(c, `${path}.containers[${i}]`);
  });
  const allowed = options.restartPolicies ?? RESTART_POLICIES;
  if (s.restartPolicy !== undefined && !allowed.includes(String(s.restartPolicy))) {
    errors.push(field.notSupported(`${path}.restartPolicy`, s.restartPolicy, allowed));
  }
  if (s.dnsPolicy !== undefined && !DNS_POLICIES.includes(String(s.dnsPolicy))) {
    errors.push(field.notSupported(`${path}.dnsPolicy`, s.dnsPolicy, DNS_POLICIES));
  }
  if (isInt(s.terminationGracePeriodSeconds) && s.terminationGracePeriodSeconds < 0) {
    errors.push(
      field.invalid(
        `${path}.terminationGracePeriodSeconds`,
        s.terminationGracePeriodSeconds,
        "must be greater than or equal to 0",
      ),
    );
  }
  if (
    s.activeDeadlineSeconds !== undefined && (!isInt(s.activeDeadlineSeconds) || s.activeDeadlineSeconds <= 0)
  ) {
    errors.push(
      field.invalid(
        `${path}.activeDeadlineSeconds`,
        s.activeDeadlineSeconds,
        "must be between 1 and 2147483647, inclusive",
      ),
    );
  }
  list(s.tolerations).forEach((t, i) => {
    const tp = `${path}.tolerations[${i}]`;
    if (t.operator !== undefined && !["Equal", "Exists"].includes(String(t.operator))) {
      errors.push(field.notSupported(`${tp}.operator`, t.operator, ["Equal", "Exists"]));
    }
    if (t.operator === "Exists" && t.value) {
      errors.push(
        field.invalid(`${tp}.operator`, t.value, "value must be empty when `operator` is 'Exists'"),
      );
    }
    if (t.effect && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(String(t.effect))) {
      errors.push(
        field.notSupported(`${tp}.effect`, t.effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"]),
      );
    }
  });
  return errors;
}

/** Fields of a pod that an update may change (upstream's list), with the rest compared. */
export function validatePodUpdate(pod: Obj, old: Obj): FieldError[] {
  // Most updates (status, metadata) leave the spec as it was.
  if (jsonEqual(pod.spec, old.spec)) return [];
  const spec = clone(obj(pod.spec));
  const oldSpec = obj(old.spec);
  // Take over what may change from the new spec into a copy of the old one, then compare.
  const mutable = clone(oldSpec);
  for (const kind of ["containers", "initContainers"]) {
    const next = list(spec[kind]);
    list(mutable[kind]).forEach((c, i) => {
      if (next[i] && next[i].image !== undefined) c.image = next[i].image;
    });
  }
  for (
    const key of ["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "schedulingGates"]
  ) {
    if (spec[key] === undefined) delete mutable[key];
    else mutable[key] = spec[key];
  }
  if (!oldSpec.nodeName && spec.nodeName === undefined) delete mutable.nodeName;
  if (JSON.stringify(sortKeys(mutable)) === JSON.stringify(sortKeys(spec))) return [];
  return [
    field.forbidden(
      "spec",
      "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ),
  ];
}
