import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer } from "../../api/test_server.ts";
import { eventually, testClient } from "./test_env.ts";
import { Informer } from "./informer.ts";
import { byOwner } from "./cache.ts";
import { LeaderElector } from "./leader_election.ts";

const cm = (name: string, data: Record<string, string> = {}) => ({
  metadata: { name, namespace: "default" },
  data,
});

test("lists, then watches: additions, updates and deletions reach the cache and the handlers", async () => {
  const server = await startTestServer();
  const client = testClient(server);
  const cms = client.resource("", "configmaps");
  for (let i = 0; i < 7; i++) await cms.create("default", cm(`c${i}`));
  const informer = new Informer(cms, { pageSize: 3, indexers: { owner: byOwner } });
  const seen: string[] = [];
  informer.addEventHandler({
    add: (o) => seen.push(`add ${o.metadata!.name}`),
    update: (_, o) => seen.push(`update ${o.metadata!.name}`),
    delete: (o) => seen.push(`delete ${o.metadata!.name}`),
  });
  await informer.start();
  assert.is(informer.cache.size, 7, "paged list fills the cache");
  assert.is(informer.state, "watching");
  assert.is(informer.cache.get("default/c3")!.kind, "ConfigMap");
  await cms.create("default", cm("new"));
  await cms.patch("default", "c1", "merge", { data: { a: "b" } });
  await cms.delete("default", "c2");
  await eventually(() => seen.includes("delete c2"), 3000, "the deletion");
  assert.ok(seen.includes("add new"));
  assert.ok(seen.includes("update c1"));
  assert.equal(informer.cache.get("default/c1")!.data, { a: "b" });
  assert.is(informer.cache.get("default/c2"), undefined);
  assert.is(informer.cache.inNamespace("default").length, 7);
  informer.stop();
  server.server.closeWatches();
  await server.close();
});

test("a closed stream resumes from the last revision without losing changes", async () => {
  const server = await startTestServer();
  const client = testClient(server);
  const cms = client.resource("", "configmaps");
  const informer = new Informer(cms, { initialBackoffMs: 10 });
  await informer.start();
  server.server.endWatches();
  await cms.create("default", cm("after-close"));
  await eventually(
    () => informer.cache.get("default/after-close"),
    3000,
    "the object made while reconnecting",
  );
  informer.stop();
  server.server.closeWatches();
  await server.close();
});

test("leader election: a second candidate waits while the first renews", async () => {
  const server = await startTestServer();
  const client = testClient(server);
  const abort = new AbortController();
  const a = new LeaderElector(client, {
    name: "test",
    identity: "a",
    retryPeriodMs: 20,
    leaseDurationMs: 1000,
    signal: abort.signal,
  });
  const b = new LeaderElector(client, {
    name: "test",
    identity: "b",
    retryPeriodMs: 20,
    leaseDurationMs: 1000,
    signal: abort.signal,
  });
  let aLeads = false;
  let bLeads = false;
  a.run(() => {
    aLeads = true;
  });
  await eventually(() => aLeads, 2000, "a to lead");
  b.run(() => {
    bLeads = true;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(bLeads, "b never leads while a renews");
  const lease = await client.resource("coordination.k8s.io", "leases").get("kube-system", "test");
  assert.is((lease.spec as { holderIdentity: string }).holderIdentity, "a");
  abort.abort();
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
});

test.run();
