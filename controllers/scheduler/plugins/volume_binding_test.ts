import { test } from "uvu";
import * as assert from "uvu/assert";
import { listerOf, type ScheduleInputs } from "../interface.ts";
import { Code } from "../status.ts";
import { runFilter, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "../types.ts";
import { volumeBinding } from "./volume_binding.ts";

const HOST = "kubernetes.io/hostname";

function claim(name: string, cls: string, volumeName?: string): PersistentVolumeClaim {
  return {
    metadata: { name, namespace: "default" },
    spec: {
      storageClassName: cls,
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      volumeName,
    },
    status: { phase: volumeName ? "Bound" : "Pending" },
  };
}

function volume(name: string, cls: string, hosts?: string[]): PersistentVolume {
  return {
    metadata: { name },
    spec: {
      storageClassName: cls,
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      ...(hosts
        ? {
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: HOST, operator: "In", values: hosts }] }],
            },
          },
        }
        : {}),
    },
  };
}

const classes: StorageClass[] = [
  { metadata: { name: "fast" }, provisioner: "example.com/csi", volumeBindingMode: "Immediate" },
  { metadata: { name: "late" }, provisioner: "example.com/csi", volumeBindingMode: "WaitForFirstConsumer" },
  {
    metadata: { name: "zoned" },
    provisioner: "example.com/csi",
    volumeBindingMode: "WaitForFirstConsumer",
    allowedTopologies: [{ matchLabelExpressions: [{ key: "topology.kubernetes.io/zone", values: ["z1"] }] }],
  },
  {
    metadata: { name: "local" },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
  },
];

function inputs(pvcs: PersistentVolumeClaim[], pvs: PersistentVolume[] = []): ScheduleInputs {
  return { pvcs: listerOf(pvcs), pvs: listerOf(pvs), storageClasses: listerOf(classes) };
}

const nodes = () => snapshotOf([makeNode("a").zone("z1").obj(), makeNode("b").zone("z2").obj()]);

test("volumeBinding skips pods without claims", () => {
  assert.is(runFilter(volumeBinding, makePod("p").obj(), nodes(), inputs([])).preFilter?.code, Code.Skip);
});

test("volumeBinding rejects a pod whose claim does not exist", () => {
  const out = runFilter(volumeBinding, makePod("p").pvc("data").obj(), nodes(), inputs([]));
  assert.is(out.preFilter?.code, Code.UnschedulableAndUnresolvable);
  assert.equal(out.preFilter?.reasons, ['persistentvolumeclaim "data" not found']);
});

test("volumeBinding rejects unbound claims of Immediate classes", () => {
  const out = runFilter(
    volumeBinding,
    makePod("p").pvc("data").obj(),
    nodes(),
    inputs([claim("data", "fast")]),
  );
  assert.equal(out.preFilter?.reasons, ["pod has unbound immediate PersistentVolumeClaims"]);
});

test("volumeBinding accepts unbound WaitForFirstConsumer claims within the class topology", () => {
  const late = runFilter(
    volumeBinding,
    makePod("p").pvc("data").obj(),
    nodes(),
    inputs([claim("data", "late")]),
  );
  assert.equal(late.nodes, { a: null, b: null });
  const zoned = runFilter(
    volumeBinding,
    makePod("p").pvc("data").obj(),
    nodes(),
    inputs([claim("data", "zoned")]),
  );
  assert.equal(zoned.nodes, { a: null, b: "node(s) didn't find available persistent volumes to bind" });
});

test("volumeBinding needs an available PV for no-provisioner classes", () => {
  const pod = makePod("p").pvc("data").obj();
  const none = runFilter(volumeBinding, pod, nodes(), inputs([claim("data", "local")]));
  assert.equal(none.nodes, {
    a: "node(s) didn't find available persistent volumes to bind",
    b: "node(s) didn't find available persistent volumes to bind",
  });
  const some = runFilter(
    volumeBinding,
    pod,
    nodes(),
    inputs([claim("data", "local")], [volume("pv-b", "local", ["b"])]),
  );
  assert.equal(some.nodes, { a: "node(s) didn't find available persistent volumes to bind", b: null });
});

test("volumeBinding checks a bound claim's PV node affinity and existence", () => {
  const pod = makePod("p").pvc("data").obj();
  const bound = runFilter(
    volumeBinding,
    pod,
    nodes(),
    inputs([claim("data", "fast", "pv-a")], [volume("pv-a", "fast", ["a"])]),
  );
  assert.equal([...bound.nodeNames!], ["a"], "PreFilter narrows to the PV's hostnames");
  assert.equal(bound.nodes, { a: null, b: "node(s) didn't match PersistentVolume's node affinity" });
  assert.is(bound.codes.b, Code.UnschedulableAndUnresolvable);
  const missing = runFilter(volumeBinding, pod, nodes(), inputs([claim("data", "fast", "gone")]));
  assert.equal(missing.nodes.a, "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)");
});

test("volumeBinding reports claims being deleted as errors", () => {
  const c = claim("data", "late");
  c.metadata!.deletionTimestamp = "2024-01-01T00:00:00Z";
  const out = runFilter(volumeBinding, makePod("p").pvc("data").obj(), nodes(), inputs([c]));
  assert.is(out.preFilter?.code, Code.Error);
  assert.equal(out.preFilter?.reasons, ['persistentvolumeclaim "data" is being deleted']);
});

test.run();
