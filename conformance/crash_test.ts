/**
 * Durability: kill -9 the server while 1,000 creates are in flight, start it again, and find
 * every create that was answered 201 still there, with revisions going on from the last one.
 */

import { test } from "uvu";
import * as assert from "uvu/assert";
import { startServer } from "./harness.ts";

test("every acknowledged create survives kill -9, and revisions continue", async () => {
  const server = await startServer();
  try {
    const acked = new Map<string, number>();
    let answered = 0;
    let killed = false;
    const killAfter = 300;
    const create = async (i: number) => {
      const name = `crash-${i}`;
      try {
        const res = await server.api("/api/v1/namespaces/default/configmaps", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name },
            data: { i: String(i) },
          }),
        });
        const body = await res.json();
        if (res.status === 201) acked.set(name, Number(body.metadata.resourceVersion));
      } catch {
        // Cut off by the kill: not acknowledged, so no promise was made.
      }
      if (++answered === killAfter && !killed) {
        killed = true;
        await server.kill();
      }
    };
    await Promise.all(Array.from({ length: 1000 }, (_, i) => create(i)));
    if (!killed) await server.kill();
    assert.ok(acked.size >= killAfter - 1, `only ${acked.size} creates were acknowledged`);

    await server.restart();
    const res = await server.api("/api/v1/namespaces/default/configmaps");
    const list = await res.json();
    const present = new Set<string>(list.items.map((o: { metadata: { name: string } }) => o.metadata.name));
    const lost = [...acked.keys()].filter((n) => !present.has(n));
    assert.equal(lost, [], `acknowledged but lost: ${lost.slice(0, 10).join(", ")}`);
    const maxAcked = Math.max(...acked.values());
    const after = await server.api("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after-crash" } }),
    });
    assert.is(after.status, 201);
    const rv = Number((await after.json()).metadata.resourceVersion);
    assert.ok(rv > maxAcked, `revision ${rv} is not after ${maxAcked}`);
    assert.ok(Number(list.metadata.resourceVersion) >= maxAcked);
    console.log(`crash test: ${acked.size} acknowledged before kill -9, all present after restart`);
  } finally {
    await server.cleanup();
  }
});

test.run();
