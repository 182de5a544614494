import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import { type ControllerFactory, newControllerContext, runControllers } from "../framework/mod.ts";
import { newJobController } from "./controller.ts";
import { JOB_TRACKING_FINALIZER } from "./tracking.ts";
import type { Job, Pod } from "../types.ts";

const fast = newJobController({
  podFailureBackoffMs: 20,
  maxPodFailureBackoffMs: 200,
  syncBatchPeriodMs: 10,
});

function job(name: string, spec: Record<string, unknown> = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default" },
    spec: {
      template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
      ...spec,
    },
  } as Job;
}

type Phase = "Running" | "Succeeded" | "Failed";

async function start(phase: (pod: Pod) => Phase, factories: ControllerFactory[] = [fast]) {
  const env = await startControllers(factories);
  const kubelet = new AbortController();
  fakeKubelet(env.client, kubelet.signal, { phase });
  const jobs = env.client.resource<Job>("batch", "jobs");
  const pods = env.client.resource<Pod>("", "pods");
  const podsOf = async (name: string) =>
    (await pods.list("default", { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
  const condition = (j: Job, type: string) =>
    j.status?.conditions?.find((c) => c.type === type && c.status === "True");
  const finished = (name: string, type: string, ms = 5000) =>
    eventually(
      async () => {
        const j = await jobs.get("default", name);
        return condition(j, type) && j;
      },
      ms,
      `${name} ${type}`,
    );
  const events = async () =>
    (await env.client.resource("", "events").list("default")).items.map((e) => `${e.reason}: ${e.message}`);
  return {
    env,
    jobs,
    pods,
    podsOf,
    finished,
    events,
    async close() {
      kubelet.abort();
      await env.close();
    },
  };
}

test("Job: completions and parallelism, each pod counted once, Complete with events", async () => {
  const t = await start(() => "Succeeded");
  await t.jobs.create("default", job("pi", { completions: 5, parallelism: 2 }));
  const done = await t.finished("pi", "Complete");
  assert.is(done.status?.succeeded, 5);
  assert.is(done.status?.failed ?? 0, 0);
  assert.is(done.status?.active, 0);
  assert.ok(done.status?.startTime && done.status?.completionTime);
  const types = done.status!.conditions!.map((c) => `${c.type}/${c.reason}`);
  assert.equal(types, ["SuccessCriteriaMet/CompletionsReached", "Complete/CompletionsReached"]);
  const pods = await t.podsOf("pi");
  assert.is(pods.length, 5, "exactly completions pods");
  for (const p of pods) {
    assert.ok(p.metadata!.name!.startsWith("pi-"));
    assert.is(p.metadata!.labels!["batch.kubernetes.io/controller-uid"], done.metadata!.uid);
    assert.is(p.metadata!.labels!["job-name"], "pi");
    assert.is(p.metadata!.ownerReferences![0].kind, "Job");
    assert.not.ok(p.metadata!.finalizers?.includes(JOB_TRACKING_FINALIZER), "finalizer removed once counted");
  }
  await eventually(
    async () => (await t.events()).includes("Completed: Job completed"),
    2000,
    "Completed event",
  );
  const events = await t.events();
  assert.ok(events.some((e) => /^SuccessfulCreate: Created pod: pi-/.test(e)), events.join("\n"));
  await t.close();
});

test("Job: without completions (a work queue), the Job completes once a pod succeeded and none is active", async () => {
  const t = await start(() => "Succeeded");
  await t.jobs.create("default", job("queue", { parallelism: 3 }));
  const done = await t.finished("queue", "Complete");
  assert.is(done.spec?.completions, undefined);
  assert.is(done.status?.succeeded, 3);
  assert.is((await t.podsOf("queue")).length, 3);
  await t.close();
});

test("Job: pods carry the tracking finalizer while they run; status counts active and ready", async () => {
  const t = await start(() => "Running");
  await t.jobs.create("default", job("run", { completions: 3, parallelism: 3 }));
  await eventually(
    async () => {
      const j = await t.jobs.get("default", "run");
      return j.status?.active === 3 && j.status?.ready === 3 && j.status?.terminating === 0;
    },
    3000,
    "3 active, ready",
  );
  for (const p of await t.podsOf("run")) assert.ok(p.metadata!.finalizers?.includes(JOB_TRACKING_FINALIZER));
  await t.close();
});

test("Job: an Indexed Job runs each index once and reports completedIndexes", async () => {
  const t = await start(() => "Succeeded");
  await t.jobs.create("default", job("idx", { completions: 4, parallelism: 2, completionMode: "Indexed" }));
  const done = await t.finished("idx", "Complete");
  assert.is(done.status?.completedIndexes, "0-3");
  assert.is(done.status?.succeeded, 4);
  const pods = await t.podsOf("idx");
  assert.is(pods.length, 4);
  const indexes = pods.map((p) => p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"])
    .sort();
  assert.equal(indexes, ["0", "1", "2", "3"]);
  for (const p of pods) {
    const ix = p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"];
    assert.is(p.metadata!.labels!["batch.kubernetes.io/job-completion-index"], ix);
    assert.ok(p.metadata!.name!.startsWith(`idx-${ix}-`), p.metadata!.name);
    assert.is(p.spec!.hostname, `idx-${ix}`);
    const env = p.spec!.containers[0].env!.find((e) => e.name === "JOB_COMPLETION_INDEX");
    assert.is(
      env?.valueFrom?.fieldRef?.fieldPath,
      "metadata.labels['batch.kubernetes.io/job-completion-index']",
    );
  }
  await t.close();
});

test("Job: failed pods are retried up to backoffLimit, then BackoffLimitExceeded", async () => {
  const t = await start(() => "Failed");
  await t.jobs.create("default", job("fail", { backoffLimit: 2 }));
  const failed = await t.finished("fail", "Failed");
  const c = failed.status!.conditions!.find((c) => c.type === "Failed")!;
  assert.is(c.reason, "BackoffLimitExceeded");
  assert.is(c.message, "Job has reached the specified backoff limit");
  assert.ok(failed.status!.conditions!.some((c) => c.type === "FailureTarget"));
  assert.is(failed.status?.failed, 3);
  assert.is((await t.podsOf("fail")).length, 3, "one pod and two retries");
  await eventually(
    async () =>
      (await t.events()).includes("BackoffLimitExceeded: Job has reached the specified backoff limit"),
    2000,
    "BackoffLimitExceeded event",
  );
  await t.close();
});

test("Job: activeDeadlineSeconds ends a running Job with DeadlineExceeded and deletes its pods", async () => {
  const t = await start(() => "Running");
  await t.jobs.create("default", job("slow", { activeDeadlineSeconds: 1, parallelism: 2, completions: 2 }));
  await eventually(async () => (await t.jobs.get("default", "slow")).status?.active === 2, 3000, "running");
  const failed = await t.finished("slow", "Failed", 5000);
  const c = failed.status!.conditions!.find((c) => c.type === "Failed")!;
  assert.is(c.reason, "DeadlineExceeded");
  assert.is(c.message, "Job was active longer than specified deadline");
  assert.is(failed.status?.active, 0);
  assert.is(failed.status?.failed, 2);
  await eventually(async () => (await t.podsOf("slow")).length === 0, 3000, "pods gone");
  await t.close();
});

test("Job: podFailurePolicy FailJob on an exit code fails the Job at once", async () => {
  const t = await start(() => "Running");
  await t.jobs.create(
    "default",
    job("pfp", {
      completions: 2,
      parallelism: 2,
      backoffLimit: 6,
      podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [42] } }] },
    }),
  );
  const pods = await eventually(
    async () => {
      const p = await t.podsOf("pfp");
      return p.length === 2 && p.every((x) => x.status?.phase === "Running") && p;
    },
    3000,
    "2 running pods",
  );
  const victim = pods[0];
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await t.pods.patch("default", victim.metadata!.name!, "merge", {
    status: {
      phase: "Failed",
      containerStatuses: [{
        name: "c",
        image: "busybox",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 42, reason: "Error", startedAt: now, finishedAt: now } },
      }],
    },
  }, { subresource: "status" });
  const failed = await t.finished("pfp", "Failed");
  const c = failed.status!.conditions!.find((c) => c.type === "Failed")!;
  assert.is(c.reason, "PodFailurePolicy");
  assert.is(
    c.message,
    `Container c for pod default/${
      victim.metadata!.name
    } failed with exit code 42 matching FailJob rule at index 0`,
  );
  assert.is(failed.status?.failed, 2, "the failed pod and the one deleted with the Job");
  await t.close();
});

