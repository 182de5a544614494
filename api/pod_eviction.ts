/**
 * `POST pods/{name}/eviction` (policy/v1 Eviction; policy/v1beta1 bodies accepted too): a delete
 * that honours the PodDisruptionBudget covering the pod, as upstream's eviction subresource.
 *
 * - Pods that are Pending, Succeeded, Failed or already being deleted are deleted at once (a
 *   running pod's resourceVersion is a precondition, so it cannot turn Ready meanwhile).
 * - Otherwise the namespace's budgets whose selector matches the pod are found: more than one is
 *   a 500; one is checked and decremented — `status.disruptionsAllowed` minus one and the pod in
 *   `status.disruptedPods` — by a conflict-checked status update, retried on conflicts; a budget
 *   with nothing to spare (or not yet observed by its controller) is a 429 that clients retry.
 * - An unready pod is deleted without spending the budget when the budget is already met (or its
 *   unhealthyPodEvictionPolicy is AlwaysAllow).
 * - The pod gets the DisruptionTarget condition, then is deleted with the Eviction's
 *   deleteOptions (grace period, preconditions, propagation, dry run).
 */

import { badRequest, conflict, forbidden, isStatusError, StatusError } from "../machinery/status.ts";
import { clone, jsonEqual, type KubeObject, metaOf, rfc3339 } from "../machinery/object_meta.ts";
import { type LabelSelectorObject, matchesLabels, selectorFromLabelSelector } from "../machinery/labels.ts";
import type { DeleteOptionsBody, ResourceStore } from "./registry/resource_store.ts";
import { setPodCondition } from "./pod_binding.ts";
import { ReasonlessStatusError, tooManyRequests } from "./status_errors.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

/** Upstream's bound on `status.disruptedPods` before evictions are refused. */
export const MAX_DISRUPTED_PODS = 2000;

/** How many times a conflicting write is retried before the conflict is returned. */
const CONFLICT_RETRIES = 20;

const EVICTION_VERSIONS = ["policy/v1", "policy/v1beta1"];

const PDB_RESOURCE = { group: "policy", resource: "poddisruptionbudget" };

export interface EvictionStores {
  pods: ResourceStore;
  podDisruptionBudgets: ResourceStore;
  now?: () => number;
}

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function budgetStillProcessing(pdbName: string): StatusError {
  return tooManyRequests(VIOLATION, 10, {
    causes: [{
      reason: "DisruptionBudget",
      message: `The disruption budget ${pdbName} is still being processed by the server.`,
    }],
  });
}

function isConflict(err: unknown): boolean {
  return isStatusError(err, "Conflict");
}

