/**
 * A node agent killed with SIGKILL (a separate `kubedeno node` process beside `up`'s own node): its
 * Node goes NotReady, its Deployment's pods come back on the other node, and restarting it leaves
 * no container running twice.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, processesWith, type ServerProcess, startServer, until } from "./harness.ts";
import { V8_FLAGS } from "../cli/v8_flags.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const t = suite("a killed node agent");
let server: ServerProcess;
let nodeB: Deno.ChildProcess | undefined;
let rootB = "";
const kubectl = (args: string[], stdin?: string) => server.kubectlOk(args, stdin);
const getJson = (args: string[]): Promise<Json> => server.getJson(args);
const hasBusybox = await Deno.stat("/bin/busybox").then(() => true, () => false);

function startNodeB(): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...V8_FLAGS,
      `${ROOT}/main.ts`,
      "node",
      "--kubeconfig",
      server.kubeconfig,
      "--name",
      "node-b",
      "--root-dir",
      rootB,
      "--node-port",
      "0",
      // Its Lease then renews every second, as the server's 4 s grace period needs.
      "--node-monitor-grace-period",
      "4s",
    ],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
}

const ready = (node: Json) => node?.status?.conditions?.find((c: Json) => c.type === "Ready")?.status;

if (!hasKubectl() || !hasBusybox) {
  console.log("skipping the killed node agent: needs kubectl and /bin/busybox (Debian busybox-static)");
} else {
  t.before(async () => {
    server = await startServer({
      args: ["--node-monitor-grace-period", "4s", "--default-unreachable-toleration-seconds", "2"],
    });
    rootB = await Deno.makeTempDir({ prefix: "kubedeno-node-b-" });
  });
  t.after(async () => {
    try {
      nodeB?.kill("SIGTERM");
      await nodeB?.status;
    } catch { /* gone */ }
    await server?.cleanup();
    await Deno.remove(rootB, { recursive: true }).catch(() => {});
  });

  t(
    "kill -9 of a node: NotReady, its pods replaced on the other node; a restart runs nothing twice",
    async () => {
      const nodeA = await until(
        "up's own node",
        async () => (await getJson(["nodes"])).items[0]?.metadata?.name,
      );
      nodeB = startNodeB();
      await until("node-b Ready", async () =>
        ready(
          await getJson(["node", "node-b"]).catch(() => undefined),
        ) === "True");
      // Put the Deployment's pods on node-b.
      await kubectl(["cordon", nodeA]);
      const marker = `kubedeno-restart-${Date.now()}`;
      await kubectl([
        "create",
        "deployment",
        "keep",
        "--image=busybox",
        "--replicas=2",
        "--",
        "sh",
        "-c",
        `sleep 3600; echo ${marker}`,
      ]);
      await kubectl(["rollout", "status", "deployment/keep", "--timeout=30s"]);
      const before = (await getJson(["pods", "-l", "app=keep"])).items;
      assert.equal(
        before.map((p: Json) => p.spec.nodeName),
        ["node-b", "node-b"],
      );
      await until("the two containers' processes", async () => (await processesWith(marker)) === 2);
      await kubectl(["uncordon", nodeA]);

      nodeB.kill("SIGKILL");
      await nodeB.status;
      await until(
        "node-b not ready",
        async () => ready(await getJson(["node", "node-b"])) === "Unknown",
        30_000,
      );
      const replaced = await until("two running pods on the other node", async () => {
        const pods = (await getJson(["pods", "-l", "app=keep"])).items.filter((p: Json) =>
          p.spec.nodeName === nodeA && p.status.phase === "Running" && !p.metadata.deletionTimestamp
        );
        return pods.length === 2 && pods;
      }, 40_000);
      assert.is(replaced.length, 2);
      // The killed agent's containers are still running: nobody stopped them.
      assert.is(await processesWith(marker), 4);

      nodeB = startNodeB();
      await until(
        "node-b Ready again",
        async () => ready(await getJson(["node", "node-b"])) === "True",
        30_000,
      );
      await until("only the replacements running", async () => (await processesWith(marker)) === 2, 30_000);
      await until("the evicted pods gone", async () => {
        const pods = (await getJson(["pods", "-l", "app=keep"])).items;
        return pods.length === 2 && pods.every((p: Json) => p.spec.nodeName === nodeA);
      }, 30_000);
    },
  );
}

t.run();
