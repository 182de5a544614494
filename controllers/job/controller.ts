/**
 * The Job controller, as upstream's: runs a Job's pods to completion.
 *
 * Each sync reads the Job and its pods from the caches (adopting matching orphans, releasing
 * owned pods that stopped matching), then:
 * - decides whether the Job has finished — success (`completions` reached, or the success
 *   policy met) or failure (pod failure policy FailJob, `backoffLimit` exceeded,
 *   `activeDeadlineSeconds` passed, failed indexes) — and if so deletes its active pods;
 * - otherwise keeps up to `parallelism` pods active (none while suspended), creating pods for the
 *   first pending indexes of Indexed Jobs, after an exponential backoff once pods have failed;
 * - counts finished pods exactly once: each pod carries the `batch.kubernetes.io/job-tracking`
 *   finalizer; a finished pod is first recorded by uid in `status.uncountedTerminatedPods` (or,
 *   for Indexed Jobs, in `status.completedIndexes`), then its finalizer is removed, then it moves
 *   into `status.succeeded`/`failed`, so a restart between steps never counts it twice;
 * - writes the interim condition (SuccessCriteriaMet or FailureTarget) before removing the
 *   finalizers and the final one (Complete or Failed) once no pod is left uncounted or terminating.
 *
 * Pod events are batched (one sync per Job per `syncBatchPeriodMs`). A second queue removes the
 * finalizer from pods whose Job is gone or finished.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { matchesLabels, selectorFromLabelSelector } from "../../machinery/labels.ts";
import { jsonEqual, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ControllerContext, ControllerFactory, Runnable } from "../framework/mod.ts";
import { byController, keyOf } from "../framework/cache.ts";
import { Controller } from "../framework/controller.ts";
import { Expectations } from "../framework/expectations.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Informer } from "../framework/informer.ts";
import { controllerRef, isPodActive, isPodReady } from "../pods.ts";
import type { Job, OwnerReference, Pod } from "../types.ts";
import { BackoffStore, finishedTime, remainingBackoffMs } from "./backoff.ts";
import { ensureCondition, isJobFinished, newCondition } from "./conditions.ts";
import { firstPendingIndexes, indexesOf, mergeIntervals, NO_INDEX, withIndexes } from "./indexes.ts";
import {
  activePodsForRemoval,
  hasBackoffLimitPerIndex,
  indexAbsoluteFailureCount,
  indexedPodTemplate,
  isIndexedJob,
  isPodFailed,
  isPodTerminating,
  isSuspended,
  jobPodTemplate,
  jobSelector,
  onlyReplaceFailedPods,
} from "./job_pods.ts";
import { isNamespaceTerminating, JobPodControl } from "./pod_control.ts";
import { matchPodFailurePolicy } from "./pod_failure_policy.ts";
import { indexedProgress, judgeFinished, type SyncContext, uncountedOf, uncountedPods } from "./progress.ts";
import { StatusTracker } from "./status_tracker.ts";
import { FinalizerExpectations, hasTrackingFinalizer } from "./tracking.ts";
import { clone } from "../../machinery/object_meta.ts";

/** Upstream's delay before re-creating pods after the first failure, doubled per further failure. */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
/** Upstream's cap of that delay. */
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;
/** Pod events within this period make one sync. */
export const SYNC_BATCH_PERIOD_MS = 1_000;
/** Most pods one sync creates or deletes. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** The `spec.managedBy` of Jobs this controller syncs (or none). */
export const JOB_CONTROLLER_NAME = "kubernetes.io/job-controller";