/** The Eviction's deleteOptions with the request's dry run folded in, as upstream's propagateDryRun. */
function deleteOptionsOf(eviction: KubeObject, queryDryRun: boolean): DeleteOptionsBody {
  const query = queryDryRun ? ["All"] : [];
  const raw = eviction.deleteOptions;
  if (raw === undefined || raw === null) return { dryRun: query };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw badRequest("error decoding request body: deleteOptions must be an object");
  }
  const options = clone(raw) as DeleteOptionsBody;
  const own = Array.isArray(options.dryRun) ? options.dryRun : [];
  if (own.length === 0) options.dryRun = query;
  else if (query.length && !jsonEqual(own, query)) {
    throw new ReasonlessStatusError(
      500,
      `Non-matching dry-run options in request and content: [${query.join(" ")}] and [${own.join(" ")}]`,
    );
  }
  const policy = options.propagationPolicy;
  if (policy !== undefined && !["Orphan", "Background", "Foreground"].includes(policy)) {
    throw new StatusError(
      422,
      "Invalid",
      `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
      {},
    );
  }
  return options;
}

function isDryRun(options: DeleteOptionsBody): boolean {
  return (options.dryRun ?? []).includes("All");
}

function hasResourceVersionPrecondition(options: DeleteOptionsBody): boolean {
  return !!options.preconditions?.resourceVersion;
}

function withResourceVersion(
  options: DeleteOptionsBody,
  resourceVersion: string | undefined,
): DeleteOptionsBody {
  return { ...options, preconditions: { ...options.preconditions, resourceVersion } };
}

function phaseOf(pod: KubeObject): string {
  return String(obj(pod.status).phase ?? "");
}

/** Pods whose eviction disrupts nothing the budgets count. */
function canIgnoreBudgets(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return phase === "Succeeded" || phase === "Failed" || phase === "Pending" ||
    !!metaOf(pod).deletionTimestamp;
}

/** Whether a pod deleted without the budget must keep the resourceVersion it was judged at. */
function mustPinResourceVersion(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return !(phase === "Succeeded" || phase === "Failed" || metaOf(pod).deletionTimestamp);
}

function isPodReady(pod: KubeObject): boolean {
  const conditions = obj(pod.status).conditions;
  return Array.isArray(conditions) &&
    conditions.some((c) => obj(c).type === "Ready" && obj(c).status === "True");
}

/** The namespace's budgets whose selector matches the pod (an empty or invalid selector matches nothing). */
async function budgetsOf(stores: EvictionStores, pod: KubeObject): Promise<KubeObject[]> {
  const meta = metaOf(pod);
  const { items } = await stores.podDisruptionBudgets.list(meta.namespace ?? "");
  return items.filter((pdb) => {
    let selector;
    try {
      selector = selectorFromLabelSelector(obj(pdb.spec).selector as LabelSelectorObject | undefined);
    } catch {
      return false;
    }
    return !!selector && selector.requirements.length > 0 && matchesLabels(selector, meta.labels);
  });
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

/** Sets the DisruptionAllowed condition as the budget helpers upstream do. */
function setDisruptionAllowedCondition(pdb: KubeObject, now: number): void {
  const status = obj(pdb.status);
  const allowed = num(status.disruptionsAllowed) > 0;
  const conditions = Array.isArray(status.conditions) ? status.conditions as Json[] : [];
  const next: Json = {
    type: "DisruptionAllowed",
    status: allowed ? "True" : "False",
    observedGeneration: num(status.observedGeneration),
    lastTransitionTime: rfc3339(now),
    reason: allowed ? "SufficientPods" : "InsufficientPods",
    message: "",
  };
  const i = conditions.findIndex((c) => obj(c).type === "DisruptionAllowed");
  if (i < 0) conditions.push(next);
  else {
    const old = obj(conditions[i]);
    if (old.status === next.status) next.lastTransitionTime = old.lastTransitionTime;
    conditions[i] = next;
  }
  status.conditions = conditions;
  pdb.status = status;
}

/**
 * Checks that the budget allows one more disruption and records it (upstream's
 * checkAndDecrement). Throws the 429/403 refusals; a Conflict means the budget moved on.
 */
async function checkAndDecrement(
  stores: EvictionStores,
  pdb: KubeObject,
  podName: string,
  dryRun: boolean,
): Promise<void> {
  const meta = metaOf(pdb);
  const status = obj(pdb.status);
  const name = meta.name ?? "";
  if (num(status.observedGeneration) < num(meta.generation)) throw budgetStillProcessing(name);
  const allowed = num(status.disruptionsAllowed);
  if (allowed < 0) throw forbidden(PDB_RESOURCE, name, "pdb disruptions allowed is negative");
  if (Object.keys(obj(status.disruptedPods)).length > MAX_DISRUPTED_PODS) {
    throw forbidden(
      PDB_RESOURCE,
      name,
      "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
    );
  }
  if (allowed === 0) {
    throw tooManyRequests(VIOLATION, 0, {
      causes: [{
        reason: "DisruptionBudget",
        message: `The disruption budget ${name} needs ${num(status.desiredHealthy)} healthy pods and has ${
          num(status.currentHealthy)
        } currently`,
      }],
    });
  }
  if (dryRun) return;
  const now = (stores.now ?? Date.now)();
  const next = clone(pdb);
  const nextStatus = obj(next.status);
  next.status = nextStatus;
  nextStatus.disruptionsAllowed = allowed - 1;
  if (allowed - 1 === 0) setDisruptionAllowedCondition(next, now);
  nextStatus.disruptedPods = { ...obj(nextStatus.disruptedPods), [podName]: rfc3339(now) };
  // The resourceVersion read makes this a compare-and-swap: a concurrent eviction conflicts.
  await stores.podDisruptionBudgets.update(meta.namespace ?? "", name, next, { subresource: "status" });
}

/** Adds the DisruptionTarget condition (unless a dry run), then deletes the pod. */
async function addConditionAndDelete(
  stores: EvictionStores,
  namespace: string,
  name: string,
  options: DeleteOptionsBody,
): Promise<void> {
  if (!isDryRun(options)) {
    const pre = options.preconditions;
    const podResource = { group: "", resource: "Pod" };
    const { object } = await stores.pods.patch(namespace, name, (current) => {
      const pod = current!;
      const meta = metaOf(pod);
      if (pre?.uid && pre.uid !== meta.uid) {
        throw conflict(
          podResource,
          name,
          `the UID in the precondition (${pre.uid}) does not match the UID in record (${meta.uid}). The object might have been deleted and then recreated`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(
          podResource,
          name,
          `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${meta.resourceVersion}). The object might have been modified`,
        );
      }
      setPodCondition(pod, {
        type: "DisruptionTarget",
        status: "True",
        reason: "EvictionByEvictionAPI",
        message: "Eviction API: evicting",
      }, (stores.now ?? Date.now)());
      return pod;
    }, { subresource: "status" });
    // The condition moved the resourceVersion on: a pinned one follows it.
    if (hasResourceVersionPrecondition(options)) {
      options = withResourceVersion(options, object.metadata?.resourceVersion);
    }
  }
  await stores.pods.delete(namespace, name, options);
}

/**
 * Evicts `name` in `namespace` as `eviction` asks. `queryDryRun` is the request's `dryRun=All`.
 * Resolves when the pod is deleted (or marked for deletion); throws the refusals as StatusErrors.
 */
export async function evictPod(
  stores: EvictionStores,
  namespace: string,
  name: string,
  eviction: KubeObject,
  queryDryRun: boolean,
): Promise<void> {
  if (eviction.apiVersion !== undefined && !EVICTION_VERSIONS.includes(String(eviction.apiVersion))) {
    throw badRequest(
      `the API version in the data (${eviction.apiVersion}) does not match the expected API version (policy/v1)`,
    );
  }
  if (eviction.kind !== undefined && eviction.kind !== "Eviction") {
    throw badRequest(`the kind in the data (${eviction.kind}) does not match the expected kind (Eviction)`);
  }
  const meta = metaOf(eviction);
  if (meta.namespace && meta.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  if ((meta.name ?? "") !== name) throw badRequest("name in URL does not match name in Eviction object");
  const original = deleteOptionsOf(eviction, queryDryRun);
  const retryConflicts = !hasResourceVersionPrecondition(original);

  // Pods the budgets do not guard are deleted at once.
  let pod: KubeObject | undefined;
  for (let attempt = 0;; attempt++) {
    pod = await stores.pods.get(namespace, name);
    if (!canIgnoreBudgets(pod)) break;
    let options = original;
    if (mustPinResourceVersion(pod) && !hasResourceVersionPrecondition(original)) {
      options = withResourceVersion(original, pod.metadata?.resourceVersion);
    }
    try {
      await addConditionAndDelete(stores, namespace, name, options);
      return;
    } catch (err) {
      if (!(retryConflicts && isConflict(err) && attempt < CONFLICT_RETRIES)) throw err;
    }
  }

  const budgets = await budgetsOf(stores, pod);
  if (budgets.length > 1) {
    throw new ReasonlessStatusError(
      500,
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    );
  }
  let pinToReadiness = false;
  let pdbName = "";
  if (budgets.length === 1) {
    let pdb = budgets[0];
    pdbName = pdb.metadata?.name ?? "";
    const status = obj(pdb.status);
    if (!isPodReady(pod)) {
      if (obj(pdb.spec).unhealthyPodEvictionPolicy === "AlwaysAllow") pinToReadiness = true;
      else if (num(status.currentHealthy) >= num(status.desiredHealthy) && num(status.desiredHealthy) > 0) {
        pinToReadiness = true;
      }
    }
    if (!pinToReadiness) {
      for (let attempt = 0;; attempt++) {
        try {
          await checkAndDecrement(stores, pdb, name, isDryRun(original));
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
          pdb = await stores.podDisruptionBudgets.get(namespace, pdbName);
        }
      }
    }
  }

  // No budget, or the budget spent: delete. An unready pod deleted without spending the budget
  // must still be unready when it goes, so its resourceVersion is pinned.
  const options = pinToReadiness ? withResourceVersion(original, pod.metadata?.resourceVersion) : original;
  try {
    await addConditionAndDelete(stores, namespace, name, options);
  } catch (err) {
    if (isConflict(err) && pinToReadiness && !hasResourceVersionPrecondition(original)) {
      throw budgetStillProcessing(pdbName);
    }
    throw err;
  }
}
