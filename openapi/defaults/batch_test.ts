import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function batch(kind: string, obj: Json): Json {
  applyDefaults("batch", "v1", kind, obj);
  return obj;
}

const POD_SPEC_DEFAULTS = {
  dnsPolicy: "ClusterFirst",
  schedulerName: "default-scheduler",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

const BUSYBOX = {
  image: "busybox",
  imagePullPolicy: "Always",
  resources: {},
  terminationMessagePath: "/dev/termination-log",
  terminationMessagePolicy: "File",
};

test("kubectl create job pi --image=busybox: the spec a v1.33 cluster returns (selector aside)", () => {
  // What kubectl sends; the selector and its labels come from the Job strategy, not defaulting.
  const job = batch("Job", {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi" },
    spec: {
      template: {
        metadata: {},
        spec: { containers: [{ image: "busybox", name: "pi", resources: {} }], restartPolicy: "Never" },
      },
    },
    status: {},
  });
  assert.equal(job.spec, {
    backoffLimit: 6,
    completionMode: "NonIndexed",
    completions: 1,
    parallelism: 1,
    podReplacementPolicy: "TerminatingOrFailed",
    suspend: false,
    template: {
      metadata: {},
      spec: { ...POD_SPEC_DEFAULTS, containers: [{ ...BUSYBOX, name: "pi" }], restartPolicy: "Never" },
    },
  });
  assert.equal(job.metadata, { name: "pi" });
  assert.is("manualSelector" in job.spec, false);
});

test("Job completions and parallelism: both 1 only when both are unset", () => {
  const parallel = batch("Job", { spec: { parallelism: 5 } });
  assert.equal([parallel.spec.completions, parallel.spec.parallelism], [undefined, 5]);
  const counted = batch("Job", { spec: { completions: 10 } });
  assert.equal([counted.spec.completions, counted.spec.parallelism], [10, 1]);
  const zero = batch("Job", { spec: { completions: 0, parallelism: 0 } });
  assert.equal([zero.spec.completions, zero.spec.parallelism], [0, 0]);
});

test("Job: a per-index backoff limit lifts the global one; a pod failure policy waits for failed pods", () => {
  const perIndex = batch("Job", {
    spec: { completionMode: "Indexed", completions: 3, backoffLimitPerIndex: 1 },
  });
  assert.is(perIndex.spec.backoffLimit, 2147483647);
  assert.is(perIndex.spec.completionMode, "Indexed");
  const policy = batch("Job", {
    spec: {
      podFailurePolicy: {
        rules: [
          {
            action: "Ignore",
            onPodConditions: [{ type: "DisruptionTarget" }, { type: "Custom", status: "False" }],
          },
          { action: "FailJob", onExitCodes: { operator: "In", values: [42] } },
        ],
      },
    },
  });
  assert.is(policy.spec.podReplacementPolicy, "Failed");
  assert.equal(policy.spec.podFailurePolicy.rules[0].onPodConditions, [
    { type: "DisruptionTarget", status: "True" },
    { type: "Custom", status: "False" },
  ]);
  const own = batch("Job", {
    spec: { backoffLimit: 0, suspend: true, podReplacementPolicy: "Failed", manualSelector: true },
  });
  assert.equal(
    [own.spec.backoffLimit, own.spec.suspend, own.spec.podReplacementPolicy, own.spec.manualSelector],
    [0, true, "Failed", true],
  );
});

test("a Job without labels takes its template's", () => {
  const job = batch("Job", {
    metadata: { name: "j" },
    spec: { template: { metadata: { labels: { app: "x" } } } },
  });
  assert.equal(job.metadata.labels, { app: "x" });
  const labelled = batch("Job", {
    metadata: { labels: { mine: "y" } },
    spec: { template: { metadata: { labels: { app: "x" } } } },
  });
  assert.equal(labelled.metadata.labels, { mine: "y" });
});

test("kubectl create cronjob tick --image=busybox --schedule='*/1 * * * *': only the pod template inside the job template", () => {
  const cj = batch("CronJob", {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "tick" },
    spec: {
      jobTemplate: {
        metadata: { name: "tick" },
        spec: {
          template: {
            metadata: {},
            spec: {
              containers: [{ image: "busybox", name: "tick", resources: {} }],
              restartPolicy: "OnFailure",
            },
          },
        },
      },
      schedule: "*/1 * * * *",
    },
    status: {},
  });
  assert.equal(cj.spec, {
    concurrencyPolicy: "Allow",
    failedJobsHistoryLimit: 1,
    jobTemplate: {
      metadata: { name: "tick" },
      spec: {
        template: {
          metadata: {},
          spec: {
            ...POD_SPEC_DEFAULTS,
            containers: [{ ...BUSYBOX, name: "tick" }],
            restartPolicy: "OnFailure",
          },
        },
      },
    },
    schedule: "*/1 * * * *",
    successfulJobsHistoryLimit: 3,
    suspend: false,
  });
});

test("CronJob: stated values kept", () => {
  const cj = batch("CronJob", {
    spec: {
      concurrencyPolicy: "Forbid",
      suspend: true,
      successfulJobsHistoryLimit: 0,
      failedJobsHistoryLimit: 0,
    },
  });
  assert.equal(
    [
      cj.spec.concurrencyPolicy,
      cj.spec.suspend,
      cj.spec.successfulJobsHistoryLimit,
      cj.spec.failedJobsHistoryLimit,
    ],
    ["Forbid", true, 0, 0],
  );
});

test.run();
