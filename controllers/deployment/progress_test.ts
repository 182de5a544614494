import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually } from "../framework/test_env.ts";
import {
  clients,
  deployment,
  deploymentEvents,
  isComplete,
  nudgePods,
  withControllers,
} from "./test_util.ts";
import type { Deployment, Pod } from "./types.ts";

const progressing = (d: Deployment) => d.status?.conditions?.find((c) => c.type === "Progressing");
const newImage = (p: Pod) => p.spec?.containers?.[0]?.image === "nginx:2.0";

test("a paused deployment does not roll out but still scales; resumed, it rolls out", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create("default", deployment("web", 2));
    await eventually(async () => isComplete(await deployments.get("default", "web")), 5000, "first rollout");
    const [first] = (await replicaSets.list("default")).items;

    await deployments.patch("default", "web", "merge", { spec: { paused: true } });
    await eventually(
      async () => {
        const c = progressing(await deployments.get("default", "web"));
        return c?.status === "Unknown" && c.reason === "DeploymentPaused" &&
          c.message === "Deployment is paused";
      },
      3000,
      "DeploymentPaused",
    );

    await deployments.patch("default", "web", "strategic", {
      spec: { replicas: 4, template: { spec: { containers: [{ name: "c", image: "nginx:2.0" }] } } },
    });
    await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        return d.status?.observedGeneration === d.metadata?.generation && d.status?.availableReplicas === 4;
      },
      5000,
      "scaled while paused",
    );
    const sets = (await replicaSets.list("default")).items;
    assert.equal(
      sets.map((rs) => [rs.metadata!.name, rs.spec!.replicas]),
      [[first.metadata!.name, 4]],
      "no rollout",
    );

    await deployments.patch("default", "web", "merge", { spec: { paused: false } });
    const d = await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        return d.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "2" && isComplete(d) &&
          progressing(d)?.reason === "NewReplicaSetAvailable" && d;
      },
      8000,
      "rollout after resume",
    );
    assert.is(d.status!.updatedReplicas, 4);
    const events = await deploymentEvents(env, "web");
    assert.ok(
      events.includes(`ScalingReplicaSet: Scaled up replica set ${first.metadata!.name} to 4 from 2`),
      events.join("\n"),
    );
  }));

test("no progress within progressDeadlineSeconds: Progressing=False ProgressDeadlineExceeded; progress clears it", async () => {
  let holding = true;
  await withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create("default", deployment("web", 2));
    await eventually(async () => isComplete(await deployments.get("default", "web")), 5000, "first rollout");
    const [first] = (await replicaSets.list("default")).items;

    await deployments.patch("default", "web", "strategic", {
      spec: {
        progressDeadlineSeconds: 1,
        template: { spec: { containers: [{ name: "c", image: "nginx:2.0" }] } },
      },
    });
    const d = await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        return progressing(d)?.reason === "ProgressDeadlineExceeded" && d;
      },
      6000,
      "ProgressDeadlineExceeded",
    );
    const rs = (await replicaSets.list("default")).items.find((rs) =>
      rs.metadata!.uid !== first.metadata!.uid
    )!;
    const cond = progressing(d)!;
    assert.equal([cond.status, cond.message], [
      "False",
      `ReplicaSet "${rs.metadata!.name}" has timed out progressing.`,
    ]);
    assert.is(d.status!.updatedReplicas, 1, "one surge pod, never ready");
    assert.is(d.status!.unavailableReplicas, 1);

    holding = false;
    await nudgePods(env, `pod-template-hash=${rs.metadata!.labels!["pod-template-hash"]}`);
    const done = await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        return isComplete(d) && progressing(d)?.reason === "NewReplicaSetAvailable" && d;
      },
      8000,
      "completed after all",
    );
    assert.is(progressing(done)!.status, "True");
  }, { hold: (p) => holding && newImage(p) });
});

test.run();
