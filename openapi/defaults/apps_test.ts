import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function apps(kind: string, obj: Json): Json {
  applyDefaults("apps", "v1", kind, obj);
  return obj;
}

/** The pod spec a single `image` container ends up with in any template. */
function templateSpec(name: string, image: string, pullPolicy: string, extra: Json = {}): Json {
  return {
    containers: [{
      image,
      imagePullPolicy: pullPolicy,
      name,
      resources: {},
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    }],
    dnsPolicy: "ClusterFirst",
    restartPolicy: "Always",
    schedulerName: "default-scheduler",
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    ...extra,
  };
}

test("kubectl create deployment web --image=busybox: the spec a v1.33 cluster returns", () => {
  // What kubectl sends.
  const d = apps("Deployment", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { labels: { app: "web" }, name: "web" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      strategy: {},
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ image: "busybox", name: "busybox", resources: {} }] },
      },
    },
    status: {},
  });
  assert.equal(d.spec, {
    progressDeadlineSeconds: 600,
    replicas: 1,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: "web" } },
    strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" }, type: "RollingUpdate" },
    template: { metadata: { labels: { app: "web" } }, spec: templateSpec("busybox", "busybox", "Always") },
  });
});

test("Deployment: stated values kept; Recreate gets no rolling update; partial rolling update filled", () => {
  const recreate = apps("Deployment", {
    spec: { replicas: 0, strategy: { type: "Recreate" }, revisionHistoryLimit: 0 },
  });
  assert.equal(recreate.spec.strategy, { type: "Recreate" });
  assert.equal([recreate.spec.replicas, recreate.spec.revisionHistoryLimit], [0, 0]);
  const partial = apps("Deployment", { spec: { strategy: { rollingUpdate: { maxSurge: 1 } } } });
  assert.equal(partial.spec.strategy, {
    type: "RollingUpdate",
    rollingUpdate: { maxSurge: 1, maxUnavailable: "25%" },
  });
  const zero = apps("Deployment", {
    spec: { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
  });
  assert.equal(zero.spec.strategy.rollingUpdate, { maxSurge: 0, maxUnavailable: 0 });
});

test("kubectl create -f daemonset.yaml: rolling update 1 unavailable, 0 surge, ten revisions", () => {
  const ds = apps("DaemonSet", {
    metadata: { name: "agent" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { containers: [{ name: "agent", image: "agent:2.1" }] },
      },
    },
  });
  assert.equal(ds.spec, {
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: "agent" } },
    template: {
      metadata: { labels: { app: "agent" } },
      spec: templateSpec("agent", "agent:2.1", "IfNotPresent"),
    },
    updateStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: "RollingUpdate" },
  });
  const onDelete = apps("DaemonSet", { spec: { updateStrategy: { type: "OnDelete" } } });
  assert.equal(onDelete.spec.updateStrategy, { type: "OnDelete" });
});

test("kubectl create -f statefulset.yaml: ordered pods, partition 0, claims retained, claim template defaults", () => {
  const sts = apps("StatefulSet", {
    metadata: { name: "db" },
    spec: {
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" } },
        spec: { containers: [{ name: "db", image: "postgres:17" }] },
      },
      volumeClaimTemplates: [{
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      }],
    },
  });
  assert.equal(sts.spec, {
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    podManagementPolicy: "OrderedReady",
    replicas: 1,
    revisionHistoryLimit: 10,
    selector: { matchLabels: { app: "db" } },
    serviceName: "db",
    template: {
      metadata: { labels: { app: "db" } },
      spec: templateSpec("db", "postgres:17", "IfNotPresent"),
    },
    updateStrategy: { rollingUpdate: { partition: 0 }, type: "RollingUpdate" },
    volumeClaimTemplates: [{
      metadata: { name: "data" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "1Gi" } },
        volumeMode: "Filesystem",
      },
      status: { phase: "Pending" },
    }],
  });
});

test("StatefulSet update strategies: a stated RollingUpdate without rollingUpdate gets none; OnDelete none", () => {
  const stated = apps("StatefulSet", { spec: { updateStrategy: { type: "RollingUpdate" } } });
  assert.equal(stated.spec.updateStrategy, { type: "RollingUpdate" });
  const withPartition = apps("StatefulSet", {
    spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } } },
  });
  assert.equal(withPartition.spec.updateStrategy, {
    type: "RollingUpdate",
    rollingUpdate: { maxUnavailable: 2, partition: 0 },
  });
  const onDelete = apps("StatefulSet", {
    spec: { updateStrategy: { type: "OnDelete" }, podManagementPolicy: "Parallel" },
  });
  assert.equal(onDelete.spec.updateStrategy, { type: "OnDelete" });
  assert.is(onDelete.spec.podManagementPolicy, "Parallel");
  const retention = apps("StatefulSet", {
    spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } },
  });
  assert.equal(retention.spec.persistentVolumeClaimRetentionPolicy, {
    whenDeleted: "Delete",
    whenScaled: "Retain",
  });
});

test("ReplicaSet: one replica and template defaults", () => {
  const rs = apps("ReplicaSet", {
    spec: { template: { spec: { containers: [{ name: "c", image: "c:latest" }] } } },
  });
  assert.equal(rs.spec, { replicas: 1, template: { spec: templateSpec("c", "c:latest", "Always") } });
});

test("ControllerRevision has no defaults", () => {
  assert.equal(apps("ControllerRevision", { revision: 1, data: {} }), { revision: 1, data: {} });
});

test.run();
