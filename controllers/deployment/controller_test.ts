import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually } from "../framework/test_env.ts";
import { clients, deployment, deploymentEvents, withControllers } from "./test_util.ts";

test("creates a ReplicaSet named by the template hash, its pods run, the deployment becomes Available", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets, pods } = clients(env);
    const d0 = deployment("web", 3);
    d0.metadata!.annotations = { "kubernetes.io/change-cause": "first" };
    await deployments.create("default", d0);

    const d = await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        return d.status?.availableReplicas === 3 && d.status?.updatedReplicas === 3 &&
          d.status.conditions?.find((c) => c.type === "Progressing")?.reason === "NewReplicaSetAvailable" &&
          d;
      },
      5000,
      "deployment complete",
    );
    assert.equal(
      {
        replicas: d.status!.replicas,
        updated: d.status!.updatedReplicas,
        ready: d.status!.readyReplicas,
        available: d.status!.availableReplicas,
        unavailable: d.status!.unavailableReplicas ?? 0,
        observed: d.status!.observedGeneration,
      },
      { replicas: 3, updated: 3, ready: 3, available: 3, unavailable: 0, observed: d.metadata!.generation },
    );
    assert.is(d.metadata?.annotations?.["deployment.kubernetes.io/revision"], "1");

    const [rs] = (await replicaSets.list("default")).items;
    const hash = rs.metadata!.labels!["pod-template-hash"];
    assert.ok(/^[bcdfghjklmnpqrstvwxz2456789]+$/.test(hash), hash);
    assert.is(rs.metadata!.name, `web-${hash}`);
    assert.equal(rs.spec!.selector.matchLabels, { app: "web", "pod-template-hash": hash });
    assert.is(rs.spec!.template!.metadata!.labels!["pod-template-hash"], hash);
    assert.equal(rs.metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.controller]), [[
      "Deployment",
      "web",
      true,
    ]]);
    const a = rs.metadata!.annotations!;
    assert.equal(
      [
        a["deployment.kubernetes.io/revision"],
        a["deployment.kubernetes.io/desired-replicas"],
        a["deployment.kubernetes.io/max-replicas"],
        a["kubernetes.io/change-cause"],
      ],
      ["1", "3", "4", "first"],
    );
    assert.is((await pods.list("default", { labelSelector: `pod-template-hash=${hash}` })).items.length, 3);

    const conds = Object.fromEntries(
      d.status!.conditions!.map((c) => [c.type, [c.status, c.reason, c.message]]),
    );
    assert.equal(conds.Available, [
      "True",
      "MinimumReplicasAvailable",
      "Deployment has minimum availability.",
    ]);
    assert.equal(conds.Progressing, [
      "True",
      "NewReplicaSetAvailable",
      `ReplicaSet "web-${hash}" has successfully progressed.`,
    ]);
    assert.equal(await deploymentEvents(env, "web"), [
      `ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 3`,
    ]);
  }));

test("`kubectl create deployment nginx --image=nginx` makes ReplicaSet nginx-5869d7778c, as Kubernetes 1.33 names it", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    // The object kubectl sends.
    await deployments.create("default", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "nginx", labels: { app: "nginx" }, creationTimestamp: null } as never,
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "nginx" } },
        strategy: {},
        template: {
          metadata: { labels: { app: "nginx" }, creationTimestamp: null } as never,
          spec: { containers: [{ name: "nginx", image: "nginx", resources: {} }] },
        },
      },
      status: {},
    });
    const rs = await eventually(async () => (await replicaSets.list("default")).items[0], 3000, "ReplicaSet");
    assert.is(rs.metadata!.name, "nginx-5869d7778c");
  }));

test.run();
