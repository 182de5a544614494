import { test } from "uvu";
import * as assert from "uvu/assert";
import { newControllerContext, runControllers } from "../framework/mod.ts";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import { newReplicaSetController } from "../replicaset/controller.ts";
import { newDeploymentController } from "./controller.ts";
import { clients, deployment, deploymentEvents, isComplete, withControllers } from "./test_util.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

const REVISION = "deployment.kubernetes.io/revision";
const HISTORY = "deployment.kubernetes.io/revision-history";

const setImage = (image: string, changeCause?: string) => ({
  ...(changeCause ? { metadata: { annotations: { "kubernetes.io/change-cause": changeCause } } } : {}),
  spec: { template: { spec: { containers: [{ name: "c", image }] } } },
});

async function rolledOut(
  deployments: ReturnType<typeof clients>["deployments"],
  revision: string,
): Promise<Deployment> {
  return await eventually(
    async () => {
      const d = await deployments.get("default", "web");
      return d.metadata?.annotations?.[REVISION] === revision && isComplete(d) && d;
    },
    8000,
    `revision ${revision} rolled out`,
  );
}

const byRevision = (sets: ReplicaSet[]) =>
  Object.fromEntries(sets.map((rs) => [rs.metadata!.annotations![REVISION], rs]));

test("old ReplicaSets beyond revisionHistoryLimit are deleted once scaled to zero", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create("default", deployment("web", 1, { revisionHistoryLimit: 1 }));
    await rolledOut(deployments, "1");
    for (const [i, image] of ["nginx:2.0", "nginx:3.0", "nginx:4.0"].entries()) {
      await deployments.patch("default", "web", "strategic", setImage(image));
      await rolledOut(deployments, String(i + 2));
    }
    const sets = await eventually(
      async () => {
        const sets = (await replicaSets.list("default")).items;
        return sets.length === 2 && sets;
      },
      3000,
      "two ReplicaSets left",
    );
    const kept = byRevision(sets);
    assert.equal(Object.keys(kept).sort(), ["3", "4"]);
    assert.is(kept["3"].spec!.replicas, 0);
    assert.is(kept["4"].spec!.template!.spec!.containers[0].image, "nginx:4.0");
  }));

test("rolling back to an old template reuses its ReplicaSet with the next revision and a revision history", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create("default", deployment("web", 2));
    await rolledOut(deployments, "1");
    await deployments.patch("default", "web", "strategic", setImage("nginx:2.0", "to two"));
    await rolledOut(deployments, "2");
    const before = byRevision((await replicaSets.list("default")).items);
    assert.is(
      before["2"].metadata!.annotations!["kubernetes.io/change-cause"],
      "to two",
      "change-cause copied",
    );

    // What `kubectl rollout undo` does: the template of revision 1, without its hash label.
    const template = structuredClone(before["1"].spec!.template!);
    delete template.metadata!.labels!["pod-template-hash"];
    await deployments.patch("default", "web", "merge", { spec: { template } });
    await rolledOut(deployments, "3");

    const sets = (await replicaSets.list("default")).items;
    assert.is(sets.length, 2, "no new ReplicaSet");
    const after = byRevision(sets);
    assert.is(
      after["3"].metadata!.uid,
      before["1"].metadata!.uid,
      "revision 1's ReplicaSet is revision 3 now",
    );
    assert.is(after["3"].metadata!.annotations![HISTORY], "1");
    assert.is(after["3"].spec!.replicas, 2);
    assert.is(after["2"].spec!.replicas, 0);

    // Back and forth again: the history grows.
    await deployments.patch("default", "web", "strategic", setImage("nginx:2.0"));
    await rolledOut(deployments, "4");
    await deployments.patch("default", "web", "merge", { spec: { template } });
    await rolledOut(deployments, "5");
    const last = byRevision((await replicaSets.list("default")).items);
    assert.is(last["5"].metadata!.annotations![HISTORY], "1,3");
    assert.is(last["4"].metadata!.annotations![HISTORY], "2");
  }));

test("the deprecated rollback request rolls back to the previous revision and is cleared", () =>
  withControllers(async (env) => {
    const { deployments } = clients(env);
    await deployments.create("default", deployment("web", 1));
    await rolledOut(deployments, "1");
    await deployments.patch("default", "web", "strategic", setImage("nginx:2.0"));
    await rolledOut(deployments, "2");
    await deployments.patch("default", "web", "merge", {
      metadata: { annotations: { "deprecated.deployment.rollback.to": "0" } },
    });
    const d = await rolledOut(deployments, "3");
    assert.is(d.spec!.template!.spec!.containers[0].image, "nginx:1.0");
    assert.is(d.metadata!.annotations!["deprecated.deployment.rollback.to"], undefined);
    const events = await deploymentEvents(env, "web");
    assert.ok(
      events.includes(`DeploymentRollback: Rolled back deployment "web" to revision 1`),
      events.join("\n"),
    );
  }));

test("adopts a matching orphan ReplicaSet with the same template; releases one that stops matching", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    const d = deployment("web", 1);
    const template = structuredClone(d.spec!.template!);
    template.metadata!.labels = { ...template.metadata!.labels, "pod-template-hash": "manual" };
    await replicaSets.create("default", {
      metadata: { name: "web-manual", namespace: "default", labels: template.metadata!.labels },
      spec: { replicas: 1, selector: { matchLabels: template.metadata!.labels }, template },
    });
    await deployments.create("default", d);
    await rolledOut(deployments, "1");
    const sets = (await replicaSets.list("default")).items;
    assert.equal(sets.map((rs) => rs.metadata!.name), ["web-manual"], "adopted, no other made");
    assert.equal(sets[0].metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.controller]), [[
      "Deployment",
      "web",
      true,
    ]]);

    await replicaSets.patch("default", "web-manual", "merge", { metadata: { labels: { app: "gone" } } });
    await eventually(
      async () => !(await replicaSets.get("default", "web-manual")).metadata!.ownerReferences?.length,
      3000,
      "released",
    );
    await eventually(
      async () => (await replicaSets.list("default")).items.length === 2,
      3000,
      "a new one made",
    );
  }));

test("the pod-template-hash is stable across restarts of the controller: no second ReplicaSet", async () => {
  const env = await startControllers([newReplicaSetController]);
  const kubelet = new AbortController();
  fakeKubelet(env.client, kubelet.signal);
  const { deployments, replicaSets } = clients(env);
  try {
    const first = new AbortController();
    await runControllers(newControllerContext(env.client, first.signal), [newDeploymentController]);
    await deployments.create("default", deployment("web", 2));
    await rolledOut(deployments, "1");
    const [rs] = (await replicaSets.list("default")).items;
    first.abort();

    const second = new AbortController();
    await runControllers(newControllerContext(env.client, second.signal), [newDeploymentController]);
    await deployments.patch("default", "web", "merge", { spec: { replicas: 3 } });
    await eventually(
      async () => isComplete(await deployments.get("default", "web")),
      5000,
      "scaled by the new one",
    );
    second.abort();
    const sets = (await replicaSets.list("default")).items;
    assert.equal(sets.map((s) => [s.metadata!.name, s.spec!.replicas]), [[rs.metadata!.name, 3]]);
  } finally {
    kubelet.abort();
    await env.close();
  }
});

test.run();
