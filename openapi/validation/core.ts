/**
 * Checks of Services, ConfigMaps, Secrets, PersistentVolumeClaims and a few cluster kinds,
 * worded as kube-apiserver words them.
 */

import { field, type FieldError } from "../../machinery/status.ts";
import { isDNS1123Label } from "../../machinery/validation.ts";
import { validatePodSpec } from "./pod.ts";
import { ianaServiceNameProblems, isInt, list, type Obj, obj, sortKeys } from "./util.ts";

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const PORT_RANGE = "must be between 1 and 65535, inclusive";

function validateService(svc: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(svc.spec);
  const type = spec.type ?? "ClusterIP";
  if (!SERVICE_TYPES.includes(String(type))) {
    errors.push(field.notSupported("spec.type", type, SERVICE_TYPES));
  }
  const ports = list(spec.ports);
  const headless = spec.clusterIP === "None";
  if (type === "ExternalName") {
    if (!spec.externalName) errors.push(field.required("spec.externalName"));
  } else if (ports.length === 0 && !headless) {
    errors.push(field.required("spec.ports"));
  }
  if (spec.sessionAffinity !== undefined && !["ClientIP", "None"].includes(String(spec.sessionAffinity))) {
    errors.push(field.notSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errors.push(field.required(`${pp}.name`));
    if (typeof p.name === "string" && p.name) {
      for (const problem of isDNS1123Label(p.name)) errors.push(field.invalid(`${pp}.name`, p.name, problem));
      if (names.has(p.name)) errors.push(field.duplicate(`${pp}.name`, p.name));
      names.add(p.name);
    }
    if (!isInt(p.port) || p.port < 1 || p.port > 65535) {
      errors.push(field.invalid(`${pp}.port`, p.port ?? 0, PORT_RANGE));
    }
    if (p.protocol !== undefined && !PROTOCOLS.includes(String(p.protocol))) {
      errors.push(field.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
    }
    const key = `${p.port}/${p.protocol ?? "TCP"}`;
    if (keys.has(key)) errors.push(field.duplicate(pp, { port: p.port, protocol: p.protocol ?? "TCP" }));
    keys.add(key);
    const target = p.targetPort;
    if (isInt(target) && (target < 1 || target > 65535)) {
      errors.push(field.invalid(`${pp}.targetPort`, target, PORT_RANGE));
    }
    if (typeof target === "string") {
      for (const problem of ianaServiceNameProblems(target)) {
        errors.push(field.invalid(`${pp}.targetPort`, target, problem));
      }
    }
    if (p.nodePort !== undefined && p.nodePort !== 0 && type !== "NodePort" && type !== "LoadBalancer") {
      errors.push(field.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
    }
  });
  return errors;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function validateConfigKeys(errors: FieldError[], section: string, values: unknown) {
  for (const key of Object.keys(obj(values))) {
    if (!CONFIG_KEY.test(key)) errors.push(field.invalid(`${section}[${key}]`, key, CONFIG_KEY_MESSAGE));
    if (key === "." || key === "..") {
      errors.push(field.invalid(`${section}[${key}]`, key, `must not be '${key}'`));
    }
  }
}

function validateConfigMap(cm: Obj): FieldError[] {
  const errors: FieldError[] = [];
  validateConfigKeys(errors, "data", cm.data);
  validateConfigKeys(errors, "binaryData", cm.binaryData);
  for (const key of Object.keys(obj(cm.data))) {
    if (key in obj(cm.binaryData)) {
      errors.push(field.invalid(`data[${key}]`, key, "duplicate of key present in binaryData"));
    }
  }
  return errors;
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/dockercfg": [".dockercfg"],
};

function validateSecret(secret: Obj): FieldError[] {
  const errors: FieldError[] = [];
  validateConfigKeys(errors, "data", secret.data);
  const data = obj(secret.data);
  for (const key of SECRET_REQUIRED_KEYS[String(secret.type)] ?? []) {
    if (!(key in data)) errors.push(field.required(`data[${key}]`));
  }
  if (secret.type === "kubernetes.io/basic-auth" && !("username" in data) && !("password" in data)) {
    errors.push(field.required("data[username]"));
  }
  if (secret.type === "kubernetes.io/service-account-token") {
    const annotations = obj(obj(secret.metadata).annotations);
    if (!annotations["kubernetes.io/service-account.name"]) {
      errors.push(field.required("metadata.annotations[kubernetes.io/service-account.name]"));
    }
  }
  return errors;
}

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

function validatePersistentVolumeClaim(pvc: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(pvc.spec);
  const modes = Array.isArray(spec.accessModes) ? spec.accessModes : [];
  if (modes.length === 0) {
    errors.push(field.required("spec.accessModes", "at least 1 access mode is required"));
  }
  for (const m of modes) {
    if (!ACCESS_MODES.includes(String(m))) {
      errors.push(field.notSupported("spec.accessModes", m, ACCESS_MODES));
    }
  }
  if (obj(obj(spec.resources).requests).storage === undefined) {
    errors.push(field.required("spec.resources[storage]"));
  }
  return errors;
}

function validateHpa(hpa: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(hpa.spec);
  if (spec.minReplicas !== undefined && (!isInt(spec.minReplicas) || spec.minReplicas < 1)) {
    errors.push(field.invalid("spec.minReplicas", spec.minReplicas, "must be greater than or equal to 1"));
  }
  const min = isInt(spec.minReplicas) ? spec.minReplicas : 1;
  if (!isInt(spec.maxReplicas) || spec.maxReplicas < min) {
    errors.push(
      field.invalid(
        "spec.maxReplicas",
        spec.maxReplicas ?? 0,
        "must be greater than or equal to `minReplicas`",
      ),
    );
  }
  return errors;
}

function validatePdb(pdb: Obj): FieldError[] {
  const spec = obj(pdb.spec);
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    return [field.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")];
  }
  return [];
}

function validatePodTemplate(pt: Obj): FieldError[] {
  return validatePodSpec(obj(pt.template).spec, "template.spec");
}

export const CORE_VALIDATORS: Record<string, (o: Obj) => FieldError[]> = {
  "/Service": validateService,
  "/ConfigMap": validateConfigMap,
  "/Secret": validateSecret,
  "/PersistentVolumeClaim": validatePersistentVolumeClaim,
  "/PodTemplate": validatePodTemplate,
  "autoscaling/HorizontalPodAutoscaler": validateHpa,
  "policy/PodDisruptionBudget": validatePdb,
};

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a ?? null)) === JSON.stringify(sortKeys(b ?? null));
}