test("Job: suspend deletes active pods and sets Suspended; resume recreates them", async () => {
  const t = await start(() => "Running");
  await t.jobs.create("default", job("sus", { completions: 2, parallelism: 2, suspend: true }));
  const suspended = await t.finished("sus", "Suspended");
  assert.is(suspended.status!.conditions!.find((c) => c.type === "Suspended")!.reason, "JobSuspended");
  assert.is(suspended.status?.startTime, undefined);
  assert.is((await t.podsOf("sus")).length, 0);
  await t.jobs.patch("default", "sus", "merge", { spec: { suspend: false } });
  await eventually(
    async () => {
      const j = await t.jobs.get("default", "sus");
      const c = j.status?.conditions?.find((c) => c.type === "Suspended");
      return j.status?.active === 2 && c?.status === "False" && c.reason === "JobResumed" &&
        j.status?.startTime;
    },
    3000,
    "resumed with 2 active",
  );
  await t.jobs.patch("default", "sus", "merge", { spec: { suspend: true } });
  await eventually(
    async () => {
      const j = await t.jobs.get("default", "sus");
      return j.status?.active === 0 && (await t.podsOf("sus")).length === 0 &&
        j.status?.conditions?.find((c) => c.type === "Suspended")?.status === "True";
    },
    3000,
    "suspended again, pods gone",
  );
  const j = await t.jobs.get("default", "sus");
  assert.is(j.status?.failed ?? 0, 0, "pods deleted for suspension are not failures");
  const events = await t.events();
  assert.ok(
    events.includes("Suspended: Job suspended") && events.includes("Resumed: Job resumed"),
    events.join("\n"),
  );
  await t.close();
});

