import { test } from "uvu";
import * as assert from "uvu/assert";
import { openLmdbStore } from "../storage/mod.ts";

// The bookmark period is read when the watch module loads: shorten it before that.
Deno.env.set("KUBEDENO_BOOKMARK_INTERVAL_MS", "100");
const { createApiServer } = await import("./server.ts");
const { bootstrapNamespaces } = await import("../cli/up.ts");

test("watches that allow bookmarks get periodic BOOKMARKs with the latest resourceVersion; others do not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kubedeno-watch-" });
  const store = await openLmdbStore({ path: dir, compactionIntervalMs: 0 });
  const server = createApiServer({ store, token: "t" });
  await bootstrapNamespaces(server.registry);
  const get = (q: string) =>
    server.fetch(
      new Request(
        `https://x/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${store.currentRevision()}&${q}`,
        {
          headers: { authorization: "Bearer t" },
        },
      ),
    );
  const [withBookmarks, without] = await Promise.all([
    get("allowWatchBookmarks=true&timeoutSeconds=1"),
    get("timeoutSeconds=1"),
  ]);
  const created = await server.fetch(
    new Request("https://x/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { authorization: "Bearer t", "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" } }),
    }),
  );
  const rv = (await created.json()).metadata.resourceVersion;
  const events = (await withBookmarks.text()).trim().split("\n").map((l) => JSON.parse(l));
  const plain = (await without.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.is(events[0].type, "ADDED");
  const bookmarks = events.filter((e) => e.type === "BOOKMARK");
  assert.ok(bookmarks.length >= 3, `${bookmarks.length} bookmarks in a second`);
  assert.is(bookmarks[bookmarks.length - 1].object.metadata.resourceVersion, rv);
  assert.equal(plain.map((e) => e.type), ["ADDED"]);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

test.run();