export interface JobControllerOptions {
  /** Delay before re-creating pods after the first failure (upstream: 10 s). */
  podFailureBackoffMs?: number;
  /** Cap of the doubling delay (upstream: 6 min). */
  maxPodFailureBackoffMs?: number;
  /** Pod events are batched this long before a sync (upstream: 1 s). */
  syncBatchPeriodMs?: number;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** The Job controller: watches Jobs and pods; creates, deletes and un-finalizes pods; writes Job status. */
export function newJobController(options: JobControllerOptions = {}): ControllerFactory {
  return (ctx) => new JobController(ctx, options);
}

/** Pods without a controller, by namespace (the same index the ReplicaSet controller files). */
const orphansByNamespace = (p: Pod) => controllerRef(p) ? [] : [p.metadata?.namespace ?? ""];

/** `a` has a later resourceVersion than `b` (revisions compared as numbers when both are). */
function isNewer(a: Job, b: Job): boolean {
  const ra = a.metadata?.resourceVersion ?? "";
  const rb = b.metadata?.resourceVersion ?? "";
  return /^\d+$/.test(ra) && /^\d+$/.test(rb) && BigInt(ra) > BigInt(rb);
}

function managedByOther(job: Job): boolean {
  const by = job.spec?.managedBy;
  return !!by && by !== JOB_CONTROLLER_NAME;
}

class JobController implements Runnable {
  readonly name = "job";
  readonly #jobs: Informer<Job>;
  readonly #pods: Informer<Pod>;
  readonly #jobClient: ResourceClient<Job>;
  readonly #status: StatusTracker;
  readonly #podControl: JobPodControl;
  readonly #controller: Controller;
  readonly #orphans: Controller;
  readonly #expectations = new Expectations();
  readonly #finalizerExpectations = new FinalizerExpectations();
  readonly #backoff = new BackoffStore();
  /** The last status this controller wrote per Job, until the informer shows it. */
  readonly #written = new Map<string, Job>();
  readonly #recorder: EventRecorder;
  readonly #options: Required<Omit<JobControllerOptions, "now">>;
  readonly #now: () => number;