test("Job: backoffLimitPerIndex fails an index after its retries; the others complete; FailedIndexes", async () => {
  const ix = (p: Pod) => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"];
  const t = await start((p) => ix(p) === "1" ? "Failed" : "Succeeded");
  await t.jobs.create(
    "default",
    job("perindex", { completions: 3, parallelism: 3, completionMode: "Indexed", backoffLimitPerIndex: 1 }),
  );
  const failed = await t.finished("perindex", "Failed");
  const c = failed.status!.conditions!.find((c) => c.type === "Failed")!;
  assert.is(c.reason, "FailedIndexes");
  assert.is(c.message, "Job has failed indexes");
  assert.is(failed.status?.failedIndexes, "1");
  assert.is(failed.status?.completedIndexes, "0,2");
  assert.is(failed.status?.failed, 2);
  const retries = (await t.podsOf("perindex")).filter((p) => ix(p) === "1")
    .map((p) => p.metadata!.annotations!["batch.kubernetes.io/job-index-failure-count"]).sort();
  assert.equal(retries, ["0", "1"], "the replacement carries the index's failure count");
  await t.close();
});

test("Job: podFailurePolicy Ignore on DisruptionTarget replaces the pod without counting a failure", async () => {
  const t = await start(() => "Running");
  await t.jobs.create(
    "default",
    job("disrupted", {
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] },
    }),
  );
  const [pod] = await eventually(
    async () => {
      const p = await t.podsOf("disrupted");
      return p.length === 1 && p[0].status?.phase === "Running" && p;
    },
    3000,
    "running pod",
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await t.pods.patch("default", pod.metadata!.name!, "merge", {
    status: {
      phase: "Failed",
      conditions: [{
        type: "DisruptionTarget",
        status: "True",
        reason: "EvictionByEvictionAPI",
        lastTransitionTime: now,
      }],
    },
  }, { subresource: "status" });
  await eventually(
    async () => {
      const p = await t.podsOf("disrupted");
      return p.length === 2 && p.some((x) => x.status?.phase === "Running");
    },
    3000,
    "a replacement pod",
  );
  const j = await t.jobs.get("default", "disrupted");
  assert.is(j.status?.failed ?? 0, 0);
  assert.not.ok(j.status?.conditions?.some((c) => c.type === "Failed"));
  await t.close();
});

test("Job: a successPolicy ends an Indexed Job early with SuccessPolicy, deleting the rest", async () => {
  const ix = (p: Pod) => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"];
  const t = await start((p) => ix(p) === "0" ? "Succeeded" : "Running");
  await t.jobs.create(
    "default",
    job("leader", {
      completions: 3,
      parallelism: 3,
      completionMode: "Indexed",
      successPolicy: { rules: [{ succeededIndexes: "0" }] },
    }),
  );
  const done = await t.finished("leader", "Complete");
  const c = done.status!.conditions!.find((c) => c.type === "Complete")!;
  assert.is(c.reason, "SuccessPolicy");
  assert.is(c.message, "Matched rules at index 0");
  assert.is(done.status?.completedIndexes, "0");
  assert.is(done.status?.active, 0);
  await eventually(async () => (await t.podsOf("leader")).length === 1, 3000, "the running indexes deleted");
  await t.close();
});

