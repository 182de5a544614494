import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually } from "../framework/test_env.ts";
import { isPodReady } from "../pods.ts";
import {
  clients,
  deployment,
  deploymentEvents,
  isComplete,
  watchEvents,
  withControllers,
} from "./test_util.ts";
import type { Pod, ReplicaSet } from "./types.ts";

const newImage = (p: Pod) => p.spec?.containers?.[0]?.image === "nginx:2.0";

test("an image change rolls out without ever exceeding maxSurge or maxUnavailable (25% of 6: 2 up, 1 down)", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets, pods: podClient } = clients(env);
    await deployments.create(
      "default",
      deployment("web", 6, {
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      }),
    );
    await eventually(async () => isComplete(await deployments.get("default", "web")), 5000, "first rollout");

    const specs = new Map<string, number>();
    const pods = new Map<string, Pod>();
    let maxSpecTotal = 0;
    let maxPods = 0;
    let minReady = Infinity;
    let live = false;
    const stopRS = await watchEvents<ReplicaSet>(env, "apps", "replicasets", (type, rs) => {
      if (type === "DELETED") specs.delete(rs.metadata!.name!);
      else specs.set(rs.metadata!.name!, rs.spec?.replicas ?? 0);
      maxSpecTotal = Math.max(maxSpecTotal, [...specs.values()].reduce((a, b) => a + b, 0));
    });
    const stopPods = await watchEvents<Pod>(env, "", "pods", (type, p) => {
      if (type === "DELETED" || p.metadata?.deletionTimestamp) pods.delete(p.metadata!.name!);
      else pods.set(p.metadata!.name!, p);
      maxPods = Math.max(maxPods, pods.size);
      if (live) minReady = Math.min(minReady, [...pods.values()].filter(isPodReady).length);
    });
    live = true;

    await deployments.patch("default", "web", "strategic", {
      spec: { template: { spec: { containers: [{ name: "c", image: "nginx:2.0" }] } } },
    });
    // New pods become ready one at a time, a little apart, so old ones go before new ones are ready.
    const d = await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        if (d.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "2" && isComplete(d)) return d;
        const waiting = (await podClient.list("default", { labelSelector: "app=web" })).items
          .filter((p) => newImage(p) && !p.metadata?.annotations?.["test/release"]);
        if (waiting.length) {
          await podClient.patch("default", waiting[0].metadata!.name!, "merge", {
            metadata: { annotations: { "test/release": "yes" } },
          });
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      8000,
      "second rollout",
    );
    await stopRS();
    await stopPods();

    assert.is(maxSpecTotal, 8, "ReplicaSets asked for 6 + 2 pods at most, and the surge was used");
    assert.ok(maxPods <= 8, `${maxPods} pods ran (at most 6 + 2)`);
    assert.is(minReady, 5, "6 - 1 pods were ready at least, and the allowance was used");
    const sets = (await replicaSets.list("default")).items;
    const byRevision = Object.fromEntries(
      sets.map((rs) => [rs.metadata!.annotations!["deployment.kubernetes.io/revision"], rs.spec!.replicas]),
    );
    assert.equal(byRevision, { "1": 0, "2": 6 });
    assert.is(d.status!.updatedReplicas, 6);
    assert.is(d.status!.replicas, 6);
  }, { hold: (p) => newImage(p) && !p.metadata?.annotations?.["test/release"] }));

test("maxUnavailable 0, maxSurge 1: one new pod up, one old pod down, in turn", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create(
      "default",
      deployment("web", 3, {
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      }),
    );
    await eventually(async () => isComplete(await deployments.get("default", "web")), 5000, "first rollout");
    const [first] = (await replicaSets.list("default")).items;
    await deployments.patch("default", "web", "strategic", {
      spec: { template: { spec: { containers: [{ name: "c", image: "nginx:2.0" }] } } },
    });
    await eventually(
      async () => {
        const d = await deployments.get("default", "web");
        return d.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "2" && isComplete(d);
      },
      8000,
      "second rollout",
    );
    const second = (await replicaSets.list("default")).items.find((rs) =>
      rs.metadata!.uid !== first.metadata!.uid
    )!;
    const a = first.metadata!.name;
    const b = second.metadata!.name;
    assert.equal((await deploymentEvents(env, "web")).slice(1), [
      `ScalingReplicaSet: Scaled up replica set ${b} from 0 to 1`,
      `ScalingReplicaSet: Scaled down replica set ${a} to 2 from 3`,
      `ScalingReplicaSet: Scaled up replica set ${b} to 2 from 1`,
      `ScalingReplicaSet: Scaled down replica set ${a} to 1 from 2`,
      `ScalingReplicaSet: Scaled up replica set ${b} to 3 from 2`,
      `ScalingReplicaSet: Scaled down replica set ${a} to 0 from 1`,
    ]);
  }));

test("scaling mid-rollout shares the new replicas out in proportion (10 → 15, surge 3)", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create(
      "default",
      deployment("web", 10, {
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await eventually(async () => isComplete(await deployments.get("default", "web")), 5000, "first rollout");
    const [old] = (await replicaSets.list("default")).items;
    await deployments.patch("default", "web", "strategic", {
      spec: { template: { spec: { containers: [{ name: "c", image: "nginx:2.0" }] } } },
    });
    // New pods never become ready: the rollout stops at old 8, new 5 (13 = 10 + 3; 8 = 10 - 2).
    const sizes = async () => {
      const sets = (await replicaSets.list("default")).items;
      const o = sets.find((rs) => rs.metadata!.uid === old.metadata!.uid)!;
      const n = sets.find((rs) => rs.metadata!.uid !== old.metadata!.uid);
      return { old: o.spec!.replicas, new: n?.spec?.replicas, newRS: n };
    };
    await eventually(
      async () => {
        const s = await sizes();
        return s.old === 8 && s.new === 5;
      },
      5000,
      "the rollout stuck at 8 old, 5 new",
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await sizes()).old, 8, "no further scale-down while the new pods are unavailable");

    await deployments.patch("default", "web", "merge", { spec: { replicas: 15 } });
    const s = await eventually(
      async () => {
        const s = await sizes();
        return s.old === 11 && s.new === 7 && s;
      },
      5000,
      "proportional scale-up",
    );
    for (const rs of [await replicaSets.get("default", old.metadata!.name!), s.newRS!]) {
      const a = (await replicaSets.get("default", rs.metadata!.name!)).metadata!.annotations!;
      assert.equal(
        [a["deployment.kubernetes.io/desired-replicas"], a["deployment.kubernetes.io/max-replicas"]],
        ["15", "18"],
      );
    }
    const events = await deploymentEvents(env, "web");
    assert.ok(
      events.includes(`ScalingReplicaSet: Scaled up replica set ${old.metadata!.name} to 11 from 8`),
      events.join("\n"),
    );
    assert.ok(
      events.includes(`ScalingReplicaSet: Scaled up replica set ${s.newRS!.metadata!.name} to 7 from 5`),
      events.join("\n"),
    );
  }, { hold: newImage }));

test.run();
