import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer } from "../test_server.ts";

const JOBS = "/apis/batch/v1/namespaces/default/jobs";
const job = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name },
  spec: {
    template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
    ...spec,
  },
});

test("a Job gets its selector and template labels from its uid and name; manualSelector keeps the user's", async () => {
  const s = await startTestServer();
  try {
    const res = await s.call("POST", JOBS, job("pi"));
    assert.is(res.status, 201);
    const created = await res.json();
    const uid = created.metadata.uid;
    assert.equal(created.spec.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": uid } });
    assert.equal(created.spec.template.metadata.labels, {
      "job-name": "pi",
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": uid,
      "batch.kubernetes.io/controller-uid": uid,
    });
    const manual = await s.call(
      "POST",
      JOBS,
      job("own", {
        manualSelector: true,
        selector: { matchLabels: { app: "own" } },
        template: {
          metadata: { labels: { app: "own" } },
          spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
        },
      }),
    );
    const own = await manual.json();
    assert.is(manual.status, 201, JSON.stringify(own));
    assert.equal(own.spec.selector, { matchLabels: { app: "own" } });
    assert.equal(own.spec.template.metadata.labels, { app: "own" });
  } finally {
    await s.close();
  }
});

test("a DaemonSet's template generation annotation is 1 on create and counts template changes only", async () => {
  const s = await startTestServer();
  const DS = "/apis/apps/v1/namespaces/default/daemonsets";
  const ds = (image: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", annotations: { "deprecated.daemonset.template.generation": "7" }, ...extra },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "a", image }] } },
    },
  });
  const gen = (o: { metadata: { annotations: Record<string, string> } }) =>
    o.metadata.annotations["deprecated.daemonset.template.generation"];
  try {
    const created = await (await s.call("POST", DS, ds("busybox", { annotations: {} }))).json();
    assert.is(gen(created), "1");
    const relabelled = await (await s.call("PUT", `${DS}/agent`, {
      ...ds("busybox"),
      metadata: {
        ...created.metadata,
        labels: { x: "y" },
        annotations: { "deprecated.daemonset.template.generation": "7" },
      },
    })).json();
    assert.is(gen(relabelled), "1", "a client cannot set it; metadata changes leave it");
    const updated =
      await (await s.call("PUT", `${DS}/agent`, { ...ds("nginx"), metadata: relabelled.metadata }))
        .json();
    assert.is(gen(updated), "2");
    assert.is(updated.metadata.generation, 2);
  } finally {
    await s.close();
  }
});

test.run();
