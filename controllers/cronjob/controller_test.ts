import { test } from "uvu";
import * as assert from "uvu/assert";
import { rfc3339 } from "../../machinery/object_meta.ts";
import { eventually, startControllers } from "../framework/test_env.ts";
import { newCronJobController, SCHEDULED_TIMESTAMP_ANNOTATION } from "./controller.ts";
import type { CronJob, Job } from "../types.ts";

const MINUTE = 60_000;

function cronJob(name: string, spec: Record<string, unknown> = {}): CronJob {
  return {
    metadata: { name, namespace: "default" },
    spec: {
      schedule: "* * * * *",
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: {
          template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
        },
      },
      ...spec,
    },
  } as CronJob;
}

/** A server, the controller on a clock the test moves, and helpers. */
async function start() {
  const clock = { now: 0 };
  const env = await startControllers([newCronJobController({ now: () => clock.now })]);
  const cronJobs = env.client.resource<CronJob>("batch", "cronjobs");
  const jobs = env.client.resource<Job>("batch", "jobs");
  // The first minute boundary after now: the CronJobs made next were created before it.
  const base = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
  let pokes = 0;
  return {
    env,
    cronJobs,
    jobs,
    base,
    /** Moves the clock and touches the CronJob so the controller looks (its timer runs on real time). */
    async at(t: number, name: string) {
      clock.now = t;
      await cronJobs.patch("default", name, "merge", {
        metadata: { annotations: { poke: String(++pokes) } },
      });
    },
    jobName: (name: string, t: number) => `${name}-${Math.floor(t / MINUTE)}`,
    jobNames: async () => (await jobs.list("default")).items.map((j) => j.metadata!.name!).sort(),
    async finish(name: string, type: "Complete" | "Failed", started: number) {
      const j = await jobs.get("default", name);
      const t = rfc3339(started + 10_000);
      j.status = {
        startTime: rfc3339(started),
        ...(type === "Complete" ? { completionTime: t } : {}),
        conditions: [{ type, status: "True", lastTransitionTime: t, lastProbeTime: t }],
      };
      await jobs.updateStatus("default", j);
    },
    events: async () =>
      (await env.client.resource("", "events").list("default")).items.map((e) => `${e.reason}: ${e.message}`),
    setClock(t: number) {
      clock.now = t;
    },
  };
}

test("CronJob: a Job per scheduled time, named by its minute, annotated, listed as active", async () => {
  const t = await start();
  t.setClock(t.base + 5_000);
  await t.cronJobs.create("default", cronJob("tick"));
  const first = t.jobName("tick", t.base);
  const job = await eventually(() => t.jobs.get("default", first), 3000, first);
  assert.is(job.metadata!.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], rfc3339(t.base));
  assert.is(job.metadata!.labels!.app, "tick");
  const ref = job.metadata!.ownerReferences![0];
  assert.equal([ref.kind, ref.name, ref.controller], ["CronJob", "tick", true]);
  const cj = await eventually(
    async () => {
      const cj = await t.cronJobs.get("default", "tick");
      return cj.status?.active?.length === 1 && cj;
    },
    3000,
    "status.active",
  );
  assert.equal(
    [cj.status!.active![0].kind, cj.status!.active![0].name, cj.status!.active![0].uid],
    ["Job", first, job.metadata!.uid],
  );
  assert.is(cj.status!.lastScheduleTime, rfc3339(t.base));

  await t.at(t.base + MINUTE + 5_000, "tick");
  const second = t.jobName("tick", t.base + MINUTE);
  await eventually(() => t.jobs.get("default", second), 3000, second);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await t.jobNames(), [first, second], "one Job per time, however often it looks");
  const events = await t.events();
  assert.ok(events.includes(`SuccessfulCreate: Created job ${first}`), events.join("\n"));
  await t.env.close();
});

test("CronJob: Forbid skips a time while a Job runs, and runs it once that Job completes", async () => {
  const t = await start();
  t.setClock(t.base + 5_000);
  await t.cronJobs.create("default", cronJob("lock", { concurrencyPolicy: "Forbid" }));
  const first = t.jobName("lock", t.base);
  await eventually(() => t.jobs.get("default", first), 3000, first);
  await t.at(t.base + MINUTE + 5_000, "lock");
  await eventually(
    async () => (await t.events()).some((e) => e.startsWith("JobAlreadyActive:")),
    3000,
    "skipped",
  );
  assert.is(
    (await t.events()).find((e) => e.startsWith("JobAlreadyActive:")),
    "JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid",
  );
  assert.equal(await t.jobNames(), [first]);
  await t.finish(first, "Complete", t.base);
  const second = t.jobName("lock", t.base + MINUTE);
  await eventually(() => t.jobs.get("default", second), 3000, second);
  const cj = await eventually(
    async () => {
      const cj = await t.cronJobs.get("default", "lock");
      return cj.status?.active?.map((r) => r.name).join() === second && cj;
    },
    3000,
    "the new Job active",
  );
  assert.is(cj.status!.lastSuccessfulTime, rfc3339(t.base + 10_000));
  const events = await t.events();
  assert.ok(
    events.includes(`SawCompletedJob: Saw completed job: ${first}, condition: Complete`),
    events.join("\n"),
  );
  await t.env.close();
});

