/**
 * Pod networking on real nodes (needs root and iproute2): `up --nodes 2` gives each node a pod
 * range from the node IPAM controller, each pod its own network namespace and address, and pods
 * reach each other across nodes by IP.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, type ServerProcess, startServer, until } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const t = suite("pod networking on real nodes");
let server: ServerProcess;
const kubectl = (args: string[], stdin?: string) => server.kubectlOk(args, stdin);
const getJson = (args: string[]): Promise<Json> => server.getJson(args);

const hasBusybox = await Deno.stat("/bin/busybox").then(() => true, () => false);
const hasIp = await Deno.stat("/usr/sbin/ip").then(() => true, () => false);
const skip = !hasKubectl()
  ? "kubectl is not installed"
  : !hasBusybox
  ? "/bin/busybox (Debian busybox-static) is not installed"
  : Deno.uid() !== 0
  ? "network namespaces need root"
  : !hasIp
  ? "iproute2 (/usr/sbin/ip) is not installed"
  : "";

if (skip) {
  console.log(`skipping pod networking: ${skip}`);
} else {
  t.before(async () => {
    server = await startServer({ args: ["--nodes", "2"] });
  });
  t.after(async () => {
    await server?.cleanup();
  });

  t(
    "each node gets a pod range; a Deployment of httpd spreads over both, each pod with its own IP",
    async () => {
      const nodes = await until("two nodes with pod ranges", async () => {
        const list = (await getJson(["nodes"])).items;
        return list.length === 2 && list.every((n: Json) => n.spec.podCIDR) && list;
      });
      const ranges = nodes.map((n: Json) => n.spec.podCIDR).sort();
      assert.equal(ranges, ["10.244.0.0/24", "10.244.1.0/24"]);
      // Three servers on the same port: only separate network namespaces let them all listen.
      await kubectl([
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=3",
        "--",
        "sh",
        "-c",
        "echo served-by-$(cat /proc/sys/kernel/hostname)-$$ > index.html; exec httpd -f -p 80",
      ]);
      await kubectl(["rollout", "status", "deployment/web", "--timeout=30s"]);
      const pods = (await getJson(["pods", "-l", "app=web"])).items;
      assert.is(pods.length, 3);
      assert.equal(new Set(pods.map((p: Json) => p.spec.nodeName)).size, 2);
      const ips = pods.map((p: Json) => p.status.podIP);
      assert.is(new Set(ips).size, 3);
      for (const p of pods) {
        const node = nodes.find((n: Json) => n.metadata.name === p.spec.nodeName);
        assert.ok(
          p.status.podIP.startsWith(node.spec.podCIDR.replace(/0\/24$/, "")),
          `${p.status.podIP} in ${node.spec.podCIDR}`,
        );
      }
      // From a pod on one node to every web pod, across nodes too.
      await kubectl(["run", "client", "--image=busybox", "--", "sleep", "3600"]);
      await until(
        "the client running",
        async () => (await getJson(["pod", "client"])).status.phase === "Running",
      );
      const pages = new Set<string>();
      for (const ip of ips) {
        const page = await until(`a page from ${ip}`, async () => {
          const r = await server.kubectl(["exec", "client", "--", "wget", "-qO-", `http://${ip}/`]);
          return r.code === 0 && r.stdout.trim();
        });
        assert.match(page, /^served-by-/);
        pages.add(page);
      }
      assert.is(pages.size, 3);
      const inside = await kubectl(["exec", "client", "--", "ip", "-4", "addr", "show", "eth0"]);
      const clientIP = (await getJson(["pod", "client"])).status.podIP;
      assert.match(inside, new RegExp(`inet ${clientIP.replaceAll(".", "\\.")}/24`));
    },
  );

  t("deleting a pod removes its network namespace", async () => {
    const uid = (await getJson(["pod", "client"])).metadata.uid;
    const namespaces = async () =>
      new TextDecoder().decode((await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout);
    assert.match(await namespaces(), new RegExp(uid));
    await kubectl(["delete", "pod", "client", "--wait=true", "--timeout=20s"]);
    await until("the namespace gone", async () => !(await namespaces()).includes(uid));
  });
}

t.run();
