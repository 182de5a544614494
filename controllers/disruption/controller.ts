/**
 * The disruption controller, as upstream's: keeps each PodDisruptionBudget's status — pods
 * expected, healthy now, healthy wanted, disruptions allowed, the DisruptionAllowed condition
 * (SufficientPods / InsufficientPods, or SyncFailed when the numbers cannot be worked out) —
 * and prunes `disruptedPods` entries the eviction API left once their pod is gone, deleting,
 * or older than the deletion timeout. It also turns a pod's DisruptionTarget condition back
 * to False when nobody deleted the pod within the stale timeout.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { type LabelSelector, matchesLabels, selectorFromLabelSelector } from "../../machinery/labels.ts";
import { jsonEqual, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { type ControllerContext, keyOf, type Runnable, splitKey } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { EventRecorder } from "../framework/events.ts";
import { controllerRef, isPodReady, podCondition } from "../pods.ts";
import type {
  Deployment,
  OwnerReference,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
} from "../types.ts";
import { type ControllerFinder, type ControllerScale, expectedPodCount, groupOf } from "./expected_pods.ts";

export interface DisruptionOptions {
  /** How long an eviction's `disruptedPods` entry waits for its pod to be deleted (upstream: 2 min). */
  deletionTimeoutMs?: number;
  /** How long a DisruptionTarget condition may stand on a pod nobody deletes (upstream: 2 min). */
  stalePodDisruptionTimeoutMs?: number;
}

export function newDisruptionController(options: DisruptionOptions = {}) {
  return (ctx: ControllerContext): Runnable => new DisruptionController(ctx, options);
}

/** What the finders read of a workload controller. */
interface Scalable {
  metadata?: { uid?: string; namespace?: string; ownerReferences?: OwnerReference[] };
  spec?: { replicas?: number };
}

type PdbStatus = NonNullable<PodDisruptionBudget["status"]>;
type Condition = NonNullable<PdbStatus["conditions"]>[number];

const DISRUPTION_ALLOWED = "DisruptionAllowed";

class DisruptionController implements Runnable {
  readonly name = "disruption";
  readonly #ctx: ControllerContext;
  readonly #deletionTimeoutMs: number;
  readonly #staleTimeoutMs: number;
  readonly #pdbs: Informer<PodDisruptionBudget>;
  readonly #pods: Informer<Pod>;
  readonly #rcs: Informer<ReplicationController>;
  readonly #rss: Informer<ReplicaSet>;
  readonly #deployments: Informer<Deployment>;
  readonly #statefulSets: Informer<StatefulSet>;
  readonly #pdbApi: ResourceClient<PodDisruptionBudget>;
  readonly #podApi: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #controller: Controller;
  readonly #stalePods: Controller;