function immutableData(next: Obj, old: Obj): FieldError[] {
  if (old.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (next.immutable !== true) {
    errors.push(field.forbidden("immutable", "field is immutable when `immutable` is set"));
  }
  for (const key of ["data", "binaryData", "stringData"]) {
    if (key in next || key in old) {
      if (!same(next[key], old[key])) {
        errors.push(field.forbidden(key, "field is immutable when `immutable` is set"));
      }
    }
  }
  return errors;
}

export const CORE_UPDATE_VALIDATORS: Record<string, (o: Obj, old: Obj) => FieldError[]> = {
  "/ConfigMap": immutableData,
  "/Secret": (next, old) => {
    const errors = immutableData(next, old);
    if ((next.type ?? "Opaque") !== (old.type ?? "Opaque")) {
      errors.push(field.invalid("type", next.type, "field is immutable"));
    }
    return errors;
  },
  "/PersistentVolumeClaim": (next, old) => {
    const a = { ...obj(next.spec) };
    const b = { ...obj(old.spec) };
    for (const s of [a, b]) {
      delete s.resources;
      delete s.volumeAttributesClassName;
    }
    // A claim binds by setting its volume name once.
    if (!b.volumeName) delete a.volumeName;
    if (same(a, b)) return [];
    return [
      field.forbidden(
        "spec",
        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
      ),
    ];
  },
  "rbac.authorization.k8s.io/RoleBinding": (next, old) =>
    same(next.roleRef, old.roleRef) ? [] : [field.invalid("roleRef", next.roleRef, "cannot change roleRef")],
  "rbac.authorization.k8s.io/ClusterRoleBinding": (next, old) =>
    same(next.roleRef, old.roleRef) ? [] : [field.invalid("roleRef", next.roleRef, "cannot change roleRef")],
  "scheduling.k8s.io/PriorityClass": (next, old) =>
    next.value === old.value ? [] : [field.forbidden("value", "may not be changed in an update.")],
};
