import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, fakeKubelet, startControllers } from "../framework/test_env.ts";
import type { Client } from "../../machinery/client.ts";
import type { Pod, StatefulSet } from "../types.ts";
import { newStatefulSetController } from "./controller.ts";
import type { PersistentVolumeClaim } from "./set_utils.ts";

function sts(name: string, replicas: number, spec: Record<string, unknown> = {}): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
      ...spec,
    },
  } as StatefulSet;
}

async function livePods(client: Client, app: string): Promise<Pod[]> {
  const list = await client.resource<Pod>("", "pods").list("default", { labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function names(client: Client, app: string): Promise<string[]> {
  return (await livePods(client, app)).map((p) => p.metadata!.name!).sort();
}

/** Names of pods as the watch reports them deleted, in order. */
function recordDeletions(client: Client, signal: AbortSignal): string[] {
  const deleted: string[] = [];
  (async () => {
    try {
      for await (const e of client.resource<Pod>("", "pods").watch("default", { signal })) {
        if (e.type === "DELETED") deleted.push(e.object.metadata!.name!);
      }
    } catch {
      // stopped
    }
  })();
  return deleted;
}

async function eventMessages(client: Client): Promise<string[]> {
  const events = await client.resource("", "events").list("default");
  return events.items.map((e) => `${e.reason} ${e.message}`);
}

test("OrderedReady: one pod at a time, each Running and Ready first; scale down from the highest ordinal", async () => {
  const env = await startControllers([newStatefulSetController]);
  const stop = new AbortController();
  let held = true;
  fakeKubelet(env.client, stop.signal, { hold: () => held });
  const sets = env.client.resource<StatefulSet>("apps", "statefulsets");
  await sets.create("default", sts("web", 3));
  await eventually(async () => (await names(env.client, "web")).length === 1, 3000, "web-0");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await names(env.client, "web"), ["web-0"], "web-1 waits for web-0 to be Ready");
  held = false;
  // The kubelet looks again when the pod next changes; nudge web-0.
  await env.client.resource("", "pods").patch("default", "web-0", "merge", {
    metadata: { labels: { nudge: "1" } },
  });
  await eventually(
    async () => (await livePods(env.client, "web")).filter((p) => p.status?.phase === "Running").length === 3,
    5000,
    "three running",
  );
  const pods = await livePods(env.client, "web");
  const set = await eventually(
    async () => {
      const s = await sets.get("default", "web");
      return s.status?.readyReplicas === 3 && s;
    },
    3000,
    "status",
  );
  assert.equal(pods.map((p) => p.metadata!.name).sort(), ["web-0", "web-1", "web-2"]);
  for (const p of pods) {
    const name = p.metadata!.name!;
    assert.is(p.metadata!.labels!["statefulset.kubernetes.io/pod-name"], name);
    assert.is(p.metadata!.labels!["apps.kubernetes.io/pod-index"], name.slice(4));
    assert.is(p.metadata!.labels!["controller-revision-hash"], set.status!.updateRevision);
    assert.is(p.spec!.hostname, name);
    assert.is(p.spec!.subdomain, "web");
    assert.equal(p.metadata!.ownerReferences![0].kind, "StatefulSet");
  }
  assert.is(set.status!.replicas, 3);
  assert.is(set.status!.currentReplicas, 3);
  assert.is(set.status!.updatedReplicas, 3);
  assert.is(set.status!.availableReplicas, 3);
  assert.is(set.status!.currentRevision, set.status!.updateRevision);
  assert.is(set.status!.observedGeneration, set.metadata!.generation);
  assert.ok(set.status!.updateRevision!.startsWith("web-"));
  const revision = await env.client.resource("apps", "controllerrevisions").get(
    "default",
    set.status!.updateRevision!,
  );
  assert.is(revision.metadata!.ownerReferences![0].name, "web");
  assert.ok(revision.metadata!.labels!["controller.kubernetes.io/hash"]);

  const deleted = recordDeletions(env.client, stop.signal);
  await new Promise((r) => setTimeout(r, 50));
  await sets.patch("default", "web", "merge", { spec: { replicas: 1 } });
  await eventually(async () => (await names(env.client, "web")).length === 1, 5000, "scaled to 1");
  await eventually(() => deleted.length === 2, 2000, "two deletions seen");
  assert.equal(deleted, ["web-2", "web-1"]);
  await env.ctx.events.flush();
  const messages = await eventMessages(env.client);
  assert.ok(
    messages.includes("SuccessfulCreate create Pod web-0 in StatefulSet web successful"),
    messages.join("\n"),
  );
  assert.ok(
    messages.includes("SuccessfulDelete delete Pod web-2 in StatefulSet web successful"),
    messages.join("\n"),
  );
  stop.abort();
  await env.close();
});

test("Parallel: every pod at once, from spec.ordinals.start, without waiting for readiness", async () => {
  const env = await startControllers([newStatefulSetController]);
  await env.client.resource("apps", "statefulsets").create(
    "default",
    sts("par", 3, { podManagementPolicy: "Parallel", ordinals: { start: 5 } }),
  );
  // No kubelet: the pods stay Pending, yet all are made.
  await eventually(async () => (await names(env.client, "par")).length === 3, 3000, "three pods");
  assert.equal(await names(env.client, "par"), ["par-5", "par-6", "par-7"]);
  await env.close();
});

test("claims from volumeClaimTemplates, named per pod, referenced by its volumes, owned per the retention policy", async () => {
  const env = await startControllers([newStatefulSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  const sets = env.client.resource<StatefulSet>("apps", "statefulsets");
  await sets.create(
    "default",
    sts("db", 2, {
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" },
      volumeClaimTemplates: [{
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      }],
    }),
  );
  const claims = env.client.resource<PersistentVolumeClaim>("", "persistentvolumeclaims");
  const set = await sets.get("default", "db");
  await eventually(
    async () => {
      const l = await claims.list("default");
      const owned = l.items.filter((c) => c.metadata?.ownerReferences?.[0]?.uid === set.metadata!.uid);
      return owned.length === 2;
    },
    5000,
    "two claims owned by the set",
  );
  const list = await claims.list("default");
  assert.equal(list.items.map((c) => c.metadata!.name).sort(), ["data-db-0", "data-db-1"]);
  assert.is(list.items[0].metadata!.labels!.app, "db");
  await eventually(async () => (await livePods(env.client, "db")).length === 2, 3000, "two pods");
  for (const p of await livePods(env.client, "db")) {
    const volume = p.spec!.volumes!.find((v) => v.name === "data");
    assert.is(volume?.persistentVolumeClaim?.claimName, `data-${p.metadata!.name}`);
  }
  const db1 = (await livePods(env.client, "db")).find((p) => p.metadata!.name === "db-1")!;
  await eventually(async () => (await sets.get("default", "db")).status?.readyReplicas === 2, 3000, "ready");
  await sets.patch("default", "db", "merge", { spec: { replicas: 1 } });
  const scaled = await eventually(
    async () => {
      const c = await claims.get("default", "data-db-1");
      const refs = c.metadata?.ownerReferences ?? [];
      return refs.length === 1 && refs[0].kind === "Pod" && c;
    },
    5000,
    "the scaled-down pod's claim owned by the pod",
  );
  assert.is(scaled.metadata!.ownerReferences![0].uid, db1.metadata!.uid);
  assert.is((await claims.get("default", "data-db-0")).metadata!.ownerReferences![0].kind, "StatefulSet");
  await env.ctx.events.flush();
  const messages = await eventMessages(env.client);
  assert.ok(
    messages.includes("SuccessfulCreate create Claim data-db-0 Pod db-0 in StatefulSet db success"),
    messages.join("\n"),
  );
  stop.abort();
  await env.close();
});

test("RollingUpdate with a partition: from the highest ordinal down; pods below the partition keep the old revision", async () => {
  const env = await startControllers([newStatefulSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  const sets = env.client.resource<StatefulSet>("apps", "statefulsets");
  await sets.create(
    "default",
    sts("ru", 3, { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }),
  );
  const first = await eventually(
    async () => {
      const s = await sets.get("default", "ru");
      return s.status?.readyReplicas === 3 && s;
    },
    5000,
    "three ready",
  );
  const oldRevision = first.status!.currentRevision!;
  const deleted = recordDeletions(env.client, stop.signal);
  await new Promise((r) => setTimeout(r, 50));
  await sets.patch("default", "ru", "merge", {
    spec: { template: { metadata: { labels: { app: "ru", version: "2" } } } },
  });
  const updated = await eventually(
    async () => {
      const s = await sets.get("default", "ru");
      return s.status?.updatedReplicas === 2 && s.status.readyReplicas === 3 && s;
    },
    5000,
    "two updated",
  );
  assert.is(updated.status!.currentRevision, oldRevision);
  assert.is.not(updated.status!.updateRevision, oldRevision);
  assert.is(updated.status!.currentReplicas, 1);
  const revisionOf = async () =>
    Object.fromEntries(
      (await livePods(env.client, "ru")).map((
        p,
      ) => [p.metadata!.name, p.metadata!.labels!["controller-revision-hash"]]),
    );
  assert.equal(await revisionOf(), {
    "ru-0": oldRevision,
    "ru-1": updated.status!.updateRevision,
    "ru-2": updated.status!.updateRevision,
  });
  assert.equal(deleted.slice(0, 2), ["ru-2", "ru-1"]);
  await sets.patch("default", "ru", "merge", {
    spec: { updateStrategy: { rollingUpdate: { partition: 0 } } },
  });
  const done = await eventually(
    async () => {
      const s = await sets.get("default", "ru");
      return s.status?.currentRevision === updated.status!.updateRevision &&
        s.status?.currentReplicas === 3 && s;
    },
    5000,
    "rollout complete",
  );
  assert.is(done.status!.updatedReplicas, 3);
  assert.equal(Object.values(await revisionOf()), [
    done.status!.updateRevision,
    done.status!.updateRevision,
    done.status!.updateRevision,
  ]);

  // Rolling back to the first template brings its revision back, renumbered newest.
  await sets.patch("default", "ru", "merge", {
    spec: { template: { metadata: { labels: { version: null } } } },
  });
  const back = await eventually(
    async () => {
      const s = await sets.get("default", "ru");
      return s.status?.currentRevision === oldRevision && s.status.currentReplicas === 3 && s;
    },
    5000,
    "rolled back",
  );
  assert.is(back.status!.updateRevision, oldRevision);
  const revisions = (await env.client.resource("apps", "controllerrevisions").list("default")).items;
  assert.equal(
    revisions.map((r) => [r.metadata!.name, r.revision]).sort(),
    [[oldRevision, 3], [done.status!.updateRevision, 2]].sort(),
  );
  stop.abort();
  await env.close();
});

test("adopts an orphan named as its member; leaves one named otherwise", async () => {
  const env = await startControllers([newStatefulSetController]);
  const pods = env.client.resource<Pod>("", "pods");
  const orphan = (name: string) =>
    pods.create("default", {
      metadata: { name, namespace: "default", labels: { app: "ad" } },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
  await orphan("ad-0");
  await orphan("stranger");
  await env.client.resource("apps", "statefulsets").create("default", sts("ad", 1));
  await eventually(
    async () => (await pods.get("default", "ad-0")).metadata?.ownerReferences?.[0]?.name === "ad",
    3000,
    "adopted",
  );
  await new Promise((r) => setTimeout(r, 200));
  assert.is((await pods.get("default", "stranger")).metadata?.ownerReferences, undefined);
  assert.equal(await names(env.client, "ad"), ["ad-0", "stranger"], "no pod made for ordinal 0");
  await env.close();
});

test("minReadySeconds: ready pods count as available only after that long", async () => {
  const env = await startControllers([newStatefulSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  const sets = env.client.resource<StatefulSet>("apps", "statefulsets");
  await sets.create("default", sts("mr", 1, { minReadySeconds: 1 }));
  const ready = await eventually(
    async () => {
      const s = await sets.get("default", "mr");
      return s.status?.readyReplicas === 1 && s;
    },
    3000,
    "ready",
  );
  const pod = (await livePods(env.client, "mr"))[0];
  const readySince = Date.parse(pod.status!.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime!);
  if (Date.now() < readySince + 1000) assert.is(ready.status!.availableReplicas ?? 0, 0);
  await eventually(
    async () => (await sets.get("default", "mr")).status?.availableReplicas === 1,
    4000,
    "available",
  );
  stop.abort();
  await env.close();
});

test("a failed pod is deleted and made again", async () => {
  const env = await startControllers([newStatefulSetController]);
  const stop = new AbortController();
  const failedOnce = new Set<string>();
  fakeKubelet(env.client, stop.signal, {
    phase: (pod) => {
      if (pod.metadata!.name === "f-0" && failedOnce.size === 0) {
        failedOnce.add(pod.metadata!.uid!);
        return "Failed";
      }
      return failedOnce.has(pod.metadata!.uid!) ? "Failed" : "Running";
    },
  });
  await env.client.resource("apps", "statefulsets").create("default", sts("f", 1));
  const pod = await eventually(
    async () => {
      const p = (await livePods(env.client, "f"))[0];
      return p && !failedOnce.has(p.metadata!.uid!) && p.status?.phase === "Running" && p;
    },
    5000,
    "a running replacement",
  );
  assert.is(pod.metadata!.name, "f-0");
  assert.is(failedOnce.size, 1);
  stop.abort();
  await env.close();
});

test("OnDelete: a template change reaches a pod only when it is deleted", async () => {
  const env = await startControllers([newStatefulSetController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal);
  const sets = env.client.resource<StatefulSet>("apps", "statefulsets");
  await sets.create("default", sts("od", 2, { updateStrategy: { type: "OnDelete" } }));
  await eventually(async () => (await sets.get("default", "od")).status?.readyReplicas === 2, 5000, "ready");
  await sets.patch("default", "od", "merge", {
    spec: { template: { metadata: { labels: { app: "od", version: "2" } } } },
  });
  const s = await eventually(
    async () => {
      const s = await sets.get("default", "od");
      return s.status?.updateRevision !== s.status?.currentRevision && s;
    },
    3000,
    "a new update revision",
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await livePods(env.client, "od")).map((p) => p.metadata!.labels!.version), [
    undefined,
    undefined,
  ]);
  await env.client.resource("", "pods").delete("default", "od-1");
  await eventually(
    async () => {
      const p = (await livePods(env.client, "od")).find((p) => p.metadata!.name === "od-1");
      return p?.metadata?.labels?.["controller-revision-hash"] === s.status!.updateRevision;
    },
    3000,
    "od-1 at the update revision",
  );
  stop.abort();
  await env.close();
});

test.run();
