import { test } from "uvu";
import * as assert from "uvu/assert";
import { rfc3339 } from "../../machinery/object_meta.ts";
import { isStatusError } from "../../machinery/status.ts";
import { eventually, startControllers } from "../framework/test_env.ts";
import { newTTLAfterFinishedController } from "./controller.ts";
import type { Job } from "../types.ts";

function job(name: string, ttl: number): Job {
  return {
    metadata: { name, namespace: "default" },
    spec: {
      ttlSecondsAfterFinished: ttl,
      template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
    },
  } as Job;
}

test("ttlSecondsAfterFinished: a finished Job is deleted once its TTL has passed, not before", async () => {
  let offsetMs = 0;
  const env = await startControllers([newTTLAfterFinishedController({ now: () => Date.now() + offsetMs })]);
  const jobs = env.client.resource<Job>("batch", "jobs");
  const finish = async (name: string, type: string) => {
    const j = await jobs.get("default", name);
    const t = rfc3339();
    j.status = { conditions: [{ type, status: "True", lastTransitionTime: t, lastProbeTime: t }] };
    await jobs.updateStatus("default", j);
  };
  await jobs.create("default", job("now", 0));
  await jobs.create("default", job("later", 60));
  await jobs.create("default", job("running", 0));
  await finish("now", "Complete");
  await finish("later", "Failed");
  const gone = (name: string) =>
    jobs.get("default", name).then(() => false, (e) => isStatusError(e, "NotFound"));
  await eventually(() => gone("now"), 3000, "job with ttl 0 deleted");
  await new Promise((r) => setTimeout(r, 150));
  assert.not.ok(await gone("later"), "TTL not yet passed");
  assert.not.ok(await gone("running"), "unfinished Jobs stay");
  offsetMs = 61_000;
  await jobs.patch("default", "later", "merge", { metadata: { labels: { poke: "1" } } });
  await eventually(() => gone("later"), 3000, "job deleted after its TTL");
  assert.not.ok(await gone("running"));
  await env.close();
});

test.run();
