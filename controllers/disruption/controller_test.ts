import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import { newReplicaSetController } from "../replicaset/controller.ts";
import { newDisruptionController } from "./controller.ts";
import { scaledValue } from "./expected_pods.ts";
import type { Pod, PodDisruptionBudget } from "../types.ts";

const rs = (name: string, replicas: number) => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: "default" },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    },
  },
});

const pdb = (name: string, app: string, spec: Record<string, unknown>): PodDisruptionBudget => ({
  metadata: { name, namespace: "default" },
  spec: { selector: { matchLabels: { app } }, ...spec },
});

type Status = NonNullable<PodDisruptionBudget["status"]>;

function summary(s: Status | undefined) {
  const cond = s?.conditions?.find((c) => c.type === "DisruptionAllowed");
  return {
    expected: s?.expectedPods,
    current: s?.currentHealthy,
    desired: s?.desiredHealthy,
    allowed: s?.disruptionsAllowed,
    condition: cond && `${cond.status}/${cond.reason}`,
  };
}

test("scaledValue rounds percentages up", () => {
  assert.is(scaledValue(2, 10), 2);
  assert.is(scaledValue("50%", 3), 2);
  assert.is(scaledValue("34%", 3), 2);
  assert.is(scaledValue("0%", 3), 0);
  assert.throws(() => scaledValue("3", 3), /not a percentage/);
});

test("PDB status for a ReplicaSet's pods with minAvailable and maxUnavailable", async () => {
  const env = await startControllers([
    newReplicaSetController,
    newDisruptionController({ deletionTimeoutMs: 1500 }),
  ]);
  const kubelet = new AbortController();
  fakeKubelet(env.client, kubelet.signal);
  const pdbs = env.client.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets");
  const pods = env.client.resource<Pod>("", "pods");
  const status = async (name: string) => summary((await pdbs.get("default", name)).status);
  await env.client.resource("apps", "replicasets").create("default", rs("web", 3));
  await pdbs.create("default", pdb("min", "web", { minAvailable: 2 }));
  await pdbs.create("default", pdb("max", "web", { maxUnavailable: "34%" }));
  await pdbs.create("default", pdb("pct", "web", { minAvailable: "50%" }));
  const want = (expected: number, current: number, desired: number, allowed: number) => ({
    expected,
    current,
    desired,
    allowed,
    condition: allowed > 0 ? "True/SufficientPods" : "False/InsufficientPods",
  });
  await eventually(
    async () => {
      const [a, b, c] = [await status("min"), await status("max"), await status("pct")];
      assert.equal(a, want(3, 3, 2, 1));
      assert.equal(b, want(3, 3, 1, 2));
      assert.equal(c, want(3, 3, 2, 1));
      return true;
    },
    5000,
    "statuses of 3 ready pods",
  );
  const got = (await pdbs.get("default", "min")).status!;
  assert.is(got.observedGeneration, 1);

  // Scaling the ReplicaSet changes what the percentage budgets expect.
  await env.client.resource("apps", "replicasets").patch("default", "web", "merge", {
    spec: { replicas: 5 },
  });
  await eventually(
    async () => {
      assert.equal(await status("max"), want(5, 5, 3, 2));
      assert.equal(await status("pct"), want(5, 5, 3, 2));
      assert.equal(await status("min"), want(5, 5, 2, 3));
      return true;
    },
    5000,
    "statuses after scaling to 5",
  );

  // An eviction's fresh entry makes its pod count as unhealthy until the deletion timeout.
  const victim = (await pods.list("default", { labelSelector: "app=web" })).items[0].metadata!.name!;
  const fresh = (await pdbs.get("default", "min"))!;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await pdbs.updateStatus("default", {
    ...fresh,
    status: { ...fresh.status!, disruptedPods: { [victim]: now, "gone-pod": now } },
  });
  await eventually(
    async () => {
      const s = (await pdbs.get("default", "min")).status!;
      return s.currentHealthy === 4 && Object.keys(s.disruptedPods ?? {}).join() === victim;
    },
    3000,
    "disrupted pod not healthy; missing pod pruned",
  );
  await eventually(
    async () => {
      const s = (await pdbs.get("default", "min")).status!;
      return s.currentHealthy === 5 && !s.disruptedPods;
    },
    4000,
    "stale entry dropped after the deletion timeout",
  );
  await eventually(
    async () => {
      const events = await env.client.resource("", "events").list("default");
      return events.items.some((e) => e.reason === "NotDeleted");
    },
    3000,
    "NotDeleted event",
  );

  // Unhealthy pods leave no room for disruptions.
  await pdbs.patch("default", "min", "merge", { spec: { minAvailable: 5 } });
  await eventually(
    async () => {
      assert.equal(await status("min"), want(5, 5, 5, 0));
      return (await pdbs.get("default", "min")).status?.observedGeneration === 2;
    },
    3000,
    "minAvailable 5",
  );
  kubelet.abort();
  await env.close();
});

test("unmanaged pods and a missing controller", async () => {
  const env = await startControllers([newDisruptionController()]);
  const pdbs = env.client.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets");
  const pods = env.client.resource<Pod>("", "pods");
  await pods.create("default", {
    metadata: { name: "loose", namespace: "default", labels: { app: "loose" } },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  await pdbs.create("default", pdb("loose", "loose", { minAvailable: "50%" }));
  await eventually(
    async () => {
      const s = (await pdbs.get("default", "loose")).status;
      return s?.expectedPods === 0 && s.disruptionsAllowed === 0;
    },
    3000,
    "status with no controller",
  );
  await eventually(
    async () => {
      const events = await env.client.resource("", "events").list("default");
      return events.items.some((e) => e.reason === "UnmanagedPods");
    },
    3000,
    "UnmanagedPods event",
  );

  await pods.create("default", {
    metadata: {
      name: "orphaned",
      namespace: "default",
      labels: { app: "orphaned" },
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: "nope",
        uid: "123",
        controller: true,
      }],
    },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  await pdbs.create("default", pdb("orphaned", "orphaned", { maxUnavailable: 1 }));
  const cond = await eventually(
    async () => {
      const c = (await pdbs.get("default", "orphaned")).status?.conditions?.[0];
      return c?.reason === "SyncFailed" && c;
    },
    3000,
    "SyncFailed",
  );
  assert.is(cond.status, "False");
  assert.is(cond.message, 'found no controllers for pod "orphaned"');
  await env.close();
});

test("a stale DisruptionTarget condition is turned False", async () => {
  const env = await startControllers([newDisruptionController({ stalePodDisruptionTimeoutMs: 300 })]);
  const pods = env.client.resource<Pod>("", "pods");
  await pods.create("default", {
    metadata: { name: "spared", namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await pods.patch("default", "spared", "strategic", {
    status: {
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
      const c = (await pods.get("default", "spared")).status?.conditions?.find((c) =>
        c.type === "DisruptionTarget"
      );
      return c?.status === "False";
    },
    3000,
    "condition reset",
  );
  await env.close();
});

test.run();
