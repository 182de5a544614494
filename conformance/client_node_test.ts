/**
 * @kubernetes/client-node under Deno against a real server: list, create, an informer seeing
 * add/update/delete, and the informer resuming after a server restart without missing events.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as k8s from "@kubernetes/client-node";
import { type ServerProcess, startServer } from "./harness.ts";

const t = suite("client-node");
let server: ServerProcess;

const until = async (cond: () => boolean, what: string, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

t.before(async () => {
  server = await startServer();
});
t.after(async () => {
  await server?.cleanup();
});

t("list, create, and an informer that survives a server restart", async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);

  const namespaces = await core.listNamespace();
  assert.equal(namespaces.items.map((n) => n.metadata?.name).sort(), [
    "default",
    "kube-node-lease",
    "kube-public",
    "kube-system",
  ]);

  const events: string[] = [];
  const informer = k8s.makeInformer(
    kc,
    "/api/v1/namespaces/default/configmaps",
    () => core.listNamespacedConfigMap({ namespace: "default" }),
  );
  informer.on("add", (o) => events.push(`add ${o.metadata?.name}`));
  informer.on("update", (o) => events.push(`update ${o.metadata?.name} ${o.data?.v}`));
  informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
  let stopped = false;
  // As client-node advises: on error, start again after a pause (again if that fails too).
  const restart = () => {
    if (!stopped) setTimeout(() => informer.start().catch(restart), 300);
  };
  informer.on("error", restart);
  await informer.start();

  const created = await core.createNamespacedConfigMap({
    namespace: "default",
    body: { metadata: { name: "one" }, data: { v: "1" } },
  });
  assert.ok(created.metadata?.uid);
  await until(() => events.includes("add one"), "add one");
  await core.patchNamespacedConfigMap(
    { namespace: "default", name: "one", body: { data: { v: "2" } } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
  await until(() => events.includes("update one 2"), "update one 2");
  await core.deleteNamespacedConfigMap({ namespace: "default", name: "one" });
  await until(() => events.includes("delete one"), "delete one");

  await server.stop();
  await server.restart();
  const kc2 = new k8s.KubeConfig();
  kc2.loadFromFile(server.kubeconfig);
  const core2 = kc2.makeApiClient(k8s.CoreV1Api);
  // Changes while the informer is not connected must come to it when it resumes: the
  // informer reconnects by itself (the stopping server ended its watch, then refused it with
  // 429 while shutting down) and resumes from its last resourceVersion without listing again.
  await core2.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "two" } } });
  await core2.deleteNamespacedConfigMap({ namespace: "default", name: "two" });
  await core2.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "three" } } });
  await until(() => events.includes("add three"), `add three after the restart (${events})`);
  stopped = true;
  await informer.stop();
  assert.equal(events.filter((e) => e.endsWith(" one") || e.startsWith("update one")), [
    "add one",
    "update one 2",
    "delete one",
  ]);
  // The root CA publisher's kube-root-ca.crt is there too, as on any cluster.
  const ours = events.filter((e) => !e.includes("kube-root-ca.crt"));
  assert.equal(ours.slice(3), ["add two", "delete two", "add three"]);
});

t.run();
