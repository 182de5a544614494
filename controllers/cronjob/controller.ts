/**
 * The CronJob controller, as upstream's (v2): at each time the schedule names (in
 * `spec.timeZone`, else UTC), it creates a Job from `spec.jobTemplate`, named
 * `<cronjob>-<scheduled time in minutes since the epoch>` so the same time is never run twice,
 * and annotated `batch.kubernetes.io/cronjob-scheduled-timestamp`. It honours
 * `concurrencyPolicy` (Allow, Forbid: skip while a Job runs, Replace: delete the running ones
 * first), `startingDeadlineSeconds` (a time missed by more is skipped), and `suspend`; keeps
 * `status.active`, `lastScheduleTime` and `lastSuccessfulTime`; deletes finished Jobs beyond
 * `successfulJobsHistoryLimit` / `failedJobsHistoryLimit`; and looks again at the next time.
 */

import type { ResourceClient } from "../../machinery/client.ts";
import { jsonEqual, rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { ControllerContext, ControllerFactory, Runnable } from "../framework/mod.ts";
import { keyOf, splitKey } from "../framework/cache.ts";
import { Controller } from "../framework/controller.ts";
import type { EventRecorder } from "../framework/events.ts";
import type { Informer } from "../framework/informer.ts";
import { finishedConditionType, isJobFinished, isJobSucceeded } from "../job/conditions.ts";
import { controllerRef, ownerRefTo } from "../pods.ts";
import type { CronJob, Job, OwnerReference } from "../types.ts";
import type { Schema } from "../../openapi/generated/types.ts";
import { goQuote } from "../../machinery/cron/_go.ts";
import { Zone } from "../../machinery/cron/_zone.ts";
import {
  type CronJobTimes,
  nextScheduleTime,
  nextScheduleTimeDuration,
  parseSchedule,
  type Schedule,
  ScheduleError,
  TOO_MANY_MISSED_MESSAGE,
  validTimeZone,
} from "../../machinery/cron/schedule.ts";
import { clone } from "../../machinery/object_meta.ts";

type ObjectReference = Schema<"io.k8s.api.core.v1.ObjectReference">;

export const SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";

export interface CronJobControllerOptions {
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** Watches CronJobs and Jobs; creates and deletes Jobs; writes CronJob status. */
export function newCronJobController(options: CronJobControllerOptions = {}): ControllerFactory {
  return (ctx) => new CronJobController(ctx, options);
}

class CronJobController implements Runnable {
  readonly name = "cronjob";
  readonly #cronJobs: Informer<CronJob>;
  readonly #jobs: Informer<Job>;
  readonly #cronJobClient: ResourceClient<CronJob>;
  readonly #jobClient: ResourceClient<Job>;
  readonly #controller: Controller;
  readonly #recorder: EventRecorder;
  readonly #now: () => number;
  /** The last status this controller wrote per CronJob, until the informer shows it. */
  readonly #written = new Map<string, CronJob>();

  constructor(ctx: ControllerContext, options: CronJobControllerOptions) {
    this.#now = options.now ?? Date.now;
    this.#cronJobs = ctx.informers.informer<CronJob>("batch", "cronjobs");
    this.#jobs = ctx.informers.informer<Job>("batch", "jobs");
    this.#cronJobClient = ctx.client.resource<CronJob>("batch", "cronjobs");
    this.#jobClient = ctx.client.resource<Job>("batch", "jobs");
    this.#recorder = ctx.events.recorder("cronjob-controller");
    this.#controller = new Controller({
      name: this.name,
      workers: ctx.options.workers,
      reconcile: (key) => this.#sync(key),
    });
    const enqueue = (cj: CronJob) => this.#controller.enqueue(keyOf(cj));
    this.#cronJobs.addEventHandler({
      add: enqueue,
      update: (old, cj) => this.#cronJobUpdated(old, cj),
      delete: enqueue,
    });
    this.#jobs.addEventHandler({
      add: (job) => this.#jobChanged(job),
      update: (old, job) => {
        if (old.metadata?.resourceVersion === job.metadata?.resourceVersion) return;
        const oldRef = controllerRef(old);
        if (oldRef && oldRef.uid !== controllerRef(job)?.uid) {
          this.#enqueueOwner(old.metadata?.namespace, oldRef);
        }
        this.#jobChanged(job);
      },
      delete: (job) => this.#jobChanged(job),
    });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  #jobChanged(job: Job): void {
    const ref = controllerRef(job);
    if (ref) this.#enqueueOwner(job.metadata?.namespace, ref);
  }

  #enqueueOwner(namespace: string | undefined, ref: OwnerReference): void {
    if (ref.kind !== "CronJob") return;
    const cj = this.#cronJobs.cache.getByName(namespace ?? "", ref.name);
    if (cj?.metadata?.uid === ref.uid) this.#controller.enqueue(keyOf(cj));
  }

  /** A new schedule is looked at when it next fires; any other change at once. */
  #cronJobUpdated(old: CronJob, cj: CronJob): void {
    if (old.spec?.schedule === cj.spec?.schedule && old.spec?.timeZone === cj.spec?.timeZone) {
      this.#controller.enqueue(keyOf(cj));
      return;
    }
    const schedule = parseSchedule(cj.spec?.schedule ?? "");
    if (schedule instanceof ScheduleError) {
      this.#recorder.event(
        cj,
        "Warning",
        "UnParseableCronJobSchedule",
        `unparseable schedule for cronjob: ${cj.spec?.schedule}`,
      );
      return;
    }
    this.#controller.queue.addAfter(keyOf(cj), this.#nextScheduleDelay(cj, this.#now(), schedule) ?? 0);
  }

  async #sync(key: string): Promise<{ requeueAfterMs: number } | void> {
    const cached = this.#newest(key);
    if (!cached) return;
    const cj = clone(cached);
    const jobs = this.#jobsOf(cj);
    await this.#cleanupFinishedJobs(cj, jobs);
    let requeueAfterMs: number | undefined;
    let syncError: unknown;
    try {
      requeueAfterMs = await this.#syncCronJob(cj, jobs);
    } catch (err) {
      syncError = err;
    }
    // Whatever changed before a failure (a Job replaced, say) is written all the same.
    if (!jsonEqual(cached.status ?? {}, cj.status ?? {})) {
      // A merge patch: only this controller writes the status, and a spec change meanwhile
      // (a touch, a new schedule) must not undo the Job just created.
      const { namespace, name } = splitKey(key);
      const written = await this.#cronJobClient.patch(namespace, name, "merge", { status: cj.status }, {
        subresource: "status",
      });
      this.#written.set(key, written);
    }
    if (requeueAfterMs !== undefined) return { requeueAfterMs };
    if (syncError) throw syncError;
  }

  /**
   * The CronJob as cached, or as this controller last wrote it when the cache has not caught up
   * (an older `status.active` and `lastScheduleTime` would run a time twice).
   */
  #newest(key: string): CronJob | undefined {
    const cached = this.#cronJobs.cache.get(key);
    const written = this.#written.get(key);
    if (cached && written && written.metadata?.uid === cached.metadata?.uid && isNewer(written, cached)) {
      return written;
    }
    this.#written.delete(key);
    return cached;
  }

  /**
   * Makes the CronJob's Jobs match its schedule: settles `status.active` with the Jobs as they
   * are, then creates the Job of the most recent unmet scheduled time if it may run now.
   * Changes `cj.status` in place; answers when to look again (undefined: at the next change).
   */
  async #syncCronJob(cj: CronJob, jobs: Job[]): Promise<number | undefined> {
    const now = this.#now();
    let status = cj.status ??= {};
    const children = new Set<string>();
    for (const job of jobs) {
      const uid = job.metadata?.uid ?? "";
      children.add(uid);
      const found = inActiveList(cj, uid);
      if (!found && !isJobFinished(job)) {
        // Our status may be older than the Job: look at the CronJob as it is now.
        const fresh = await this.#cronJobClient.get(cj.metadata!.namespace!, cj.metadata!.name!);
        if (inActiveList(fresh, uid)) {
          Object.assign(cj, clone(fresh));
          status = cj.status ??= {};
          continue;
        }
        this.#recorder.event(
          cj,
          "Warning",
          "UnexpectedJob",
          `Saw a job that the controller did not create or forgot: ${job.metadata?.name}`,
        );
      } else if (found && isJobFinished(job)) {
        deleteFromActiveList(cj, uid);
        this.#recorder.event(
          cj,
          "Normal",
          "SawCompletedJob",
          `Saw completed job: ${job.metadata?.name}, condition: ${finishedConditionType(job)}`,
        );
      }
      if (isJobSucceeded(job) && job.status?.completionTime) {
        const last = status.lastSuccessfulTime;
        if (!last || Date.parse(job.status.completionTime) > Date.parse(last)) {
          status.lastSuccessfulTime = job.status.completionTime;
        }
      }
    }
    // A Job in the active list that no longer exists (checked with the server, not the cache).
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? "")) continue;
      try {
        await this.#jobClient.get(ref.namespace ?? cj.metadata!.namespace!, ref.name ?? "");
      } catch (err) {
        if (!isStatusError(err, "NotFound")) throw err;
        this.#recorder.event(cj, "Normal", "MissingJob", `Active job went missing: ${ref.name}`);
        deleteFromActiveList(cj, ref.uid ?? "");
      }
    }

    if (cj.metadata?.deletionTimestamp) return undefined;
    const timeZone = cj.spec?.timeZone;
    if (timeZone !== undefined && timeZone !== null && !validTimeZone(timeZone)) {
      this.#recorder.event(
        cj,
        "Warning",
        "UnknownTimeZone",
        `invalid timeZone: ${goQuote(timeZone)}: unknown time zone ${timeZone}`,
      );
      return undefined;
    }
    if (cj.spec?.suspend) return undefined;
    const spec = cj.spec?.schedule ?? "";
    if (spec.includes("TZ")) {
      const message = `CRON_TZ or TZ used in schedule ${goQuote(spec)} is not officially supported, ` +
        "see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details";
      this.#recorder.event(cj, "Warning", "UnsupportedSchedule", message);
    }
    const schedule = parseSchedule(spec);
    if (schedule instanceof ScheduleError) {
      this.#recorder.event(
        cj,
        "Warning",
        "UnparseableSchedule",
        `unparseable schedule: ${goQuote(spec)} : ${schedule.message}`,
      );
      return undefined;
    }
    const due = nextScheduleTime(timesOf(cj), schedule, new Date(now), { timeZone });
    if (due.tooManyMissed) this.#recorder.event(cj, "Warning", "TooManyMissedTimes", TOO_MANY_MISSED_MESSAGE);
    if (due.error !== undefined) {
      this.#recorder.event(cj, "Warning", "InvalidSchedule", `invalid schedule: ${spec} : ${due.error}`);
      return undefined;
    }
    const requeue = () => this.#nextScheduleDelay(cj, now, schedule);
    if (due.scheduled === null) return requeue();
    const scheduledTime = due.scheduled.getTime();

    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null && scheduledTime + deadline * 1000 < now) {
      this.#recorder.event(
        cj,
        "Warning",
        "MissSchedule",
        `Missed scheduled time to start a job: ${rfc1123z(scheduledTime)}`,
      );
      return requeue();
    }
    const name = jobName(cj, scheduledTime);
    const lastScheduled = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : undefined;
    if ((status.active ?? []).some((r) => r.name === name) || lastScheduled === scheduledTime) {
      return requeue(); // this time is done already
    }
    if (cj.spec?.concurrencyPolicy === "Forbid" && (status.active ?? []).length > 0) {
      this.#recorder.event(
        cj,
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
      );
      return requeue();
    }
    if (cj.spec?.concurrencyPolicy === "Replace") {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.#jobClient.get(ref.namespace ?? cj.metadata!.namespace!, ref.name ?? "");
        } catch (err) {
          this.#recorder.event(cj, "Warning", "FailedGet", `Get job: ${(err as Error).message}`);
          throw err;
        }
        if (!await this.#deleteJob(cj, job)) {
          throw new Error(`Could not replace job ${job.metadata?.namespace}/${job.metadata?.name}`);
        }
      }
    }

    const request = jobFromTemplate(cj, scheduledTime);
    let job: Job;
    try {
      job = await this.#jobClient.create(cj.metadata!.namespace!, request);
      this.#recorder.event(cj, "Normal", "SuccessfulCreate", `Created job ${job.metadata?.name}`);
    } catch (err) {
      if (isStatusError(err) && err.message.includes("because it is being terminated")) throw err;
      if (!isStatusError(err, "AlreadyExists")) {
        this.#recorder.event(cj, "Warning", "FailedCreate", `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Made before (the status write after it may have failed): take it, if it is ours.
      job = await this.#jobClient.get(cj.metadata!.namespace!, name);
      if (controllerRef(job)?.uid !== cj.metadata?.uid) return undefined;
      if (inActiveList(cj, job.metadata?.uid ?? "")) return undefined;
    }
    status.active = [...(status.active ?? []), jobReference(job)];
    status.lastScheduleTime = rfc3339(scheduledTime);
    return requeue();
  }

  /** Deletes the oldest finished Jobs beyond the history limits. */
  async #cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<void> {
    const successLimit = cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = cj.spec?.failedJobsHistoryLimit;
    if (
      (successLimit === undefined || successLimit === null) &&
      (failedLimit === undefined || failedLimit === null)
    ) {
      return;
    }
    const succeeded = jobs.filter((j) => finishedConditionType(j) === "Complete");
    const failed = jobs.filter((j) => finishedConditionType(j) === "Failed");
    for (const [list, limit] of [[succeeded, successLimit], [failed, failedLimit]] as const) {
      if (limit === undefined || limit === null || list.length <= limit) continue;
      const oldest = [...list].sort(byStartTime).slice(0, list.length - limit);
      for (const job of oldest) await this.#deleteJob(cj, job);
    }
  }

  /** Deletes a Job (its pods in the background) and its entry in the active list. */
  async #deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    try {
      await this.#jobClient.delete(job.metadata!.namespace!, job.metadata!.name!, {
        propagationPolicy: "Background",
      });
    } catch (err) {
      this.#recorder.event(cj, "Warning", "FailedDelete", `Deleted job: ${(err as Error).message}`);
      return false;
    }
    deleteFromActiveList(cj, job.metadata?.uid ?? "");
    this.#recorder.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${job.metadata?.name}`);
    return true;
  }

  /** Milliseconds until the next activation after the most recent one (plus a little). */
  #nextScheduleDelay(cj: CronJob, now: number, schedule: Schedule): number | undefined {
    return nextScheduleTimeDuration(timesOf(cj), schedule, new Date(now), { timeZone: cj.spec?.timeZone }) ??
      undefined;
  }

  /** The Jobs this CronJob controls (by controller reference). */
  #jobsOf(cj: CronJob): Job[] {
    return this.#jobs.cache.inNamespace(cj.metadata?.namespace ?? "").filter((job) => {
      const ref = controllerRef(job);
      return ref?.kind === "CronJob" && ref.name === cj.metadata?.name;
    });
  }
}