test("CronJob: Replace deletes the running Job and starts the new one", async () => {
  const t = await start();
  t.setClock(t.base + 5_000);
  await t.cronJobs.create("default", cronJob("swap", { concurrencyPolicy: "Replace" }));
  const first = t.jobName("swap", t.base);
  await eventually(() => t.jobs.get("default", first), 3000, first);
  await t.at(t.base + MINUTE + 5_000, "swap");
  const second = t.jobName("swap", t.base + MINUTE);
  await eventually(async () => (await t.jobNames()).join() === second, 3000, "replaced");
  await eventually(
    async () => {
      const cj = await t.cronJobs.get("default", "swap");
      return cj.status?.active?.map((r) => r.name).join() === second;
    },
    3000,
    "active is the new Job",
  );
  assert.ok((await t.events()).includes(`SuccessfulDelete: Deleted job ${first}`));
  await t.env.close();
});

test("CronJob: finished Jobs beyond the history limits are deleted, oldest first", async () => {
  const t = await start();
  t.setClock(t.base + 5_000);
  await t.cronJobs.create(
    "default",
    cronJob("hist", { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }),
  );
  const outcomes = ["Failed", "Failed", "Complete", "Complete"] as const;
  for (const [i, outcome] of outcomes.entries()) {
    const at = t.base + i * MINUTE;
    if (i > 0) await t.at(at + 5_000, "hist");
    const name = t.jobName("hist", at);
    await eventually(() => t.jobs.get("default", name), 3000, name);
    await t.finish(name, outcome, at);
  }
  const kept = [t.jobName("hist", t.base + MINUTE), t.jobName("hist", t.base + 3 * MINUTE)].sort();
  await eventually(async () => (await t.jobNames()).join() === kept.join(), 3000, `only ${kept}`);
  const cj = await eventually(
    async () => {
      const cj = await t.cronJobs.get("default", "hist");
      return !cj.status?.active?.length && !!cj.status?.lastSuccessfulTime && cj;
    },
    3000,
    "no Job active",
  );
  assert.is(cj.status!.lastSuccessfulTime, rfc3339(t.base + 3 * MINUTE + 10_000));
  assert.ok((await t.events()).includes(`SuccessfulDelete: Deleted job ${t.jobName("hist", t.base)}`));
  await t.env.close();
});

test("CronJob: nothing runs while suspended; a time missed by more than startingDeadlineSeconds is skipped", async () => {
  const t = await start();
  t.setClock(t.base + 30_000);
  await t.cronJobs.create("default", cronJob("sus", { suspend: true }));
  await t.cronJobs.create("default", cronJob("late", { startingDeadlineSeconds: 10 }));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await t.jobNames(), [], "suspended, and too late for the other");
  await t.cronJobs.patch("default", "sus", "merge", { spec: { suspend: false } });
  await eventually(() => t.jobs.get("default", t.jobName("sus", t.base)), 3000, "resumed");
  await t.at(t.base + MINUTE + 5_000, "late");
  await eventually(
    () => t.jobs.get("default", t.jobName("late", t.base + MINUTE)),
    3000,
    "next time in time",
  );
  assert.not.ok((await t.jobNames()).includes(t.jobName("late", t.base)));
  await t.env.close();
});

test("CronJob: spec.timeZone places the schedule and the scheduled-timestamp annotation in that zone", async () => {
  const t = await start();
  // 30 past the hour in Kolkata (+05:30) is the top of the hour in UTC.
  const hour = Math.ceil((Date.now() + 1) / (60 * MINUTE)) * 60 * MINUTE;
  t.setClock(hour + 5_000);
  await t.cronJobs.create("default", cronJob("tz", { schedule: "30 * * * *", timeZone: "Asia/Kolkata" }));
  const job = await eventually(() => t.jobs.get("default", t.jobName("tz", hour)), 3000, "job at the hour");
  const local = new Date(hour + 5.5 * 60 * MINUTE).toISOString().replace(/\.\d+Z$/, "+05:30");
  assert.is(job.metadata!.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], local);
  await t.env.close();
});

test("CronJob: an active Job deleted behind its back is dropped (MissingJob); a stray one is reported", async () => {
  const t = await start();
  t.setClock(t.base + 5_000);
  const cj = await t.cronJobs.create("default", cronJob("watch"));
  const first = t.jobName("watch", t.base);
  await eventually(
    async () => (await t.cronJobs.get("default", "watch")).status?.active?.length === 1,
    3000,
    "active",
  );
  await t.jobs.delete("default", first);
  await eventually(
    async () => !(await t.cronJobs.get("default", "watch")).status?.active?.length,
    3000,
    "dropped",
  );
  await t.jobs.create("default", {
    metadata: {
      name: "stray",
      namespace: "default",
      ownerReferences: [{
        apiVersion: "batch/v1",
        kind: "CronJob",
        name: "watch",
        uid: cj.metadata!.uid!,
        controller: true,
      }],
    },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
  } as Job);
  await eventually(
    async () => {
      const events = await t.events();
      return events.includes(`MissingJob: Active job went missing: ${first}`) &&
        events.includes("UnexpectedJob: Saw a job that the controller did not create or forgot: stray");
    },
    3000,
    "MissingJob and UnexpectedJob events",
  );
  await t.env.close();
});

test.run();
