import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import type { ControllerContext } from "../framework/mod.ts";
import { newPodGCController } from "./controller.ts";

test("pods of a vanished node are failed and removed; terminated pods above the threshold go oldest first", async () => {
  let gc: { sweep(now?: number): Promise<void> } | undefined;
  const factory = newPodGCController({ periodMs: 3_600_000, quarantineMs: 0, terminatedPodThreshold: 2 });
  const env = await startControllers([(ctx: ControllerContext) => {
    const r = factory(ctx);
    gc = r as never;
    return r;
  }]);
  const pods = env.client.resource("", "pods");
  await env.client.resource("", "nodes").create("", { metadata: { name: "alive" } });
  const pod = (name: string, nodeName: string) => ({
    metadata: { name, namespace: "default" },
    spec: { nodeName, containers: [{ name: "c", image: "busybox" }] },
  });
  await pods.create("default", pod("on-alive", "alive"));
  await pods.create("default", pod("orphan", "gone"));
  for (const name of ["done-1", "done-2", "done-3"]) {
    await pods.create("default", pod(name, "alive"));
    await pods.patch("default", name, "merge", { status: { phase: "Succeeded" } }, { subresource: "status" });
    await new Promise((r) => setTimeout(r, 1100)); // distinct creation seconds
  }
  await eventually(
    async () => {
      const l = await pods.list("default");
      return l.items.filter((p) => (p.status as { phase?: string })?.phase === "Succeeded").length === 3;
    },
    3000,
    "the cache to see the terminated pods",
  );
  await new Promise((r) => setTimeout(r, 100));
  await gc!.sweep();
  const names = (await pods.list("default")).items.map((p) => p.metadata!.name).sort();
  assert.equal(names, ["done-2", "done-3", "on-alive"]);
  await env.close();
});

test.run();