/** `a` has a later resourceVersion than `b` (revisions compared as numbers when both are). */
function isNewer(a: CronJob, b: CronJob): boolean {
  const ra = a.metadata?.resourceVersion ?? "";
  const rb = b.metadata?.resourceVersion ?? "";
  return /^\d+$/.test(ra) && /^\d+$/.test(rb) && BigInt(ra) > BigInt(rb);
}

function inActiveList(cj: CronJob, uid: string): boolean {
  return (cj.status?.active ?? []).some((r) => r.uid === uid);
}

function deleteFromActiveList(cj: CronJob, uid: string): void {
  if (!cj.status || !inActiveList(cj, uid)) return;
  cj.status.active = (cj.status.active ?? []).filter((r) => r.uid !== uid);
}

/** `<cronjob>-<scheduled time in minutes since the epoch>`: one name per scheduled time. */
export function jobName(cj: CronJob, scheduledTime: number): string {
  return `${cj.metadata?.name}-${Math.floor(scheduledTime / 60_000)}`;
}

/** The reference `status.active` keeps. */
function jobReference(job: Job): ObjectReference {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    name: job.metadata?.name,
    namespace: job.metadata?.namespace,
    uid: job.metadata?.uid,
    resourceVersion: job.metadata?.resourceVersion,
  };
}

