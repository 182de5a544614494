/**
 * What kube-apiserver's default admission plugins add to a Pod when it is created — never to
 * pod templates, never on update. Not scheme defaulting (mod.ts), so kept apart:
 *
 * - ServiceAccount: the pod runs as the namespace's `default` service account unless it names
 *   one (`serviceAccountName`, mirrored into the deprecated `serviceAccount`), and takes that
 *   account's image pull secrets when it lists none. Mirror pods (static pods a node reports)
 *   are left alone. Token volumes are not mounted here.
 * - DefaultTolerationSeconds: a pod that does not already tolerate the `not-ready` and
 *   `unreachable` node taints with effect NoExecute tolerates each for five minutes, so it is
 *   evicted from a lost node after that long.
 * - Priority: a pod that names no priority class gets the cluster's global default class, or
 *   priority 0 and the PreemptLowerPriority policy when there is none; a pod naming a class
 *   gets that class's value and policy when the caller can resolve it.
 *
 * Refusals (an unknown priority class, a pod stating its own priority, a missing service
 * account) are the caller's checks; this only fills in.
 */

import { eachObject, isObject, isUnset, type Obj, setDefault, structChild } from "./util.ts";

export const DEFAULT_SERVICE_ACCOUNT_NAME = "default";
export const DEFAULT_TOLERATION_SECONDS = 300;
export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
export const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS = 0;

/** The part of a PriorityClass the Priority plugin reads. */
export interface PriorityClassInfo {
  name: string;
  value: number;
  preemptionPolicy?: string;
}

export interface PodAdmissionOptions {
  /** tolerationSeconds for the not-ready taint (the API server's flag; 300). */
  defaultNotReadyTolerationSeconds?: number;
  /** tolerationSeconds for the unreachable taint (the API server's flag; 300). */
  defaultUnreachableTolerationSeconds?: number;
  /** The pod's ServiceAccount once looked up, for its `imagePullSecrets`. */
  serviceAccount?: Obj;
  /** The PriorityClass marked `globalDefault` (the lowest valued if several), if any. */
  globalDefaultPriorityClass?: PriorityClassInfo;
  /** Looks up a PriorityClass by name, for pods that name one. */
  priorityClass?: (name: string) => PriorityClassInfo | undefined;
}

function isMirrorPod(pod: Obj): boolean {
  const metadata = pod.metadata;
  const annotations = isObject(metadata) ? metadata.annotations : undefined;
  return isObject(annotations) && annotations[MIRROR_POD_ANNOTATION] !== undefined;
}

/** The ServiceAccount plugin's part (without token volumes). */
export function admitServiceAccount(pod: Obj, spec: Obj, serviceAccount?: Obj): void {
  if (isMirrorPod(pod)) return;
  const name = spec.serviceAccountName;
  if (isUnset(name) || name === "") spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT_NAME;
  const effective = spec.serviceAccountName;
  if (
    typeof effective === "string" && (isUnset(spec.serviceAccount) || typeof spec.serviceAccount === "string")
  ) {
    spec.serviceAccount = effective;
  }
  const pullSecrets = serviceAccount?.imagePullSecrets;
  const own = spec.imagePullSecrets;
  if (Array.isArray(pullSecrets) && (isUnset(own) || (Array.isArray(own) && own.length === 0))) {
    const copied = pullSecrets.filter(isObject).map((s) => (s.name === undefined ? {} : { name: s.name }));
    if (copied.length > 0) spec.imagePullSecrets = copied;
  }
}

/** Whether some toleration already covers `key` with effect NoExecute (an empty key or effect covers all). */
function tolerates(spec: Obj, key: string): boolean {
  let found = false;
  eachObject(spec, "tolerations", (toleration) => {
    const k = toleration.key;
    const effect = toleration.effect;
    if (
      (isUnset(k) || k === "" || k === key) && (isUnset(effect) || effect === "" || effect === "NoExecute")
    ) {
      found = true;
    }
  });
  return found;
}

/** The DefaultTolerationSeconds plugin's part. */
export function admitDefaultTolerationSeconds(spec: Obj, options: PodAdmissionOptions = {}): void {
  const wanted: [string, number][] = [
    [TAINT_NODE_NOT_READY, options.defaultNotReadyTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS],
    [TAINT_NODE_UNREACHABLE, options.defaultUnreachableTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS],
  ];
  for (const [key, seconds] of wanted) {
    if (tolerates(spec, key)) continue;
    if (isUnset(spec.tolerations)) spec.tolerations = [];
    const tolerations = spec.tolerations;
    if (!Array.isArray(tolerations)) return;
    tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds });
  }
}

/** The Priority plugin's part. */
export function admitPriority(spec: Obj, options: PodAdmissionOptions = {}): void {
  const className = spec.priorityClassName;
  let resolved: { value: number; preemptionPolicy?: string } | undefined;
  if (isUnset(className) || className === "") {
    const global = options.globalDefaultPriorityClass;
    if (global) {
      spec.priorityClassName = global.name;
      resolved = global;
    } else {
      resolved = { value: DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS, preemptionPolicy: "PreemptLowerPriority" };
    }
  } else if (typeof className === "string") {
    resolved = options.priorityClass?.(className);
  }
  if (!resolved) return;
  setDefault(spec, "priority", resolved.value);
  if (resolved.preemptionPolicy !== undefined) {
    setDefault(spec, "preemptionPolicy", resolved.preemptionPolicy);
  }
}

/**
 * Applies the admission plugins' additions to a Pod being created, in place. Safe to call twice
 * and on malformed pods (wrong types are left alone).
 */
export function admitPodDefaults(pod: Record<string, unknown>, options: PodAdmissionOptions = {}): void {
  if (!isObject(pod)) return;
  const spec = structChild(pod, "spec");
  if (!spec) return;
  admitServiceAccount(pod, spec, options.serviceAccount);
  admitDefaultTolerationSeconds(spec, options);
  admitPriority(spec, options);
}
