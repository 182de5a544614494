/**
 * A client-node script (under Deno) changing objects through KubernetesObjectApi: merge and
 * strategic merge patches, and server-side apply with a field manager, its conflicts and force.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as k8s from "@kubernetes/client-node";
import { type ServerProcess, startServer } from "./harness.ts";

const t = suite<{ server: ServerProcess; api: k8s.KubernetesObjectApi }>("client-node apply", {} as never);

t.before(async (ctx) => {
  ctx.server = await startServer();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(ctx.server.kubeconfig);
  ctx.api = k8s.KubernetesObjectApi.makeApiClient(kc);
});

t.after(async (ctx) => {
  await ctx.server.cleanup();
});

const deployment = (image: string, replicas?: number) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "api", namespace: "default", labels: { app: "api" } },
  spec: {
    ...(replicas === undefined ? {} : { replicas }),
    selector: { matchLabels: { app: "api" } },
    template: {
      metadata: { labels: { app: "api" } },
      spec: { containers: [{ name: "api", image }] },
    },
  },
});

t("server-side apply creates, updates, reports conflicts and takes over with force", async ({ api }) => {
  const created = await api.patch(
    deployment("nginx:1.27", 2) as k8s.KubernetesObject,
    undefined,
    undefined,
    "script",
    undefined,
    k8s.PatchStrategy.ServerSideApply,
  );
  assert.is(created.metadata?.name, "api");
  const entry = created.metadata?.managedFields?.find((m) => m.manager === "script");
  assert.is(entry?.operation, "Apply");
  assert.is(entry?.apiVersion, "apps/v1");

  const updated = await api.patch(
    deployment("nginx:1.28", 2),
    undefined,
    undefined,
    "script",
    undefined,
    k8s.PatchStrategy.ServerSideApply,
  ) as k8s.V1Deployment;
  assert.is(updated.spec?.template.spec?.containers[0].image, "nginx:1.28");

  let conflict: unknown;
  try {
    await api.patch(
      deployment("nginx:1.28", 5),
      undefined,
      undefined,
      "other",
      undefined,
      k8s.PatchStrategy.ServerSideApply,
    );
  } catch (err) {
    conflict = err;
  }
  assert.ok(conflict instanceof k8s.ApiException, String(conflict));
  const status = JSON.parse((conflict as k8s.ApiException<string>).body);
  assert.is(status.code, 409);
  assert.is(status.reason, "Conflict");
  assert.match(status.message, 'Apply failed with 1 conflict: conflict with "script": .spec.replicas');

  const forced = await api.patch(
    deployment("nginx:1.28", 5),
    undefined,
    undefined,
    "other",
    true,
    k8s.PatchStrategy.ServerSideApply,
  ) as k8s.V1Deployment;
  assert.is(forced.spec?.replicas, 5);
  // The deployment controller's own writes are recorded under kube-controller-manager.
  const managers = forced.metadata?.managedFields?.map((m) => m.manager)
    .filter((m) => m !== "kube-controller-manager").sort();
  assert.equal(managers, ["other", "script"]);
});

t("merge and strategic merge patches through the object API", async ({ api }) => {
  const spec = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "default" } };
  await api.patch(
    { ...spec, metadata: { ...spec.metadata, labels: { merged: "yes" } } },
    undefined,
    undefined,
    "script",
    undefined,
    k8s.PatchStrategy.MergePatch,
  );
  const strategic = await api.patch(
    {
      ...spec,
      spec: { template: { spec: { containers: [{ name: "sidecar", image: "busybox" }] } } },
    } as k8s.KubernetesObject,
    undefined,
    undefined,
    "script",
    undefined,
    k8s.PatchStrategy.StrategicMergePatch,
  ) as k8s.V1Deployment;
  assert.equal(strategic.spec?.template.spec?.containers.map((c) => c.name), ["sidecar", "api"]);
  assert.is(strategic.metadata?.labels?.merged, "yes");
  const read = await api.read({ ...spec }) as k8s.V1Deployment;
  assert.equal(read.spec?.template.spec?.containers.map((c) => c.name), ["sidecar", "api"]);
});

t.run();
