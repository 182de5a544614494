import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import { newPersistentVolumeBinder } from "./binder.ts";
import { LOCAL_STORAGE_CLASS, newLocalVolumeProvisioner } from "./local_provisioner.ts";
import { findBestMatchForClaim } from "./matching.ts";
import type { PersistentVolume, PersistentVolumeClaim } from "../types.ts";

function pv(
  name: string,
  storage: string,
  extra: Partial<NonNullable<PersistentVolume["spec"]>> = {},
  labels = {},
) {
  return {
    metadata: { name, labels },
    spec: {
      capacity: { storage },
      accessModes: ["ReadWriteOnce"],
      storageClassName: "manual",
      persistentVolumeReclaimPolicy: "Retain",
      hostPath: { path: `/data/${name}` },
      ...extra,
    },
  } as PersistentVolume;
}

function pvc(name: string, storage: string, extra: Partial<NonNullable<PersistentVolumeClaim["spec"]>> = {}) {
  return {
    metadata: { name, namespace: "default" },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage } },
      storageClassName: "manual",
      ...extra,
    },
  } as PersistentVolumeClaim;
}

test("findBestMatchForClaim: the smallest that fits, fewest access modes first, pre-bound wins", () => {
  const available = (v: PersistentVolume) => ({ ...v, status: { phase: "Available" } });
  const volumes = [
    available(pv("big", "5Gi")),
    available(pv("small", "1Gi")),
    available(pv("mid", "2Gi")),
    available(pv("rwx", "2Gi", { accessModes: ["ReadWriteOnce", "ReadWriteMany"] })),
    available(pv("gold", "2Gi", { storageClassName: "gold" })),
  ];
  const claim = pvc("c", "1500Mi");
  assert.is(findBestMatchForClaim(claim, volumes, false)?.metadata?.name, "mid");
  assert.is(
    findBestMatchForClaim(pvc("c", "1Gi", { accessModes: ["ReadWriteMany"] }), volumes, false)?.metadata
      ?.name,
    "rwx",
  );
  assert.is(
    findBestMatchForClaim(pvc("c", "1Gi", { storageClassName: "gold" }), volumes, false)?.metadata?.name,
    "gold",
  );
  assert.is(
    findBestMatchForClaim(claim, volumes, true),
    undefined,
    "delayed binding leaves it to the scheduler",
  );
  const prebound = { ...pv("pre", "9Gi"), status: { phase: "Available" } } as PersistentVolume;
  prebound.spec!.claimRef = { name: "c", namespace: "default" };
  assert.is(
    findBestMatchForClaim(
      { ...claim, metadata: { ...claim.metadata, uid: "u" } },
      [...volumes, prebound],
      true,
    )?.metadata?.name,
    "pre",
  );
});

