/**
 * The workload controllers through real kubectl against `kubedeno up --simulated-nodes 3`:
 * StatefulSet ordering and claims, DaemonSet per node, Jobs (plain and Indexed), a CronJob
 * firing on the minute, cascading deletion in each mode, affinity / anti-affinity / topology
 * spread, a node whose heartbeat stops, drain and cordon with a PodDisruptionBudget, and
 * `kubectl delete ns`.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, type ServerProcess, startServer, until } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const t = suite("controllers on simulated nodes");
let server: ServerProcess;

const kubectl = (args: string[], stdin?: string) => server.kubectlOk(args, stdin);
const getJson = (args: string[]): Promise<Json> => server.getJson(args);
const create = (obj: Json) => kubectl(["create", "-f", "-"], JSON.stringify(obj));
const live = (items: Json[]) => items.filter((p: Json) => !p.metadata.deletionTimestamp);

/** Records the events of a watch until stopped. */
function watch(path: string): { events: Json[]; stop(): Promise<void> } {
  const events: Json[] = [];
  const abort = new AbortController();
  const done = (async () => {
    const res = await server.api(`${path}${path.includes("?") ? "&" : "?"}watch=1`, { signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) events.push(JSON.parse(line));
        }
      }
    } catch { /* aborted */ }
  })();
  return {
    events,
    async stop() {
      await new Promise((r) => setTimeout(r, 200));
      abort.abort();
      await done.catch(() => {});
    },
  };
}

const podReady = (p: Json) =>
  p.status?.conditions?.some((c: Json) => c.type === "Ready" && c.status === "True");

