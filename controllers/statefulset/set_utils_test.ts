import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Pod, StatefulSet } from "../types.ts";
import {
  applyRevision,
  completeRollingUpdate,
  identityMatches,
  isClaimOwnerUpToDate,
  newRevision,
  newVersionedStatefulSetPod,
  parentNameAndOrdinal,
  type PersistentVolumeClaim,
  storageMatches,
  updateClaimOwnerRefForSetAndPod,
} from "./set_utils.ts";

const set = (spec: Record<string, unknown> = {}): StatefulSet =>
  ({
    metadata: { name: "web", namespace: "default", uid: "set-uid" },
    spec: {
      replicas: 3,
      serviceName: "svc",
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "i" }] } },
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: {} }],
      ...spec,
    },
  }) as StatefulSet;

test("parentNameAndOrdinal reads `<set>-<ordinal>`", () => {
  const pod = (name: string) => ({ metadata: { name } }) as Pod;
  assert.equal(parentNameAndOrdinal(pod("web-12")), { parent: "web", ordinal: 12 });
  assert.equal(parentNameAndOrdinal(pod("my-db-0")), { parent: "my-db", ordinal: 0 });
  assert.equal(parentNameAndOrdinal(pod("web")), { parent: "", ordinal: -1 });
});

test("new pods: identity, storage, and the revision their ordinal calls for", () => {
  const current = set({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } });
  const update = set({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } });
  update.spec!.template.metadata!.labels = { app: "web", v: "2" };
  const below = newVersionedStatefulSetPod(current, update, "web-old", "web-new", 1);
  const above = newVersionedStatefulSetPod(current, update, "web-old", "web-new", 2);
  assert.is(below.metadata!.labels!["controller-revision-hash"], "web-old");
  assert.is(below.metadata!.labels!.v, undefined);
  assert.is(above.metadata!.labels!["controller-revision-hash"], "web-new");
  assert.is(above.metadata!.labels!.v, "2");
  assert.is(above.metadata!.name, "web-2");
  assert.is(above.spec!.hostname, "web-2");
  assert.is(above.spec!.subdomain, "svc");
  assert.equal(above.spec!.volumes, [{
    name: "data",
    persistentVolumeClaim: { claimName: "data-web-2", readOnly: false },
  }]);
  assert.ok(identityMatches(current, above));
  assert.ok(storageMatches(current, above));
  above.spec!.volumes = [];
  assert.not.ok(storageMatches(current, above));
});

test("a revision restores the template it recorded", () => {
  const s = set();
  const r = newRevision(s, 1, 0);
  const changed = set();
  changed.spec!.template.metadata!.labels = { app: "web", v: "2" };
  assert.equal(applyRevision(changed, r).spec!.template, s.spec!.template);
});

test("claim references follow the retention policy", () => {
  const pod = { metadata: { name: "web-4", namespace: "default", uid: "pod-uid" } } as Pod;
  const inRange = { metadata: { name: "web-1", namespace: "default", uid: "pod1-uid" } } as Pod;
  const claim = (): PersistentVolumeClaim => ({ metadata: { name: "data-web-4" } });
  const policy = (whenDeleted: string, whenScaled: string) =>
    set({ persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } });
  const refs = (s: StatefulSet, p: Pod) => {
    const c = claim();
    assert.equal(
      isClaimOwnerUpToDate(c, s, p),
      s.spec!.persistentVolumeClaimRetentionPolicy!.whenDeleted === "Retain" &&
        (s.spec!.persistentVolumeClaimRetentionPolicy!.whenScaled === "Retain" || p === inRange),
    );
    updateClaimOwnerRefForSetAndPod(c, s, p);
    assert.ok(isClaimOwnerUpToDate(c, s, p));
    return (c.metadata!.ownerReferences ?? []).map((r) => r.kind);
  };
  assert.equal(refs(policy("Retain", "Retain"), pod), []);
  assert.equal(refs(policy("Delete", "Retain"), pod), ["StatefulSet"]);
  assert.equal(refs(policy("Retain", "Delete"), pod), ["Pod"], "scaled down: the pod owns it");
  assert.equal(refs(policy("Retain", "Delete"), inRange), []);
  assert.equal(refs(policy("Delete", "Delete"), pod), ["Pod"]);
  assert.equal(refs(policy("Delete", "Delete"), inRange), ["StatefulSet"]);
});

test("completeRollingUpdate makes the update revision current once every replica is updated and ready", () => {
  const s = set({ updateStrategy: { type: "RollingUpdate" } });
  const status = {
    replicas: 3,
    readyReplicas: 3,
    updatedReplicas: 3,
    currentReplicas: 1,
    currentRevision: "a",
    updateRevision: "b",
  };
  completeRollingUpdate(s, status);
  assert.equal([status.currentRevision, status.currentReplicas], ["b", 3]);
});

test.run();