test("static binding, selectors, FailedBinding, and release on claim deletion", async () => {
  const env = await startControllers([newPersistentVolumeBinder({ resyncPeriodMs: 500 })]);
  const volumes = env.client.resource<PersistentVolume>("", "persistentvolumes");
  const claims = env.client.resource<PersistentVolumeClaim>("", "persistentvolumeclaims");
  await volumes.create("", pv("pv-1g", "1Gi"));
  await volumes.create("", pv("pv-2g", "2Gi"));
  await volumes.create("", pv("pv-5g", "5Gi", { persistentVolumeReclaimPolicy: "Delete" }, { tier: "fast" }));
  await eventually(
    async () => {
      const l = await volumes.list();
      return l.items.every((v) => v.status?.phase === "Available");
    },
    3000,
    "volumes Available",
  );

  await claims.create("default", pvc("data", "1500Mi"));
  const bound = await eventually(
    async () => {
      const c = await claims.get("default", "data");
      return c.status?.phase === "Bound" && c;
    },
    3000,
    "claim Bound",
  );
  assert.is(bound.spec?.volumeName, "pv-2g");
  assert.is(bound.metadata?.annotations?.["pv.kubernetes.io/bind-completed"], "yes");
  assert.is(bound.metadata?.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
  assert.equal(bound.status?.capacity, { storage: "2Gi" });
  assert.equal(bound.status?.accessModes, ["ReadWriteOnce"]);
  const volume = await eventually(
    async () => {
      const v = await volumes.get("", "pv-2g");
      return v.status?.phase === "Bound" && v;
    },
    3000,
    "volume Bound",
  );
  assert.is(volume.spec?.claimRef?.uid, bound.metadata?.uid);
  assert.is(volume.spec?.claimRef?.name, "data");
  assert.is(volume.metadata?.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");

  await claims.create("default", pvc("fast", "1Gi", { selector: { matchLabels: { tier: "fast" } } }));
  await eventually(
    async () => (await claims.get("default", "fast")).spec?.volumeName === "pv-5g",
    3000,
    "selector",
  );

  await claims.create("default", pvc("nothing", "10Gi", { storageClassName: "" }));
  await eventually(
    async () => {
      const events = await env.client.resource("", "events").list("default");
      return events.items.some((e) =>
        e.reason === "FailedBinding" &&
        e.message === "no persistent volumes available for this claim and no storage class is set"
      );
    },
    3000,
    "FailedBinding event",
  );
  assert.is((await claims.get("default", "nothing")).status?.phase, "Pending");

  // Retain keeps a released volume; Delete, with nobody to delete a static volume, fails it.
  await claims.delete("default", "data");
  await claims.delete("default", "fast");
  await eventually(
    async () => (await volumes.get("", "pv-2g")).status?.phase === "Released",
    3000,
    "Released",
  );
  await eventually(async () => (await volumes.get("", "pv-5g")).status?.phase === "Failed", 3000, "Failed");
  await eventually(
    async () => {
      const events = await env.client.resource("", "events").list("default");
      return events.items.some((e) => e.reason === "VolumeFailedDelete");
    },
    3000,
    "VolumeFailedDelete event",
  );
  await env.close();
});

test("WaitForFirstConsumer: provisioned on the selected node, bound, deleted with the claim", async () => {
  const env = await startControllers([
    newPersistentVolumeBinder({ resyncPeriodMs: 500 }),
    newLocalVolumeProvisioner({ baseDir: "/var/lib/kubedeno/volumes/" }),
  ]);
  const volumes = env.client.resource<PersistentVolume>("", "persistentvolumes");
  const claims = env.client.resource<PersistentVolumeClaim>("", "persistentvolumeclaims");
  const events = env.client.resource("", "events");
  await env.client.resource("storage.k8s.io", "storageclasses").create("", LOCAL_STORAGE_CLASS);
  await env.client.resource("", "nodes").create("", {
    metadata: { name: "worker-1", labels: { "kubernetes.io/hostname": "worker-1-host" } },
  });
  await claims.create("default", pvc("local", "3Gi", { storageClassName: "local-path" }));
  await eventually(
    async () => {
      const l = await events.list("default");
      return l.items.some((e) =>
        e.reason === "WaitForFirstConsumer" &&
        e.message === "waiting for first consumer to be created before binding"
      );
    },
    3000,
    "WaitForFirstConsumer event",
  );
  await new Promise((r) => setTimeout(r, 200));
  assert.is((await volumes.list()).items.length, 0, "nothing provisioned before a node is chosen");
  assert.is((await claims.get("default", "local")).status?.phase, "Pending");

  await claims.patch("default", "local", "merge", {
    metadata: { annotations: { "volume.kubernetes.io/selected-node": "worker-1" } },
  });
  const claim = await eventually(
    async () => {
      const c = await claims.get("default", "local");
      return c.status?.phase === "Bound" && c;
    },
    5000,
    "claim Bound",
  );
  const uid = claim.metadata!.uid!;
  assert.is(claim.spec?.volumeName, `pvc-${uid}`);
  assert.is(
    claim.metadata?.annotations?.["volume.kubernetes.io/storage-provisioner"],
    "kubedeno.io/local-path",
  );
  const volume = await volumes.get("", `pvc-${uid}`);
  assert.is(volume.spec?.hostPath?.path, `/var/lib/kubedeno/volumes/${uid}`);
  assert.equal(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms, [
    { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["worker-1-host"] }] },
  ]);
  assert.is(volume.spec?.persistentVolumeReclaimPolicy, "Delete");
  assert.is(volume.spec?.storageClassName, "local-path");
  assert.equal(volume.spec?.capacity, { storage: "3Gi" });
  assert.is(volume.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"], "kubedeno.io/local-path");
  await eventually(
    async () => (await volumes.get("", `pvc-${uid}`)).status?.phase === "Bound",
    3000,
    "volume Bound",
  );
  await eventually(
    async () => {
      const reasons = (await events.list("default")).items.map((e) => e.reason);
      return ["ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"].every((r) =>
        reasons.includes(r)
      );
    },
    3000,
    "provisioning events",
  );

  await claims.delete("default", "local");
  await eventually(async () => (await volumes.list()).items.length === 0, 3000, "volume deleted");
  await env.close();
});

test.run();