  constructor(ctx: ControllerContext, options: JobControllerOptions) {
    this.#options = {
      podFailureBackoffMs: options.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS,
      maxPodFailureBackoffMs: options.maxPodFailureBackoffMs ?? MAX_POD_FAILURE_BACKOFF_MS,
      syncBatchPeriodMs: options.syncBatchPeriodMs ?? SYNC_BATCH_PERIOD_MS,
    };
    this.#now = options.now ?? Date.now;
    this.#jobs = ctx.informers.informer<Job>("batch", "jobs");
    this.#pods = ctx.informers.informer<Pod>("", "pods", {
      indexers: { controller: byController, orphans: orphansByNamespace },
    });
    this.#jobClient = ctx.client.resource<Job>("batch", "jobs");
    this.#recorder = ctx.events.recorder("job-controller");
    this.#podControl = new JobPodControl(ctx.client.resource<Pod>("", "pods"), this.#recorder);
    this.#status = new StatusTracker({
      jobs: this.#jobClient,
      podControl: this.#podControl,
      finalizerExpectations: this.#finalizerExpectations,
      backoff: this.#backoff,
      recorder: this.#recorder,
      now: this.#now,
      written: (job) => this.#written.set(keyOf(job), job),
    });
    this.#controller = new Controller({
      name: "job",
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    this.#orphans = new Controller({
      name: "job-orphan-pod",
      workers: 1,
      reconcile: (key) => this.#syncOrphanPod(key),
    });
    this.#jobs.addEventHandler({
      add: (job) => this.#enqueue(job, 0),
      update: (old, job) => this.#jobUpdated(old, job),
      delete: (job) => {
        this.#enqueue(job, 0);
        this.#cleanupPodFinalizers(job);
      },
    });
    this.#pods.addEventHandler({
      add: (pod) => this.#podAdded(pod),
      update: (old, pod) => this.#podUpdated(old, pod),
      delete: (pod) => this.#podDeleted(pod, true),
    });
  }

  run(): void {
    this.#controller.run();
    this.#orphans.run();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#controller.stop(), this.#orphans.stop()]);
  }

  // ---- event handlers: map events to keys ----

  #enqueue(job: Job, delayMs: number): void {
    this.#controller.queue.addAfter(keyOf(job), delayMs);
  }

  #enqueueBatched(job: Job): void {
    this.#enqueue(job, this.#options.syncBatchPeriodMs);
  }

  /** The Job a controller reference names, if it is in the cache with that uid. */
  #resolve(namespace: string, ref: OwnerReference): Job | undefined {
    if (ref.kind !== "Job") return undefined;
    const job = this.#jobs.cache.getByName(namespace, ref.name);
    return job?.metadata?.uid === ref.uid ? job : undefined;
  }

  /** Jobs in the pod's namespace whose selector takes it (for orphans). */
  #matchingJobs(pod: Pod): Job[] {
    const labels = pod.metadata?.labels ?? {};
    return this.#jobs.cache.inNamespace(pod.metadata?.namespace ?? "").filter((job) => {
      try {
        const sel = selectorFromLabelSelector(jobSelector(job));
        return !!sel && matchesLabels(sel, labels);
      } catch {
        return false;
      }
    });
  }

  #jobUpdated(old: Job, job: Job): void {
    this.#enqueue(
      job,
      old.metadata?.generation === job.metadata?.generation ? this.#options.syncBatchPeriodMs : 0,
    );
    // Finished Jobs keep no finalizers on their pods; a backstop should any remain.
    if (isJobFinished(job)) this.#cleanupPodFinalizers(job);
    const deadline = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (start && deadline !== undefined && old.spec?.activeDeadlineSeconds !== deadline) {
      const remaining = deadline * 1000 - (this.#now() - Date.parse(start));
      this.#enqueue(job, Math.max(0, remaining));
    }
  }

  #podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.#podDeleted(pod, false);
    const ref = controllerRef(pod);
    if (ref) {
      const job = this.#resolve(pod.metadata?.namespace ?? "", ref);
      if (!job) return;
      this.#expectations.creationObserved(keyOf(job));
      this.#enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.#orphans.enqueue(keyOf(pod));
    for (const job of this.#matchingJobs(pod)) this.#enqueueBatched(job);
  }

  #podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp) return this.#podDeleted(pod, false);
    const finalizerRemoved = !hasTrackingFinalizer(pod);
    const uid = pod.metadata?.uid ?? "";
    const ref = controllerRef(pod);
    const oldRef = controllerRef(old);
    const refChanged = !jsonEqual(ref, oldRef);
    if (refChanged && oldRef) {
      const job = this.#resolve(old.metadata?.namespace ?? "", oldRef);
      if (job) {
        if (finalizerRemoved) this.#finalizerExpectations.removalObserved(keyOf(job), uid);
        this.#enqueueBatched(job);
      }
    }
    if (ref) {
      const job = this.#resolve(pod.metadata?.namespace ?? "", ref);
      if (!job) return;
      if (finalizerRemoved) this.#finalizerExpectations.removalObserved(keyOf(job), uid);
      this.#enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.#orphans.enqueue(keyOf(pod));
    if (refChanged || !jsonEqual(old.metadata?.labels, pod.metadata?.labels)) {
      for (const job of this.#matchingJobs(pod)) this.#enqueueBatched(job);
    }
  }

  /** `final`: the pod is gone (not merely marked for deletion). */
  #podDeleted(pod: Pod, final: boolean): void {
    const ref = controllerRef(pod);
    const hasFinalizer = hasTrackingFinalizer(pod);
    if (!ref) {
      if (hasFinalizer) this.#orphans.enqueue(keyOf(pod));
      return;
    }
    const job = this.#resolve(pod.metadata?.namespace ?? "", ref);
    if (!job || isJobFinished(job)) {
      if (hasFinalizer) this.#orphans.enqueue(keyOf(pod));
      return;
    }
    const key = keyOf(job);
    this.#expectations.deletionObserved(key, pod.metadata?.uid ?? "");
    if (final || !hasFinalizer) this.#finalizerExpectations.removalObserved(key, pod.metadata?.uid ?? "");
    this.#enqueueBatched(job);
  }

  /** Queues the Job's pods that still carry the finalizer for its removal. */
  #cleanupPodFinalizers(job: Job): void {
    for (const pod of this.#pods.cache.byIndex("controller", job.metadata?.uid ?? "")) {
      if (hasTrackingFinalizer(pod)) this.#orphans.enqueue(keyOf(pod));
    }
  }

  // ---- the orphan queue ----

  /** Removes the tracking finalizer from a pod no unfinished Job of ours controls. */
  async #syncOrphanPod(key: string): Promise<void> {
    const pod = this.#pods.cache.get(key);
    if (!pod) return;
    const ref = controllerRef(pod);
    if (ref) {
      if (ref.kind !== "Job" || ref.apiVersion !== "batch/v1") return;
      const job = this.#resolve(pod.metadata?.namespace ?? "", ref);
      if (job && (managedByOther(job) || !isJobFinished(job))) return;
    }
    try {
      await this.#podControl.removeFinalizer(pod);
    } catch (err) {
      if (!isStatusError(err, "NotFound")) throw err;
    }
  }

  // ---- the sync ----

  async #sync(key: string): Promise<void> {
    const shared = this.#newest(key);
    if (!shared) {
      this.#expectations.forget(key);
      this.#finalizerExpectations.forget(key);
      this.#backoff.remove(key);
      return;
    }
    if (managedByOther(shared)) return;
    if (isJobFinished(shared)) {
      this.#backoff.remove(key);
      return;
    }
    const mode = shared.spec?.completionMode;
    if (mode !== undefined && mode !== "NonIndexed" && mode !== "Indexed") {
      this.#recorder.event(
        shared,
        "Warning",
        "UnknownCompletionMode",
        "Skipped Job sync because completion mode is unknown",
      );
      return;
    }
    const job = clone(shared);
    const status = job.status ??= {};
    status.uncountedTerminatedPods = uncountedOf(job);
    const now = this.#now();

    // Expectations first: a pod created after this look cannot sneak into the count below.
    const satisfied = this.#expectations.satisfied(key);
    const pods = await this.#podsForJob(job);
    const active = pods.filter(isPodActive);
    const c: SyncContext = {
      key,
      job,
      pods,
      active,
      succeeded: 0,
      failed: 0,
      prevSucceededIndexes: [],
      succeededIndexes: [],
      backoff: { key, failuresAfterLastSuccess: 0 },
      expectedRemovals: this.#finalizerExpectations.expected(key),
      uncounted: {
        succeeded: new Set(status.uncountedTerminatedPods.succeeded),
        failed: new Set(status.uncountedTerminatedPods.failed),
      },
      delayedDeletion: new Map(),
      terminating: pods.filter(isPodTerminating).length,
      ready: active.filter(isPodReady).length,
    };
    let activeCount = active.length;
    const newSucceeded = uncountedPods(c, c.uncounted.succeeded, (p) => p.status?.phase === "Succeeded");
    const newFailed = uncountedPods(c, c.uncounted.failed, (p) => isPodFailed(p, job));
    const policy = job.spec?.podFailurePolicy;
    const newFailedCounted = policy
      ? newFailed.filter((p) => matchPodFailurePolicy(policy, p).countFailed).length
      : newFailed.length;
    c.succeeded = (status.succeeded ?? 0) + newSucceeded.length + c.uncounted.succeeded.size;
    c.failed = (status.failed ?? 0) + newFailedCounted + c.uncounted.failed.size;

    const startTimeBefore = status.startTime;
    if (!status.startTime && !isSuspended(job)) status.startTime = rfc3339(now);
    c.backoff = this.#backoff.next(key, newSucceeded, newFailed);

    const untilDeadline = judgeFinished(c, now);
    if (untilDeadline !== undefined) this.#controller.queue.addAfter(key, untilDeadline);
    if (isIndexedJob(job)) indexedProgress(c, now);

    let suspendChanged = false;
    let manageError: unknown;
    if (c.finished) {
      const { deletedReady, deleted, error } = await this.#deleteActivePods(job, c.active);
      // Not finished yet while pods remain or the cache may not show every pod.
      if (deleted !== activeCount || !satisfied) c.finished = undefined;
      activeCount -= deleted;
      c.terminating += deleted;
      c.ready -= deletedReady;
      manageError = error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        const result = await this.#manageJob(c);
        activeCount = result.active;
        manageError = result.error;
        managed = true;
      }
      const completions = job.spec?.completions;
      const complete = (completions === undefined || completions === null)
        ? c.succeeded > 0 && activeCount === 0
        : c.succeeded >= completions && activeCount === 0;
      if (complete) {
        c.finished = newCondition(
          "SuccessCriteriaMet",
          "True",
          "CompletionsReached",
          "Reached expected number of succeeded pods",
          now,
        );
      } else if (managed) {
        // Conditions and events only from a sync that managed the pods.
        const conditions = c.job.status!.conditions ?? [];
        if (isSuspended(job)) {
          if (ensureCondition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now)) {
            suspendChanged = true;
            this.#recorder.event(job, "Normal", "Suspended", "Job suspended");
          }
        } else if (ensureCondition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now)) {
          suspendChanged = true;
          this.#recorder.event(job, "Normal", "Resumed", "Job resumed");
          // activeDeadlineSeconds counts time continuously active: the clock starts again.
          c.job.status!.startTime = rfc3339(now);
        }
        if (conditions.length) c.job.status!.conditions = conditions;
      }
    }

    const s = c.job.status!;
    const needsUpdate = suspendChanged || s.startTime !== startTimeBefore ||
      activeCount !== (s.active ?? 0) ||
      c.ready !== s.ready || c.terminating !== s.terminating;
    s.active = activeCount;
    s.ready = c.ready;
    s.terminating = c.terminating;
    await this.#status.track(c, needsUpdate);
    if (manageError) throw manageError;
  }

  /**
   * The Job as cached, or as this controller last wrote it when the cache has not caught up yet
   * (counting from an older status than the one written would count pods again).
   */
  #newest(key: string): Job | undefined {
    const cached = this.#jobs.cache.get(key);
    const written = this.#written.get(key);
    if (!cached || !written || written.metadata?.uid !== cached.metadata?.uid) {
      this.#written.delete(key);
      return cached;
    }
    if (isNewer(written, cached)) return written;
    this.#written.delete(key);
    return cached;
  }

  /** The Job's pods: owned ones that match (releasing the rest) and matching orphans it adopts. */
  async #podsForJob(job: Job): Promise<Pod[]> {
    const selector = selectorFromLabelSelector(jobSelector(job));
    const namespace = job.metadata!.namespace!;
    const claimed: Pod[] = [];
    for (const pod of this.#pods.cache.byIndex("controller", job.metadata!.uid!)) {
      if (selector && matchesLabels(selector, pod.metadata?.labels ?? {})) claimed.push(pod);
      else if (!job.metadata?.deletionTimestamp) await this.#podControl.release(job, pod);
    }
    if (job.metadata?.deletionTimestamp || !selector) return claimed;
    let canAdopt: boolean | undefined;
    for (const pod of this.#pods.cache.byIndex("orphans", namespace)) {
      if (pod.metadata?.deletionTimestamp || !matchesLabels(selector, pod.metadata?.labels ?? {})) {
        continue;
      }
      // Adopt only for a Job that still exists with this uid and is not being deleted (a fresh read).
      canAdopt ??= await this.#jobClient.get(namespace, job.metadata!.name!).then(
        (fresh) => fresh.metadata?.uid === job.metadata?.uid && !fresh.metadata?.deletionTimestamp,
        () => false,
      );
      if (!canAdopt) break;
      const adopted = await this.#podControl.adopt(job, pod);
      if (adopted) claimed.push(adopted);
    }
    return claimed;
  }

  /**
   * Keeps the active pods at what the Job wants: none while suspended, else up to
   * `parallelism` and no more than the completions still needed. Deletes or creates, never both
   * in one sync. Answers the active count after.
   */
  async #manageJob(c: SyncContext): Promise<{ active: number; error?: unknown }> {
    const job = c.job;
    const key = c.key;
    let active = c.active.length;
    const parallelism = job.spec?.parallelism ?? 1;

    if (isSuspended(job)) {
      const victims = activePodsForRemoval(job, c.active, active);
      const { removedReady, removed, error } = await this.#deleteJobPods(job, key, victims);
      c.terminating += removed;
      c.ready -= removedReady;
      return { active: active - removed, error };
    }

    let wantActive: number;
    const completions = job.spec?.completions;
    if (completions === undefined || completions === null) {
      // Without completions, once any pod has succeeded the rest are left to finish.
      wantActive = c.succeeded > 0 ? active : parallelism;
    } else {
      wantActive = Math.max(0, Math.min(completions - c.succeeded, parallelism));
    }

    const victims = activePodsForRemoval(job, c.active, Math.max(0, active - wantActive))
      .slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (victims.length > 0) {
      const { removedReady, removed, error } = await this.#deleteJobPods(job, key, victims);
      c.terminating += removed;
      c.ready -= removedReady;
      return { active: active - removed, error };
    }

    const terminating = onlyReplaceFailedPods(job) ? c.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return { active };

    const now = this.#now();
    const { podFailureBackoffMs: base, maxPodFailureBackoffMs: max } = this.#options;
    if (!hasBackoffLimitPerIndex(job)) {
      const wait = remainingBackoffMs(
        c.backoff.failuresAfterLastSuccess,
        c.backoff.lastFailureTime,
        now,
        base,
        max,
      );
      if (wait > 0) {
        this.#controller.queue.addAfter(key, Math.max(wait, this.#options.syncBatchPeriodMs));
        return { active };
      }
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);

    let indexes: number[] = [];
    if (isIndexedJob(job)) {
      const completionCount = completions ?? 0;
      let taken = withIndexes(c.succeededIndexes, indexesOf(c.active));
      if (onlyReplaceFailedPods(job)) taken = withIndexes(taken, indexesOf(c.pods.filter(isPodTerminating)));
      if (c.failedIndexes) taken = mergeIntervals(taken, c.failedIndexes);
      indexes = firstPendingIndexes(taken, diff, completionCount);
      if (hasBackoffLimitPerIndex(job)) {
        // Each index waits out its own backoff, counted from its last failed pod.
        let soonest: number | undefined;
        const ready = indexes.filter((ix) => {
          const last = c.delayedDeletion.get(ix);
          if (!last) return true;
          const wait = remainingBackoffMs(
            indexAbsoluteFailureCount(last) + 1,
            finishedTime(last),
            now,
            base,
            max,
          );
          if (wait === 0) return true;
          soonest = Math.min(soonest ?? wait, wait);
          return false;
        });
        if (ready.length === 0 && soonest !== undefined) {
          this.#controller.queue.addAfter(key, Math.max(soonest, this.#options.syncBatchPeriodMs));
          return { active };
        }
        indexes = ready;
      }
      diff = indexes.length;
      if (diff === 0) return { active };
    }

    this.#expectations.expectCreations(key, diff);
    active += diff;
    const baseTemplate = jobPodTemplate(job);
    let error: unknown;
    // Slow start: batches of 1, 2, 4, …; a batch with a failure ends the run.
    for (let batch = Math.min(diff, 1); diff > 0; batch = Math.min(2 * batch, diff)) {
      let failures = 0;
      await Promise.all(Array.from({ length: batch }, () => {
        const ix = indexes.length ? indexes.shift()! : NO_INDEX;
        let template = baseTemplate;
        let generateName = `${job.metadata!.name}-`;
        if (ix !== NO_INDEX) {
          ({ template, generateName } = indexedPodTemplate(job, baseTemplate, ix, c.delayedDeletion.get(ix)));
        }
        return this.#podControl.create(job, template, generateName).catch((err) => {
          this.#expectations.creationObserved(key);
          active--;
          // A namespace being deleted takes no new pods: every later creation would fail too.
          if (isNamespaceTerminating(err)) return;
          failures++;
          error ??= err;
        });
      }));
      diff -= batch;
      if (failures > 0 && diff > 0) {
        // Those never attempted will not be seen either; the next sync tries again.
        active -= diff;
        for (let i = 0; i < diff; i++) this.#expectations.creationObserved(key);
        break;
      }
    }
    return { active, error };
  }

  /** Removes the finalizers of pods being deleted for scale-down or suspension, then deletes them. */
  async #deleteJobPods(
    job: Job,
    key: string,
    pods: Pod[],
  ): Promise<{ removedReady: number; removed: number; error?: unknown }> {
    if (pods.length === 0) return { removedReady: 0, removed: 0 };
    this.#expectations.expectDeletions(key, pods.map((p) => p.metadata!.uid!));
    let removed = 0;
    let removedReady = 0;
    let error: unknown;
    await Promise.all(pods.map(async (pod) => {
      const fail = (err: unknown) => {
        this.#expectations.deletionObserved(key, pod.metadata!.uid!);
        if (isStatusError(err, "NotFound")) return true;
        error ??= err;
        return false;
      };
      try {
        await this.#podControl.removeFinalizer(pod);
      } catch (err) {
        if (fail(err)) removed++;
        return;
      }
      if (await this.#podControl.delete(job, pod).then(() => true, fail)) {
        removed++;
        if (isPodReady(pod)) removedReady++;
      }
    }));
    return { removedReady, removed, error };
  }

  /** Deletes the active pods of a finished Job, keeping their finalizers (they are counted after). */
  async #deleteActivePods(
    job: Job,
    pods: Pod[],
  ): Promise<{ deletedReady: number; deleted: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(pods.map(async (pod) => {
      try {
        await this.#podControl.delete(job, pod);
      } catch (err) {
        if (!isStatusError(err, "NotFound")) {
          error ??= err;
          return;
        }
      }
      deleted++;
      if (isPodReady(pod)) deletedReady++;
    }));
    return { deletedReady, deleted, error };
  }
}
