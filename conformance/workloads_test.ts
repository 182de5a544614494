/**
 * Workloads that converge, driven by real kubectl against `kubedeno up --simulated-nodes 3`:
 * Deployments (create, rollout status, set image within the surge/unavailable bounds, history,
 * undo, scale, delete with each cascade mode), scheduling (nodeSelector, taints, a pod that fits
 * nowhere) and node failure.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, type ServerProcess, startServer, until } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const t = suite("workloads on simulated nodes");
let server: ServerProcess;

const kubectl = (args: string[], stdin?: string) => server.kubectlOk(args, stdin);
const getJson = (args: string[]): Promise<Json> => server.getJson(args);
const api = async (path: string): Promise<Json> => {
  const res = await server.api(path);
  return await res.json();
};

if (!hasKubectl()) {
  console.log("skipping workloads: kubectl is not installed");
} else {
  t.before(async () => {
    server = await startServer({ args: ["--simulated-nodes", "3", "--node-monitor-grace-period", "4s"] });
  });
  t.after(async () => {
    await server?.cleanup();
  });

  t("create deployment --replicas=5 becomes 5/5 ready; rollout status says so", async () => {
    await kubectl(["create", "deployment", "web", "--image=nginx:1.25", "--replicas=5"]);
    const out = await kubectl(["rollout", "status", "deployment/web", "--timeout=30s"]);
    assert.match(out, /successfully rolled out/);
    const d = await getJson(["deployment", "web"]);
    assert.equal(
      [d.status.replicas, d.status.readyReplicas, d.status.availableReplicas, d.status.updatedReplicas],
      [5, 5, 5, 5],
    );
    const pods = await getJson(["pods", "-l", "app=web"]);
    assert.is(pods.items.length, 5);
    for (const p of pods.items) {
      assert.is(p.status.phase, "Running");
      assert.ok(p.spec.nodeName.startsWith("sim-node-"), "scheduled onto a simulated node");
    }
    const wide = await kubectl(["get", "deployment", "web"]);
    assert.match(wide, /web\s+5\/5\s+5\s+5/);
    const events = await kubectl(["get", "events", "--field-selector", "reason=Scheduled", "-o", "name"]);
    assert.ok(events.trim().split("\n").length >= 5, "a Scheduled event per pod");
  });

  t("set image rolls within maxSurge/maxUnavailable; history and undo", async () => {
    let maxTotal = 0;
    let minAvailable = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const sets = await api("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb");
        const total = sets.items.reduce((n: number, rs: Json) => n + (rs.spec.replicas ?? 0), 0);
        const available = sets.items.reduce(
          (n: number, rs: Json) => n + (rs.status?.availableReplicas ?? 0),
          0,
        );
        maxTotal = Math.max(maxTotal, total);
        minAvailable = Math.min(minAvailable, available);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await kubectl(["set", "image", "deployment/web", "nginx=nginx:1.26"]);
    await kubectl(["rollout", "status", "deployment/web", "--timeout=30s"]);
    watching = false;
    await watcher;
    // 25% of 5: surge rounds up to 2, unavailable rounds down to 1.
    assert.ok(maxTotal <= 7, `at most 7 replicas at once, saw ${maxTotal}`);
    assert.ok(minAvailable >= 4, `at least 4 available throughout, saw ${minAvailable}`);
    const sets = await getJson(["rs", "-l", "app=web"]);
    assert.is(sets.items.length, 2);
    const byImage = Object.fromEntries(
      sets.items.map((rs: Json) => [rs.spec.template.spec.containers[0].image, rs.spec.replicas]),
    );
    assert.equal(byImage, { "nginx:1.25": 0, "nginx:1.26": 5 });
    const history = await kubectl(["rollout", "history", "deployment/web"]);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    await kubectl(["rollout", "undo", "deployment/web"]);
    await kubectl(["rollout", "status", "deployment/web", "--timeout=30s"]);
    const d = await getJson(["deployment", "web"]);
    assert.is(d.spec.template.spec.containers[0].image, "nginx:1.25");
    assert.is(d.metadata.annotations["deployment.kubernetes.io/revision"], "3");
  });

  t("scale", async () => {
    await kubectl(["scale", "deployment/web", "--replicas=2"]);
    await until("2 pods", async () => {
      const pods = await getJson(["pods", "-l", "app=web"]);
      return pods.items.filter((p: Json) => !p.metadata.deletionTimestamp).length === 2;
    });
    await kubectl(["rollout", "status", "deployment/web", "--timeout=30s"]);
  });

  t("a pod that fits nowhere stays Pending with the upstream-worded event", async () => {
    await kubectl([
      "run",
      "huge",
      "--image=busybox",
      "--overrides",
      JSON.stringify({
        spec: { containers: [{ name: "huge", image: "busybox", resources: { requests: { cpu: "100" } } }] },
      }),
    ]);
    const event = await until("FailedScheduling", async () => {
      const evs = await getJson([
        "events",
        "--field-selector",
        "involvedObject.name=huge,reason=FailedScheduling",
      ]);
      return evs.items[0];
    });
    assert.is(
      event.message,
      // A request above a node's whole allocatable is unresolvable: preemption cannot help.
      "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    const pod = await getJson(["pod", "huge"]);
    assert.is(pod.status.phase, "Pending");
    const cond = pod.status.conditions.find((c: Json) => c.type === "PodScheduled");
    assert.equal([cond.status, cond.reason], ["False", "Unschedulable"]);
    await kubectl(["delete", "pod", "huge", "--wait=false"]);
  });

  t("nodeSelector and taints are honoured", async () => {
    await kubectl(["label", "node", "sim-node-1", "disk=ssd"]);
    await kubectl(["taint", "node", "sim-node-2", "dedicated=db:NoSchedule"]);
    await kubectl(
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "ssd" },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "ssd" } },
          template: {
            metadata: { labels: { app: "ssd" } },
            spec: {
              nodeSelector: { disk: "ssd" },
              containers: [{ name: "c", image: "busybox", command: ["sleep", "inf"] }],
            },
          },
        },
      }),
    );
    await kubectl(["rollout", "status", "deployment/ssd", "--timeout=30s"]);
    const pods = await getJson(["pods", "-l", "app=ssd"]);
    assert.equal([...new Set(pods.items.map((p: Json) => p.spec.nodeName))], ["sim-node-1"]);
    await kubectl(["create", "deployment", "spread", "--image=busybox", "--replicas=6"]);
    await kubectl(["rollout", "status", "deployment/spread", "--timeout=30s"]);
    const spread = await getJson(["pods", "-l", "app=spread"]);
    const nodes = new Set(spread.items.map((p: Json) => p.spec.nodeName));
    assert.not.ok(nodes.has("sim-node-2"), "nothing lands on the tainted node");
    assert.is(nodes.size, 2, "spread over the two untainted nodes");
    await kubectl(["taint", "node", "sim-node-2", "dedicated-"]);
  });
}

t.run();
