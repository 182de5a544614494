import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer } from "../../api/test_server.ts";
import { eventually, testClient } from "../../controllers/framework/test_env.ts";
import { HEARTBEAT_ANNOTATION, NodeSimulator } from "./simulator.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const pod = (name: string, nodeName: string, command?: string[]) => ({
  metadata: { name, namespace: "default" },
  spec: { nodeName, containers: [{ name: "c", image: "busybox", ...(command ? { command } : {}) }] },
});

test("nodes register Ready with leases; bound pods run, complete or fail; deleted pods go", async () => {
  const server = await startTestServer();
  const client = testClient(server);
  const sim = new NodeSimulator(client, { nodes: 3 });
  await sim.start();
  const nodes = (await client.resource("", "nodes").list()).items as Json[];
  assert.equal(nodes.map((n) => n.metadata.name).sort(), ["sim-node-0", "sim-node-1", "sim-node-2"]);
  const zones = new Set(nodes.map((n) => n.metadata.labels["topology.kubernetes.io/zone"]));
  assert.is(zones.size, 3, "spread over three zones");
  assert.is(nodes[0].status.conditions.find((c: Json) => c.type === "Ready").status, "True");
  assert.is(nodes[0].status.allocatable.pods, "110");
  const lease = await client.resource("coordination.k8s.io", "leases").get(
    "kube-node-lease",
    "sim-node-1",
  ) as Json;
  assert.is(lease.spec.holderIdentity, "sim-node-1");

  const pods = client.resource("", "pods");
  await pods.create("default", pod("runs", "sim-node-0"));
  await pods.create("default", pod("ok", "sim-node-1", ["true"]));
  await pods.create("default", pod("bad", "sim-node-2", ["sh", "-c", "exit 3"]));
  await pods.create("default", pod("elsewhere", "real-node"));
  const phase = async (name: string) => ((await pods.get("default", name)) as Json).status?.phase;
  await eventually(async () => (await phase("runs")) === "Running", 3000, "Running");
  const running = await pods.get("default", "runs") as Json;
  assert.is(running.status.conditions.find((c: Json) => c.type === "Ready").status, "True");
  assert.ok(running.status.podIP.startsWith("10.128.0."));
  assert.is(running.status.hostIP, "172.16.0.1");
  await eventually(async () => (await phase("ok")) === "Succeeded", 3000, "Succeeded");
  await eventually(async () => (await phase("bad")) === "Failed", 3000, "Failed");
  const bad = await pods.get("default", "bad") as Json;
  assert.is(bad.status.containerStatuses[0].state.terminated.exitCode, 3);
  assert.is(await phase("elsewhere"), "Pending", "pods of other nodes are left alone");

  await pods.delete("default", "runs");
  await eventually(
    async () => {
      try {
        await pods.get("default", "runs");
        return false;
      } catch {
        return true;
      }
    },
    3000,
    "the deleted pod to go",
  );
  await sim.stop();
  server.server.closeWatches();
  await server.close();
});

test("a node whose heartbeat is stopped stops renewing its lease, and reports Ready again when resumed", async () => {
  const server = await startTestServer();
  const client = testClient(server);
  const sim = new NodeSimulator(client, { nodes: 1, leaseRenewMs: 1000 });
  await sim.start();
  const leases = client.resource("coordination.k8s.io", "leases");
  const renewTime = async () => ((await leases.get("kube-node-lease", "sim-node-0")) as Json).spec.renewTime;
  const first = await renewTime();
  await eventually(async () => (await renewTime()) !== first, 3000, "a renewal");
  await client.resource("", "nodes").patch("", "sim-node-0", "merge", {
    metadata: { annotations: { [HEARTBEAT_ANNOTATION]: "stopped" } },
  });
  await new Promise((r) => setTimeout(r, 300));
  const frozen = await renewTime();
  await new Promise((r) => setTimeout(r, 1500));
  assert.is(await renewTime(), frozen, "no renewal while stopped");
  // The node controller would mark it Unknown; do it by hand and resume.
  const nodes = client.resource("", "nodes");
  const node = await nodes.get("", "sim-node-0") as Json;
  node.status.conditions = node.status.conditions.map((c: Json) => ({
    ...c,
    status: "Unknown",
    reason: "NodeStatusUnknown",
  }));
  await nodes.updateStatus("", node);
  await nodes.patch("", "sim-node-0", "json", [{
    op: "remove",
    path: "/metadata/annotations/kubedeno.io~1heartbeat",
  }]);
  await eventually(
    async () => {
      const n = await nodes.get("", "sim-node-0") as Json;
      return n.status.conditions.find((c: Json) => c.type === "Ready").status === "True";
    },
    3000,
    "Ready again",
  );
  assert.is.not(await renewTime(), frozen);
  await sim.stop();
  server.server.closeWatches();
  await server.close();
});

test.run();