if (!hasKubectl()) {
  console.log("skipping controllers: kubectl is not installed");
} else {
  t.before(async () => {
    server = await startServer({
      args: [
        "--simulated-nodes",
        "3",
        "--node-monitor-grace-period",
        "3s",
        "--default-unreachable-toleration-seconds",
        "1",
        "--default-not-ready-toleration-seconds",
        "1",
      ],
    });
    // Started first, checked last: the schedule fires at the next minute.
    await kubectl(["create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", "--", "true"]);
  });
  t.after(async () => {
    await server?.cleanup();
  });

  t("the default ServiceAccount and kube-root-ca.crt appear in a new namespace", async () => {
    await kubectl(["create", "namespace", "fresh"]);
    await until(
      "default ServiceAccount",
      async () => (await getJson(["sa", "-n", "fresh"])).items.length === 1,
    );
    const cm = await until("kube-root-ca.crt", async () => {
      const list = await getJson(["configmap", "-n", "fresh"]);
      return list.items.find((c: Json) => c.metadata.name === "kube-root-ca.crt");
    });
    assert.is(cm.data["ca.crt"].trim(), server.caPem.trim());
  });

  t(
    "StatefulSet: pods start in order, each after the one before is Ready; claims per pod; scale-down in reverse",
    async () => {
      const w = watch("/api/v1/namespaces/default/pods?labelSelector=app%3Ddb");
      await create({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "db" },
        spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 5432 }] },
      });
      await create({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 3,
          selector: { matchLabels: { app: "db" } },
          template: {
            metadata: { labels: { app: "db" } },
            spec: {
              containers: [{
                name: "db",
                image: "postgres",
                volumeMounts: [{ name: "data", mountPath: "/data" }],
              }],
            },
          },
          volumeClaimTemplates: [{
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
          }],
        },
      });
      await kubectl(["rollout", "status", "statefulset/db", "--timeout=30s"]);
      const pods = await getJson(["pods", "-l", "app=db"]);
      assert.equal(pods.items.map((p: Json) => p.metadata.name).sort(), ["db-0", "db-1", "db-2"]);
      // Each pod is created only once the one before it is Ready.
      const added = w.events.filter((e) => e.type === "ADDED").map((e) => e.object.metadata.name);
      assert.equal(added, ["db-0", "db-1", "db-2"]);
      for (const [before, after] of [["db-0", "db-1"], ["db-1", "db-2"]]) {
        const readyAt = w.events.findIndex((e) => e.object.metadata.name === before && podReady(e.object));
        const addedAt = w.events.findIndex((e) => e.type === "ADDED" && e.object.metadata.name === after);
        assert.ok(readyAt >= 0 && readyAt < addedAt, `${after} created after ${before} was Ready`);
      }
      // Claims from the template, bound by the local provisioner on the pod's node.
      const claims = await until("bound claims", async () => {
        const list = await getJson(["pvc", "-l", "app=db"]);
        return list.items.length === 3 && list.items.every((c: Json) => c.status.phase === "Bound") &&
          list.items;
      });
      assert.equal(claims.map((c: Json) => c.metadata.name).sort(), ["data-db-0", "data-db-1", "data-db-2"]);
      const db0 = pods.items.find((p: Json) => p.metadata.name === "db-0");
      const claim0 = claims.find((c: Json) => c.metadata.name === "data-db-0");
      assert.is(claim0.metadata.annotations["volume.kubernetes.io/selected-node"], db0.spec.nodeName);
      assert.is(claim0.spec.storageClassName, "local-path");
      const revisions = await getJson(["controllerrevisions", "-l", "app=db"]);
      assert.is(revisions.items.length, 1);

      await kubectl(["scale", "statefulset/db", "--replicas=1"]);
      await until("1 pod", async () => (await getJson(["pods", "-l", "app=db"])).items.length === 1);
      await w.stop();
      const deleted = w.events.filter((e) => e.type === "DELETED").map((e) => e.object.metadata.name);
      assert.equal(deleted, ["db-2", "db-1"]);
      await kubectl(["delete", "statefulset", "db"]);
    },
  );

  t("DaemonSet: one pod on each node, none on a node it does not tolerate", async () => {
    await kubectl(["taint", "node", "sim-node-2", "only=special:NoSchedule"]);
    await create({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { containers: [{ name: "a", image: "busybox" }] },
        },
      },
    });
    await kubectl(["rollout", "status", "daemonset/agent", "--timeout=30s"]);
    const pods = await getJson(["pods", "-l", "app=agent"]);
    assert.equal(pods.items.map((p: Json) => p.spec.nodeName).sort(), ["sim-node-0", "sim-node-1"]);
    const ds = await getJson(["daemonset", "agent"]);
    assert.equal([ds.status.desiredNumberScheduled, ds.status.numberReady], [2, 2]);
    await kubectl(["taint", "node", "sim-node-2", "only-"]);
    await until("a pod on sim-node-2", async () => {
      const list = await getJson(["pods", "-l", "app=agent"]);
      return list.items.some((p: Json) => p.spec.nodeName === "sim-node-2");
    });
    await kubectl(["delete", "daemonset", "agent"]);
  });

  t("a Job completes; an Indexed Job runs each index once", async () => {
    await kubectl(["create", "job", "once", "--image=busybox", "--", "true"]);
    await kubectl(["wait", "--for=condition=Complete", "job/once", "--timeout=30s"]);
    const job = await getJson(["job", "once"]);
    assert.is(job.status.succeeded, 1);
    await create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "indexed" },
      spec: {
        completionMode: "Indexed",
        completions: 4,
        parallelism: 2,
        template: {
          spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["true"] }] },
        },
      },
    });
    await kubectl(["wait", "--for=condition=Complete", "job/indexed", "--timeout=30s"]);
    const indexed = await getJson(["job", "indexed"]);
    assert.equal([indexed.status.succeeded, indexed.status.completedIndexes], [4, "0-3"]);
    const pods = await getJson(["pods", "-l", "job-name=indexed"]);
    const indexes = pods.items.map((p: Json) =>
      p.metadata.annotations["batch.kubernetes.io/job-completion-index"]
    );
    assert.equal(indexes.sort(), ["0", "1", "2", "3"]);
    const events = await getJson(["events", "--field-selector", "involvedObject.name=once"]);
    assert.ok(events.items.some((e: Json) => e.reason === "Completed"), "a Completed event");
  });

  t("a failing Job gives up after backoffLimit", async () => {
    await create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "fails" },
      spec: {
        backoffLimit: 0,
        template: {
          spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["false"] }] },
        },
      },
    });
    await kubectl(["wait", "--for=condition=Failed", "job/fails", "--timeout=30s"]);
    const job = await getJson(["job", "fails"]);
    const failed = job.status.conditions.find((c: Json) => c.type === "Failed");
    assert.is(failed.reason, "BackoffLimitExceeded");
  });

  t(
    "delete --cascade: background removes the pods, orphan keeps them, foreground removes them first",
    async () => {
      for (const name of ["bg", "orph", "fg"]) {
        await kubectl(["create", "deployment", name, "--image=busybox", "--replicas=2"]);
        await kubectl(["rollout", "status", `deployment/${name}`, "--timeout=30s"]);
      }
      await kubectl(["delete", "deployment", "bg", "--cascade=background"]);
      await until("bg pods gone", async () => (await getJson(["pods", "-l", "app=bg"])).items.length === 0);
      assert.is((await getJson(["rs", "-l", "app=bg"])).items.length, 0);
      const killing = await until("Killing events", async () => {
        const evs = (await getJson(["events", "--field-selector", "reason=Killing"])).items;
        return evs.filter((e: Json) => e.involvedObject.name.startsWith("bg-")).length === 2 && evs;
      });
      const kill = killing.find((e: Json) => e.involvedObject.name.startsWith("bg-"));
      assert.equal([kill.message, kill.source.component], ["Stopping container busybox", "kubelet"]);
      assert.match(kill.source.host, /^sim-node-/);

      await kubectl(["delete", "deployment", "orph", "--cascade=orphan"]);
      await until("orphaned ReplicaSet", async () => {
        const sets = (await getJson(["rs", "-l", "app=orph"])).items;
        return sets.length === 1 && !sets[0].metadata.ownerReferences;
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.is(live((await getJson(["pods", "-l", "app=orph"])).items).length, 2, "orphan keeps the pods");

      // kubectl waits for the foreground deletion to finish: by then nothing is left.
      await kubectl(["delete", "deployment", "fg", "--cascade=foreground", "--timeout=30s"]);
      assert.is((await getJson(["rs", "-l", "app=fg"])).items.length, 0);
      assert.is((await getJson(["pods", "-l", "app=fg"])).items.length, 0);
      await kubectl(["delete", "rs", "-l", "app=orph"]);
    },
  );

  t("affinity, anti-affinity and topology spread", async () => {
    await create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "anti" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "anti" } },
        template: {
          metadata: { labels: { app: "anti" } },
          spec: {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [{
                  labelSelector: { matchLabels: { app: "anti" } },
                  topologyKey: "kubernetes.io/hostname",
                }],
              },
            },
            containers: [{ name: "c", image: "busybox" }],
          },
        },
      },
    });
    await kubectl(["rollout", "status", "deployment/anti", "--timeout=30s"]);
    const anti = (await getJson(["pods", "-l", "app=anti"])).items;
    assert.is(new Set(anti.map((p: Json) => p.spec.nodeName)).size, 3, "one per node");
    // A fourth cannot go anywhere.
    await kubectl(["scale", "deployment/anti", "--replicas=4"]);
    const pending = await until("a Pending fourth", async () => {
      const list = (await getJson(["pods", "-l", "app=anti"])).items;
      return list.find((p: Json) => !p.spec.nodeName && p.status.conditions?.[0]?.reason === "Unschedulable");
    });
    assert.match(pending.status.conditions[0].message, /3 node\(s\) didn't match pod anti-affinity rules/);

    const podOn = anti[0].spec.nodeName;
    await create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "friend" },
      spec: {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{
              labelSelector: { matchLabels: { app: "anti" } },
              topologyKey: "kubernetes.io/hostname",
              namespaces: ["default"],
            }],
          },
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{
                matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [podOn] }],
              }],
            },
          },
        },
        containers: [{ name: "c", image: "busybox" }],
      },
    });
    const friend = await until(
      "friend scheduled",
      async () => (await getJson(["pod", "friend"])).spec.nodeName,
    );
    assert.is(friend, podOn);
    await kubectl(["delete", "deployment", "anti"]);
    await kubectl(["delete", "pod", "friend"]);

    await create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "zones" },
      spec: {
        replicas: 6,
        selector: { matchLabels: { app: "zones" } },
        template: {
          metadata: { labels: { app: "zones" } },
          spec: {
            topologySpreadConstraints: [{
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app: "zones" } },
            }],
            containers: [{ name: "c", image: "busybox" }],
          },
        },
      },
    });
    await kubectl(["rollout", "status", "deployment/zones", "--timeout=30s"]);
    const nodes = await getJson(["nodes"]);
    const zoneOf = Object.fromEntries(
      nodes.items.map((n: Json) => [n.metadata.name, n.metadata.labels["topology.kubernetes.io/zone"]]),
    );
    const perZone: Record<string, number> = {};
    for (const p of (await getJson(["pods", "-l", "app=zones"])).items) {
      perZone[zoneOf[p.spec.nodeName]] = (perZone[zoneOf[p.spec.nodeName]] ?? 0) + 1;
    }
    assert.equal(Object.values(perZone), [2, 2, 2]);
    await kubectl(["delete", "deployment", "zones"]);
  });

  t("cordon and drain evict through the PodDisruptionBudget", async () => {
    await kubectl(["create", "deployment", "guarded", "--image=busybox", "--replicas=3"]);
    await kubectl(["rollout", "status", "deployment/guarded", "--timeout=30s"]);
    await kubectl(["create", "pdb", "guarded", "--selector=app=guarded", "--min-available=3"]);
    const pdb = await until("PDB status", async () => {
      const p = await getJson(["pdb", "guarded"]);
      return p.status?.currentHealthy === 3 && p;
    });
    assert.equal([pdb.status.desiredHealthy, pdb.status.disruptionsAllowed], [3, 0]);
    const victimNode = (await getJson(["pods", "-l", "app=guarded"])).items[0].spec.nodeName;
    await kubectl(["cordon", victimNode]);
    const node = await getJson(["node", victimNode]);
    assert.is(node.spec.unschedulable, true);
    // With no disruption allowed, drain keeps retrying: it must time out with the pod still there.
    const blocked = await server.kubectl([
      "drain",
      victimNode,
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--pod-selector=app=guarded",
      "--timeout=3s",
    ]);
    assert.is.not(blocked.code, 0);
    assert.match(blocked.stderr, /disruption budget/);
    await kubectl(["patch", "pdb", "guarded", "--type=merge", "-p", '{"spec":{"minAvailable":2}}']);
    await until(
      "a disruption allowed",
      async () => (await getJson(["pdb", "guarded"])).status.disruptionsAllowed >= 1,
    );
    await kubectl([
      "drain",
      victimNode,
      "--ignore-daemonsets",
      "--pod-selector=app=guarded",
      "--timeout=30s",
    ]);
    await kubectl(["rollout", "status", "deployment/guarded", "--timeout=30s"]);
    const pods = live((await getJson(["pods", "-l", "app=guarded"])).items);
    assert.is(pods.length, 3);
    assert.not.ok(pods.some((p: Json) => p.spec.nodeName === victimNode), "nothing left on the drained node");
    await kubectl(["uncordon", victimNode]);
    await kubectl(["delete", "deployment", "guarded"]);
    await kubectl(["delete", "pdb", "guarded"]);
  });

  t(
    "a node whose heartbeat stops goes NotReady, is tainted, and its pods are replaced elsewhere",
    async () => {
      await kubectl(["create", "deployment", "moving", "--image=busybox", "--replicas=3"]);
      await kubectl(["rollout", "status", "deployment/moving", "--timeout=30s"]);
      const before = (await getJson(["pods", "-l", "app=moving"])).items;
      const silent = before[0].spec.nodeName;
      await kubectl(["annotate", "node", silent, "kubedeno.io/heartbeat=stopped"]);
      const node = await until("NotReady", async () => {
        const n = await getJson(["node", silent]);
        const ready = n.status.conditions.find((c: Json) => c.type === "Ready");
        const noExecute = n.spec.taints?.some((t: Json) =>
          t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute"
        );
        return ready.status === "Unknown" && noExecute && n;
      });
      assert.is(node.status.conditions.find((c: Json) => c.type === "Ready").reason, "NodeStatusUnknown");
      const nodes = await kubectl(["get", "nodes"]);
      assert.match(nodes, new RegExp(`${silent}\\s+NotReady`));
      await until("pods replaced on the other nodes", async () => {
        const pods = live((await getJson(["pods", "-l", "app=moving"])).items);
        return pods.length === 3 &&
          pods.every((p: Json) => p.spec.nodeName && p.spec.nodeName !== silent && podReady(p));
      }, 30_000);
      await kubectl(["annotate", "node", silent, "kubedeno.io/heartbeat-"]);
      await until("Ready again", async () => {
        const n = await getJson(["node", silent]);
        return n.status.conditions.find((c: Json) => c.type === "Ready").status === "True" &&
          !n.spec.taints?.length;
      }, 30_000);
      await kubectl(["delete", "deployment", "moving"]);
    },
  );

  t("kubectl delete ns removes everything in it", async () => {
    await kubectl(["create", "namespace", "doomed"]);
    await kubectl(["create", "deployment", "d", "--image=busybox", "--replicas=2", "-n", "doomed"]);
    await kubectl(["create", "configmap", "c", "--from-literal=a=b", "-n", "doomed"]);
    await kubectl(["rollout", "status", "deployment/d", "-n", "doomed", "--timeout=30s"]);
    await kubectl(["delete", "namespace", "doomed", "--timeout=30s"]);
    const r = await server.kubectl(["get", "namespace", "doomed"]);
    assert.match(r.stderr, /NotFound|not found/);
    const pods = await getJson(["pods", "-A", "--field-selector", "metadata.namespace=doomed"]);
    assert.is(pods.items.length, 0);
  });

  t("the CronJob created a Job on the minute, and it completed", async () => {
    const job = await until("a Job from the CronJob", async () => {
      const jobs = await getJson(["jobs"]);
      return jobs.items.find((j: Json) =>
        j.metadata.ownerReferences?.[0]?.name === "tick" &&
        j.status.conditions?.some((c: Json) => c.type === "Complete")
      );
    }, 70_000);
    assert.match(job.metadata.name, /^tick-\d+$/);
    const cj = await getJson(["cronjob", "tick"]);
    assert.ok(cj.status.lastScheduleTime, "lastScheduleTime set");
    assert.ok(cj.status.lastSuccessfulTime, "lastSuccessfulTime set");
  });
}

t.run();
