import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually } from "../framework/test_env.ts";
import {
  clients,
  deployment,
  deploymentEvents,
  isComplete,
  watchEvents,
  withControllers,
} from "./test_util.ts";
import type { Pod } from "./types.ts";

test("Recreate scales the old ReplicaSet to zero and waits for its pods to be gone before creating the new one", () =>
  withControllers(async (env) => {
    const { deployments, replicaSets } = clients(env);
    await deployments.create("default", deployment("db", 3, { strategy: { type: "Recreate" } }));
    await eventually(async () => isComplete(await deployments.get("default", "db")), 5000, "first rollout");
    const [old] = (await replicaSets.list("default")).items;

    const alive = new Map<string, string>(); // pod name → image
    let overlap = false;
    const stop = await watchEvents<Pod>(env, "", "pods", (type, p) => {
      if (type === "DELETED") alive.delete(p.metadata!.name!);
      else alive.set(p.metadata!.name!, p.spec!.containers[0].image!);
      const images = new Set(alive.values());
      if (images.has("nginx:1.0") && images.has("nginx:2.0")) overlap = true;
    });
    await deployments.patch("default", "db", "strategic", {
      spec: { template: { spec: { containers: [{ name: "c", image: "nginx:2.0" }] } } },
    });
    await eventually(
      async () => {
        const d = await deployments.get("default", "db");
        return d.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "2" && isComplete(d);
      },
      8000,
      "second rollout",
    );
    await stop();

    assert.not.ok(overlap, "an old pod still existed when a new one was made");
    const fresh = (await replicaSets.list("default")).items.find((rs) =>
      rs.metadata!.uid !== old.metadata!.uid
    )!;
    assert.equal((await deploymentEvents(env, "db")).slice(1), [
      `ScalingReplicaSet: Scaled down replica set ${old.metadata!.name} to 0 from 3`,
      `ScalingReplicaSet: Scaled up replica set ${fresh.metadata!.name} from 0 to 3`,
    ]);
    const d = await deployments.get("default", "db");
    const available = d.status!.conditions!.find((c) => c.type === "Available")!;
    assert.equal([available.status, available.reason], ["True", "MinimumReplicasAvailable"]);
  }));

test.run();