/** Oldest start first; Jobs not started last; ties by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa || !sb) return sa ? -1 : sb ? 1 : (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  const d = Date.parse(sa) - Date.parse(sb);
  return d !== 0 ? d : (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

/** Go's RFC1123Z layout in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
function rfc1123z(t: number): string {
  return new Date(t).toUTCString().replace(/ GMT$/, " +0000");
}

/** The times the schedule helpers read from a CronJob. */
function timesOf(cj: CronJob): CronJobTimes {
  return {
    creationTimestamp: cj.metadata?.creationTimestamp ?? new Date(0),
    lastScheduleTime: cj.status?.lastScheduleTime,
    startingDeadlineSeconds: cj.spec?.startingDeadlineSeconds,
  };
}

/**
 * The Job for one scheduled time: the template's labels, annotations (plus the scheduled time,
 * RFC 3339 in `spec.timeZone`, else UTC) and spec, owned by the CronJob.
 */
export function jobFromTemplate(cj: CronJob, scheduledTime: number): Job {
  const template = cj.spec?.jobTemplate;
  const owner: OwnerReference = ownerRefTo({ ...cj, apiVersion: "batch/v1", kind: "CronJob" });
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName(cj, scheduledTime),
      namespace: cj.metadata?.namespace,
      labels: { ...template?.metadata?.labels },
      annotations: {
        ...template?.metadata?.annotations,
        [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339InZone(scheduledTime, cj.spec?.timeZone || "UTC"),
      },
      ownerReferences: [owner],
    },
    spec: clone(template?.spec ?? {}) as Job["spec"],
  };
}

/** Go's RFC 3339 layout of an instant in a zone: `2024-05-01T09:30:00+05:30`, `Z` at offset 0. */
export function rfc3339InZone(t: number, zone: string): string {
  const offset = Zone.of(zone).offset(t);
  const wall = new Date(t + offset).toISOString().replace(/\.\d+Z$/, "");
  if (offset === 0) return `${wall}Z`;
  const minutes = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${wall}${offset < 0 ? "-" : "+"}${hh}:${mm}`;
}