test("Job: after a restart, pods recorded as uncounted or already counted are not counted again", async () => {
  const env = await startControllers([]);
  const jobs = env.client.resource<Job>("batch", "jobs");
  const pods = env.client.resource<Pod>("", "pods");
  const made = await jobs.create("default", job("restart", { completions: 3, parallelism: 1 }));
  const uid = made.metadata!.uid!;
  const podOf = async (name: string, finalizer: boolean) => {
    const p = await pods.create("default", {
      metadata: {
        name,
        namespace: "default",
        labels: { "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "restart" },
        finalizers: finalizer ? [JOB_TRACKING_FINALIZER] : [],
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "restart", uid, controller: true }],
      },
      spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
    } as Pod);
    const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await pods.patch("default", name, "merge", {
      status: {
        phase: "Succeeded",
        containerStatuses: [{
          name: "c",
          image: "busybox",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0, startedAt: t, finishedAt: t } },
        }],
      },
    }, { subresource: "status" });
    return p.metadata!.uid!;
  };
  await podOf("counted", false);
  const recorded = await podOf("recorded", true);
  await podOf("new", true);
  // What a controller that stopped between writing the status and removing the finalizer left.
  const j = await jobs.get("default", "restart");
  j.status = {
    startTime: j.metadata!.creationTimestamp,
    succeeded: 1,
    uncountedTerminatedPods: { succeeded: [recorded] },
  };
  await jobs.updateStatus("default", j);

  const abort = new AbortController();
  const ctx = newControllerContext(env.client, abort.signal);
  await runControllers(ctx, [fast]);
  const done = await eventually(
    async () => {
      const j = await jobs.get("default", "restart");
      return j.status?.conditions?.some((c) => c.type === "Complete") && j;
    },
    5000,
    "Complete",
  );
  assert.is(done.status?.succeeded, 3);
  assert.equal(done.status?.uncountedTerminatedPods, {});
  assert.is((await pods.list("default")).items.length, 3, "no pod created");
  for (const p of (await pods.list("default")).items) assert.equal(p.metadata!.finalizers ?? [], []);
  abort.abort();
  await ctx.events.flush();
  await env.close();
});

test("Job: with a manual selector, a matching orphan is adopted (owner and finalizer) and counts", async () => {
  const t = await start(() => "Running");
  await t.pods.create("default", {
    metadata: { name: "stray", namespace: "default", labels: { app: "manual" } },
    spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
  } as Pod);
  await eventually(
    async () => (await t.pods.get("default", "stray")).status?.phase === "Running",
    3000,
    "running",
  );
  await t.jobs.create(
    "default",
    job("manual", {
      manualSelector: true,
      selector: { matchLabels: { app: "manual" } },
      template: {
        metadata: { labels: { app: "manual" } },
        spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
      },
    }),
  );
  const adopted = await eventually(
    async () => {
      const p = await t.pods.get("default", "stray");
      return p.metadata?.ownerReferences?.[0]?.name === "manual" && p;
    },
    3000,
    "adoption",
  );
  assert.ok(adopted.metadata!.finalizers?.includes(JOB_TRACKING_FINALIZER));
  await eventually(
    async () => (await t.jobs.get("default", "manual")).status?.active === 1,
    3000,
    "active 1",
  );
  const pods = (await t.pods.list("default")).items.filter((p) => p.metadata?.labels?.app === "manual");
  assert.is(pods.length, 1, "no pod created beside the adopted one");
  assert.is(
    pods[0].metadata!.labels!["batch.kubernetes.io/controller-uid"],
    undefined,
    "manual selectors add no labels",
  );
  await t.close();
});

test("Job: a finished Job's leftover finalizers and deleted Jobs' pods are cleaned", async () => {
  const t = await start(() => "Running");
  await t.jobs.create("default", job("gone", { completions: 2, parallelism: 2 }));
  await eventually(async () => (await t.podsOf("gone")).length === 2, 3000, "2 pods");
  await t.jobs.delete("default", "gone", { propagationPolicy: "Orphan" });
  await eventually(
    async () => {
      const p = await t.podsOf("gone");
      return p.length === 2 && p.every((x) => !x.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER));
    },
    3000,
    "finalizers removed from the orphans",
  );
  await t.close();
});

test.run();
