import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  lastRevision,
  maxRevision,
  setDeploymentAnnotationsTo,
  setNewReplicaSetAnnotations,
} from "./annotations.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

const d = (annotations: Record<string, string> = {}): Deployment => ({
  metadata: { name: "web", annotations },
  spec: {
    replicas: 4,
    selector: {},
    template: {},
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
  },
});
const rs = (annotations: Record<string, string> = {}): ReplicaSet => ({
  metadata: { name: "rs", annotations },
});

test("a new ReplicaSet gets the revision, the deployment's annotations and the replica counts", () => {
  const r = rs();
  const changed = setNewReplicaSetAnnotations(
    d({
      "kubernetes.io/change-cause": "kubectl set image",
      "deployment.kubernetes.io/revision": "7",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
    }),
    r,
    "3",
    false,
  );
  assert.ok(changed);
  assert.equal(r.metadata!.annotations, {
    "kubernetes.io/change-cause": "kubectl set image",
    "deployment.kubernetes.io/revision": "3",
    "deployment.kubernetes.io/desired-replicas": "4",
    "deployment.kubernetes.io/max-replicas": "5",
  });
});

test("a ReplicaSet rolled back to keeps its old revisions in revision-history, cut to the limit", () => {
  const r = rs({ "deployment.kubernetes.io/revision": "1" });
  assert.ok(setNewReplicaSetAnnotations(d(), r, "3", true));
  assert.equal(
    [
      r.metadata!.annotations!["deployment.kubernetes.io/revision"],
      r.metadata!.annotations!["deployment.kubernetes.io/revision-history"],
    ],
    ["3", "1"],
  );
  r.metadata!.annotations!["deployment.kubernetes.io/revision"] = "5";
  setNewReplicaSetAnnotations(d(), r, "7", true);
  assert.is(r.metadata!.annotations!["deployment.kubernetes.io/revision-history"], "1,5");
  r.metadata!.annotations!["deployment.kubernetes.io/revision"] = "10";
  setNewReplicaSetAnnotations(d(), r, "11", true, 5);
  assert.is(r.metadata!.annotations!["deployment.kubernetes.io/revision-history"], "5,10", "oldest dropped");
  assert.not.ok(setNewReplicaSetAnnotations(d(), r, "4", true), "a lower revision is never written");
});

test("maxRevision and lastRevision skip unparsable revisions", () => {
  const sets = ["3", "x", "5", "1"].map((v) => rs({ "deployment.kubernetes.io/revision": v }));
  assert.is(maxRevision(sets), 5);
  assert.is(lastRevision(sets), 3);
  assert.is(lastRevision([rs()]), 0);
});

test("setDeploymentAnnotationsTo takes the ReplicaSet's annotations, keeping the deployment's own", () => {
  const dep = d({ "deployment.kubernetes.io/revision": "4", "old": "x" });
  setDeploymentAnnotationsTo(
    dep,
    rs({ "deployment.kubernetes.io/revision": "2", "kubernetes.io/change-cause": "v1" }),
  );
  assert.equal(dep.metadata!.annotations, {
    "deployment.kubernetes.io/revision": "4",
    "kubernetes.io/change-cause": "v1",
  });
});

test.run();
