import { test } from "uvu";
import * as assert from "uvu/assert";
import { startControllers } from "../framework/test_env.ts";
import { Cache } from "../framework/cache.ts";
import { selectorFromLabelSelector } from "../../machinery/labels.ts";
import type { ControllerRevision } from "../types.ts";
import {
  equalRevision,
  History,
  newControllerRevision,
  nextRevision,
  sortControllerRevisions,
} from "./history.ts";

const parent = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "web", namespace: "default", uid: "u-1" },
};

test("newControllerRevision: named <owner>-<hash>, labelled, owned", () => {
  const r = newControllerRevision(parent, { app: "web" }, { spec: { template: { a: 1 } } }, 3);
  const hash = r.metadata!.labels!["controller.kubernetes.io/hash"];
  assert.is(r.metadata!.name, `web-${hash}`);
  assert.is(r.metadata!.labels!.app, "web");
  assert.is(r.revision, 3);
  assert.equal(r.metadata!.ownerReferences![0], {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    name: "web",
    uid: "u-1",
    controller: true,
    blockOwnerDeletion: true,
  });
});

test("sorting, equality and the next revision number", () => {
  const r = (revision: number, data: unknown, name = `r${revision}`): ControllerRevision => ({
    metadata: { name, creationTimestamp: "2026-01-01T00:00:00Z" },
    revision,
    data: data as Record<string, unknown>,
  });
  const sorted = sortControllerRevisions([r(3, { a: 1 }), r(1, { b: 1 }), r(2, { a: 1 }, "a")]);
  assert.equal(sorted.map((x) => x.revision), [1, 2, 3]);
  assert.ok(equalRevision(sorted[1], sorted[2]));
  assert.not.ok(equalRevision(sorted[0], sorted[1]));
  assert.is(nextRevision(sorted), 4);
  assert.is(nextRevision([]), 1);
});

test("History.create: a name taken by other data bumps the collision count; equal data is found", async () => {
  const env = await startControllers([]);
  const cache = new Cache<ControllerRevision>();
  const history = new History(env.client, cache);
  const data = { spec: { template: { metadata: { labels: { app: "web" } } } } };
  const wanted = newControllerRevision(parent, { app: "web" }, data, 1, 0);
  // Someone else's revision already holds that name.
  await history.client.create("default", {
    ...wanted,
    data: { other: true },
    metadata: { ...wanted.metadata, ownerReferences: [] },
  });
  const made = await history.create(parent, wanted, 0);
  assert.is(made.collisionCount, 1);
  assert.is.not(made.revision.metadata!.name, wanted.metadata!.name);
  assert.equal(made.revision.data, data);
  const again = await history.create(parent, wanted, 0);
  assert.is(
    again.revision.metadata!.name,
    made.revision.metadata!.name,
    "the equal revision is found, not made twice",
  );
  assert.is(again.collisionCount, 1);

  for (const r of (await history.client.list("default")).items) cache.put(r);
  const selector = selectorFromLabelSelector({ matchLabels: { app: "web" } })!;
  assert.is(history.list(parent, selector).length, 2, "owned and orphaned");
  const adopted = await history.adoptOrphans(
    parent,
    selector,
    history.list(parent, selector),
    async () => {},
  );
  assert.ok(adopted.every((r) => r.metadata!.ownerReferences?.[0]?.uid === "u-1"));
  const renumbered = await history.update(made.revision, 7);
  assert.is(renumbered.revision, 7);
  await history.delete(renumbered);
  assert.is((await history.client.list("default")).items.length, 1);
  await env.close();
});

test.run();
