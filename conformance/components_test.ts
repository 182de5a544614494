/**
 * The components as separate processes against `kubedeno apiserver`, as a multi-process cluster
 * runs them: two `kubedeno controllers` (only the Lease holder acts; the other takes over when
 * it dies), `kubedeno scheduler` and `kubedeno simulate`, each with the admin kubeconfig.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, type ServerProcess, startServer, until } from "./harness.ts";
import { V8_FLAGS } from "../cli/v8_flags.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const t = suite("components as separate processes");
let server: ServerProcess;
const children: Deno.ChildProcess[] = [];

function spawn(command: string, ...args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...V8_FLAGS, `${ROOT}/main.ts`, command, "--kubeconfig", server.kubeconfig, ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  children.push(child);
  return child;
}

const kubectl = (args: string[], stdin?: string) => server.kubectlOk(args, stdin);
const getJson = (args: string[]): Promise<Json> => server.getJson(args);
const holder = async () =>
  (await getJson(["lease", "kube-controller-manager", "-n", "kube-system"])).spec.holderIdentity as string;
const ready = (n: number) => async () => (await getJson(["deployment", "web"])).status?.readyReplicas === n;

if (!hasKubectl()) {
  console.log("skipping components: kubectl is not installed");
} else {
  t.before(async () => {
    server = await startServer({ command: "apiserver" });
  });
  t.after(async () => {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
      await c.status;
    }
    await server?.cleanup();
  });

  t("the API server alone runs nothing: a Deployment makes no ReplicaSet", async () => {
    await kubectl(["create", "deployment", "web", "--image=busybox", "--replicas=3"]);
    await new Promise((r) => setTimeout(r, 1000));
    assert.is((await getJson(["rs"])).items.length, 0);
  });

  let leader: Deno.ChildProcess;

  t(
    "controllers, scheduler and simulated nodes in their own processes bring it up; one controller acts",
    async () => {
      spawn("simulate", "--nodes", "2");
      spawn("scheduler");
      leader = spawn("controllers");
      await until("a controller manager holding its Lease", holder, 20_000);
      spawn("controllers"); // the standby
      await until("3 ready replicas", ready(3), 30_000);
      const pods = (await getJson(["pods", "-l", "app=web"])).items;
      assert.ok(pods.every((p: Json) => p.spec.nodeName?.startsWith("sim-node-")));
      const lease = await getJson(["lease", "kube-scheduler", "-n", "kube-system"]);
      assert.ok(lease.spec.holderIdentity, "the scheduler holds its Lease");
      // Only one copy acted: one ReplicaSet, one creation event per pod.
      assert.is((await getJson(["rs"])).items.length, 1);
      const created = (await getJson(["events", "--field-selector", "reason=SuccessfulCreate"])).items;
      assert.is(created.reduce((n: number, e: Json) => n + e.count, 0), 3);
    },
  );

  t("when the leading controller manager dies, the standby takes its Lease over and acts", async () => {
    const before = await holder();
    leader.kill("SIGKILL");
    await leader.status;
    // The Lease lasts 15 s after its last renewal; then the standby takes it.
    const next = await until("a new holder", async () => {
      const now = await holder();
      return now !== before ? now : false;
    }, 30_000);
    assert.is.not(next, before);
    await kubectl(["scale", "deployment/web", "--replicas=4"]);
    await until("4 ready replicas under the new leader", ready(4), 30_000);
  });
}

t.run();