  constructor(ctx: ControllerContext, options: DisruptionOptions) {
    this.#ctx = ctx;
    this.#deletionTimeoutMs = options.deletionTimeoutMs ?? 2 * 60_000;
    this.#staleTimeoutMs = options.stalePodDisruptionTimeoutMs ?? 2 * 60_000;
    this.#pdbs = ctx.informers.informer<PodDisruptionBudget>("policy", "poddisruptionbudgets");
    this.#pods = ctx.informers.informer<Pod>("", "pods");
    this.#rcs = ctx.informers.informer<ReplicationController>("", "replicationcontrollers");
    this.#rss = ctx.informers.informer<ReplicaSet>("apps", "replicasets");
    this.#deployments = ctx.informers.informer<Deployment>("apps", "deployments");
    this.#statefulSets = ctx.informers.informer<StatefulSet>("apps", "statefulsets");
    this.#pdbApi = ctx.client.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets");
    this.#podApi = ctx.client.resource<Pod>("", "pods");
    // Upstream reports as the controller manager itself.
    this.#recorder = ctx.events.recorder("controllermanager");
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    this.#stalePods = new Controller({
      name: "disruption-stale-pods",
      workers: 1,
      reconcile: (key) => this.#syncStalePodDisruption(key),
    });
    const enqueuePdb = (p: PodDisruptionBudget) => this.#controller.enqueue(keyOf(p));
    this.#pdbs.addEventHandler({ add: enqueuePdb, update: (_, p) => enqueuePdb(p), delete: enqueuePdb });
    this.#pods.addEventHandler({
      add: (pod) => this.#podChanged(pod),
      update: (old, pod) => {
        if (old.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.#podChanged(pod);
      },
      delete: (pod) => this.#podChanged(pod, true),
    });
    // A controller's new scale changes what its pods' budgets expect.
    const scaled = (old: Scalable, o: Scalable) => {
      if (old.spec?.replicas === o.spec?.replicas) return;
      for (const p of this.#pdbs.cache.inNamespace(o.metadata?.namespace ?? "")) enqueuePdb(p);
    };
    this.#rcs.addEventHandler({ update: scaled });
    this.#rss.addEventHandler({ update: scaled });
    this.#deployments.addEventHandler({ update: scaled });
    this.#statefulSets.addEventHandler({ update: scaled });
  }

  run(): void {
    this.#controller.run();
    this.#stalePods.run();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#controller.stop(), this.#stalePods.stop()]);
  }

  /** The budgets in the pod's namespace whose selector takes it. */
  #pdbsForPod(pod: Pod): PodDisruptionBudget[] {
    const labels = pod.metadata?.labels ?? {};
    return this.#pdbs.cache.inNamespace(pod.metadata?.namespace ?? "").filter((pdb) => {
      const sel = safeSelector(pdb);
      return sel !== null && matchesLabels(sel, labels);
    });
  }

  #podChanged(pod: Pod, deleted = false): void {
    const pdbs = this.#pdbsForPod(pod);
    if (pdbs.length > 1 && !deleted) {
      const chosen = pdbs[0].metadata?.name;
      this.#recorder.event(
        asPod(pod),
        "Warning",
        "MultiplePodDisruptionBudgets",
        `Pod "${pod.metadata?.namespace}"/"${pod.metadata?.name}" matches multiple PodDisruptionBudgets.  Chose "${chosen}" arbitrarily.`,
      );
    }
    for (const pdb of pdbs) this.#controller.enqueue(keyOf(pdb));
    if (!deleted) {
      const wait = this.#staleDisruptionWait(pod);
      if (wait !== undefined) this.#stalePods.queue.addAfter(keyOf(pod), wait);
    }
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const pdb = this.#pdbs.cache.get(key);
    if (!pdb) return;
    try {
      return await this.#trySync(pdb);
    } catch (err) {
      if (isStatusError(err, "Conflict")) throw err;
      // Fail safe: no disruptions while the numbers are unknown.
      await this.#failSafe(pdb, (err as Error).message);
    }
  }

  async #trySync(pdb: PodDisruptionBudget): Promise<{ requeueAfterMs: number } | void> {
    const pods = this.#podsForPdb(pdb);
    if (pods.length === 0) this.#recorder.event(asPdb(pdb), "Normal", "NoPods", "No matching pods found");
    let expected;
    try {
      expected = await expectedPodCount(pdb, pods, this.#finders());
    } catch (err) {
      this.#recorder.event(
        asPdb(pdb),
        "Warning",
        "CalculateExpectedPodCountFailed",
        `Failed to calculate the number of expected pods: ${(err as Error).message}`,
      );
      throw err;
    }
    if (expected.unmanagedPods.length > 0) {
      this.#recorder.event(
        asPdb(pdb),
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${
          selectorText(pdb)
        }) were found to be unmanaged. ` +
          "As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. " +
          'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
      );
    }
    const now = Date.now();
    const { disruptedPods, recheckAt } = this.#buildDisruptedPods(pdb, pods, now);
    const currentHealthy = this.#countHealthy(pods, disruptedPods, now);
    await this.#updateStatus(
      pdb,
      currentHealthy,
      expected.desiredHealthy,
      expected.expectedCount,
      disruptedPods,
    );
    if (recheckAt !== undefined) return { requeueAfterMs: Math.max(0, recheckAt - now) + 10 };
  }

  /** The pods of the budget's namespace its selector takes (a null selector takes none). */
  #podsForPdb(pdb: PodDisruptionBudget): Pod[] {
    const sel = selectorFromLabelSelector(pdb.spec?.selector as never);
    if (!sel) return [];
    const ns = pdb.metadata?.namespace ?? "";
    return this.#pods.cache.inNamespace(ns).filter((p) => matchesLabels(sel, p.metadata?.labels ?? {}));
  }

  /** Entries of `disruptedPods` still waiting for their pod's deletion, and when the first expires. */
  #buildDisruptedPods(
    pdb: PodDisruptionBudget,
    pods: Pod[],
    now: number,
  ): { disruptedPods: Record<string, string>; recheckAt?: number } {
    const old = pdb.status?.disruptedPods ?? {};
    const disruptedPods: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const name = pod.metadata?.name ?? "";
      const at = old[name];
      if (at === undefined) continue;
      const expires = Date.parse(at) + this.#deletionTimeoutMs;
      if (expires < now) {
        this.#recorder.event(
          asPod(pod),
          "Warning",
          "NotDeleted",
          `Pod was expected by PDB ${pdb.metadata?.namespace}/${pdb.metadata?.name} to be deleted but it wasn't`,
        );
        continue;
      }
      disruptedPods[name] = at;
      recheckAt = Math.min(recheckAt ?? expires, expires);
    }
    return { disruptedPods, recheckAt };
  }

  /** Ready pods that are neither being deleted nor about to be (a recent eviction). */
  #countHealthy(pods: Pod[], disruptedPods: Record<string, string>, now: number): number {
    let healthy = 0;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = disruptedPods[pod.metadata?.name ?? ""];
      if (at !== undefined && Date.parse(at) + this.#deletionTimeoutMs > now) continue;
      if (isPodReady(pod)) healthy++;
    }
    return healthy;
  }

  async #updateStatus(
    pdb: PodDisruptionBudget,
    currentHealthy: number,
    desiredHealthy: number,
    expectedPods: number,
    disruptedPods: Record<string, string>,
  ): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    // No budget for pods the controller has not yet seen: a fresh budget starts safe.
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const old = pdb.status;
    const generation = pdb.metadata?.generation;
    if (
      old && old.currentHealthy === currentHealthy && old.desiredHealthy === desiredHealthy &&
      old.expectedPods === expectedPods && old.disruptionsAllowed === disruptionsAllowed &&
      jsonEqual(old.disruptedPods ?? {}, disruptedPods) && old.observedGeneration === generation &&
      conditionUpToDate(pdb)
    ) return;
    const status: PdbStatus = {
      currentHealthy,
      desiredHealthy,
      expectedPods,
      disruptionsAllowed,
      observedGeneration: generation,
      conditions: old?.conditions ?? [],
    };
    if (Object.keys(disruptedPods).length > 0) status.disruptedPods = disruptedPods;
    status.conditions = setCondition(status.conditions ?? [], {
      type: DISRUPTION_ALLOWED,
      status: disruptionsAllowed > 0 ? "True" : "False",
      reason: disruptionsAllowed > 0 ? "SufficientPods" : "InsufficientPods",
      message: "",
      observedGeneration: generation,
      lastTransitionTime: "",
    });
    await this.#writeStatus(pdb, status);
  }

  async #failSafe(pdb: PodDisruptionBudget, message: string): Promise<void> {
    const old = pdb.status ??
      { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
    const status: PdbStatus = { ...old, disruptionsAllowed: 0 };
    status.conditions = setCondition(old.conditions ?? [], {
      type: DISRUPTION_ALLOWED,
      status: "False",
      reason: "SyncFailed",
      message,
      observedGeneration: old.observedGeneration,
      lastTransitionTime: "",
    });
    if (jsonEqual(status, pdb.status)) return;
    await this.#writeStatus(pdb, status);
  }

  async #writeStatus(pdb: PodDisruptionBudget, status: PdbStatus): Promise<void> {
    try {
      await this.#pdbApi.updateStatus(pdb.metadata!.namespace!, { ...pdb, status });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  /** Upstream's order: RC, the Deployment over a ReplicaSet, the ReplicaSet, StatefulSet, any scale. */
  #finders(): ControllerFinder[] {
    const inCache = (
      informer: { cache: { getByName(ns: string, name: string): unknown } },
      ref: OwnerReference,
      ns: string,
    ) => {
      const o = informer.cache.getByName(ns, ref.name) as Scalable | undefined;
      return o && o.metadata?.uid === ref.uid ? o : undefined;
    };
    const replicas = (o: Scalable | undefined): ControllerScale | undefined =>
      o ? { uid: o.metadata!.uid!, scale: o.spec?.replicas ?? 1 } : undefined;
    const isKind = (ref: OwnerReference, kind: string, groups: string[]) =>
      ref.kind === kind && groups.includes(groupOf(ref.apiVersion));
    const workloads = ["apps", "extensions"];
    const sync =
      (find: (ref: OwnerReference, ns: string) => ControllerScale | undefined): ControllerFinder =>
      (ref, ns) => Promise.resolve(find(ref, ns));
    return [
      sync((ref, ns) =>
        isKind(ref, "ReplicationController", [""]) ? replicas(inCache(this.#rcs, ref, ns)) : undefined
      ),
      sync((ref, ns) => {
        const rs = isKind(ref, "ReplicaSet", workloads) ? inCache(this.#rss, ref, ns) : undefined;
        const owner = rs && controllerRef(rs);
        return owner && isKind(owner, "Deployment", workloads)
          ? replicas(inCache(this.#deployments, owner, ns))
          : undefined;
      }),
      sync((ref, ns) => {
        const rs = isKind(ref, "ReplicaSet", workloads) ? inCache(this.#rss, ref, ns) : undefined;
        return rs && controllerRef(rs)?.kind !== "Deployment" ? replicas(rs) : undefined;
      }),
      sync((ref, ns) =>
        isKind(ref, "StatefulSet", ["apps"]) ? replicas(inCache(this.#statefulSets, ref, ns)) : undefined
      ),
      (ref, ns) => this.#scaleOf(ref, ns),
    ];
  }

  /** Any other controller, through its `scale` subresource (found by discovery). */
  async #scaleOf(ref: OwnerReference, namespace: string): Promise<ControllerScale | undefined> {
    const slash = ref.apiVersion.indexOf("/");
    const path = slash < 0 ? `/api/${ref.apiVersion}` : `/apis/${ref.apiVersion}`;
    const list = await this.#ctx.client.request<{ resources?: Array<{ name: string; kind: string }> }>(
      "GET",
      path,
    );
    const resource = list.resources?.find((r) => r.kind === ref.kind && !r.name.includes("/"));
    if (!resource) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    const group = groupOf(ref.apiVersion);
    const gr = group ? `${resource.name}.${group}` : resource.name;
    if (!list.resources?.some((r) => r.name === `${resource.name}/scale`)) {
      throw new Error(`${gr} does not implement the scale subresource`);
    }
    try {
      const scale = await this.#ctx.client.request<
        { metadata?: { uid?: string }; spec?: { replicas?: number } }
      >(
        "GET",
        `${path}/namespaces/${encodeURIComponent(namespace)}/${resource.name}/${
          encodeURIComponent(ref.name)
        }/scale`,
      );
      if (scale.metadata?.uid !== ref.uid) return undefined;
      return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
    } catch (err) {
      if (isStatusError(err, "NotFound")) return undefined;
      throw err;
    }
  }

  /** Milliseconds until the pod's DisruptionTarget condition goes stale; undefined if it has none to clear. */
  #staleDisruptionWait(pod: Pod): number | undefined {
    if (pod.metadata?.deletionTimestamp) return undefined;
    const cond = podCondition(pod, "DisruptionTarget");
    const phase = pod.status?.phase;
    if (
      !cond || cond.status !== "True" || cond.reason === "TerminationByKubelet" || phase === "Succeeded" ||
      phase === "Failed"
    ) return undefined;
    const since = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : Date.now();
    return Math.max(0, since + this.#staleTimeoutMs - Date.now());
  }

  async #syncStalePodDisruption(key: string): Promise<{ requeueAfterMs: number } | void> {
    const pod = this.#pods.cache.get(key);
    if (!pod) return;
    const wait = this.#staleDisruptionWait(pod);
    if (wait === undefined) return;
    if (wait > 0) return { requeueAfterMs: wait };
    const { namespace } = splitKey(key);
    const conditions = (pod.status?.conditions ?? []).map((c) =>
      c.type === "DisruptionTarget" ? { type: c.type, status: "False", lastTransitionTime: rfc3339() } : c
    );
    try {
      await this.#podApi.updateStatus(namespace, { ...pod, status: { ...pod.status, conditions } });
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }
}

/** Cached objects carry no kind; events name it. */
function asPdb(pdb: PodDisruptionBudget) {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: pdb.metadata };
}

function asPod(pod: Pod) {
  return { apiVersion: "v1", kind: "Pod", metadata: pod.metadata };
}

function safeSelector(pdb: PodDisruptionBudget): LabelSelector | null {
  try {
    return selectorFromLabelSelector(pdb.spec?.selector as never);
  } catch {
    return null;
  }
}

/** The selector as Go prints a `*metav1.LabelSelector` with `%v`. */
function selectorText(pdb: PodDisruptionBudget): string {
  const sel = pdb.spec?.selector;
  if (!sel) return "nil";
  const labels = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}:${v}`).join(" ");
  const exprs = (sel.matchExpressions ?? []).map((e) =>
    `&LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(" ")}],}`
  ).join(" ");
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/** Whether the DisruptionAllowed condition says what `disruptionsAllowed` does, for this generation. */
function conditionUpToDate(pdb: PodDisruptionBudget): boolean {
  const cond = pdb.status?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED);
  if (!cond || pdb.status?.observedGeneration !== pdb.metadata?.generation) return false;
  return (pdb.status?.disruptionsAllowed ?? 0) > 0
    ? cond.status === "True" && cond.reason === "SufficientPods"
    : cond.status === "False" && cond.reason === "InsufficientPods";
}

/** Sets a condition as upstream's SetStatusCondition: the transition time moves only when the status does. */
function setCondition(conditions: Condition[], next: Condition): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const cond: Condition = {
    ...next,
    lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime : rfc3339(),
  };
  if (cond.observedGeneration === undefined) delete cond.observedGeneration;
  return old ? conditions.map((c) => (c === old ? cond : c)) : [...conditions, cond];
}
