import { test } from "uvu";
import * as assert from "uvu/assert";
import { humanDuration, podStatus, printerFor } from "./mod.ts";

const NOW = Date.parse("2025-01-01T12:00:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d+Z$/, "Z");

test("humanDuration follows upstream's boundaries", () => {
  const cases: [number, string][] = [
    [0, "0s"], [59, "59s"], [119, "119s"], [120, "2m"], [150, "2m30s"], [600, "10m"], [3 * 3600 - 1, "179m"],
    [3 * 3600, "3h"], [5 * 3600 + 1800, "5h30m"], [8 * 3600, "8h"], [47 * 3600, "47h"], [48 * 3600, "2d"],
    [53 * 3600, "2d5h"], [8 * 86400, "8d"], [400 * 86400, "400d"], [800 * 86400, "2y70d"], [9 * 365 * 86400, "9y"],
  ];
  for (const [s, want] of cases) assert.is(humanDuration(s * 1000), want, `${s}s`);
});

test("pods print NAME READY STATUS RESTARTS AGE and the wide columns", () => {
  const p = printerFor("", "pods");
  assert.equal(p.columns.map((c) => c.name), ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]);
  assert.equal(p.columns.map((c) => c.priority), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  const pending = { metadata: { name: "a", creationTimestamp: ago(30) }, spec: { containers: [{ name: "c" }] }, status: { phase: "Pending" } };
  assert.equal(p.row(pending, NOW), ["a", "0/1", "Pending", "0", "30s", "<none>", "<none>", "<none>", "<none>"]);
});

test("pod STATUS follows container states, init containers and deletion", () => {
  const base = { metadata: { name: "p" }, spec: { containers: [{ name: "c" }] } };
  const waiting = { ...base, status: { phase: "Pending", containerStatuses: [{ state: { waiting: { reason: "ImagePullBackOff" } }, restartCount: 0 }] } };
  assert.is(podStatus(waiting, NOW).reason, "ImagePullBackOff");
  const running = { ...base, status: { phase: "Running", containerStatuses: [{ ready: true, state: { running: {} }, restartCount: 2, lastState: { terminated: { finishedAt: ago(300) } } }] } };
  assert.equal(podStatus(running, NOW), { reason: "Running", ready: "1/1", restarts: "2 (5m ago)" });
  const done = { ...base, status: { phase: "Succeeded", containerStatuses: [{ state: { terminated: { reason: "Completed", exitCode: 0 } } }] } };
  assert.is(podStatus(done, NOW).reason, "Completed");
  const init = { metadata: { name: "p" }, spec: { containers: [{ name: "c" }], initContainers: [{ name: "i" }] }, status: { phase: "Pending", initContainerStatuses: [{ state: { running: {} } }] } };
  assert.is(podStatus(init, NOW).reason, "Init:0/1");
  const deleting = { ...running, metadata: { name: "p", deletionTimestamp: ago(1) } };
  assert.is(podStatus(deleting, NOW).reason, "Terminating");
});

test("deployments, services, nodes, configmaps, secrets and namespaces", () => {
  const d = printerFor("apps", "deployments");
  assert.equal(d.columns.filter((c) => c.priority === 0).map((c) => c.name), ["Name", "Ready", "Up-to-date", "Available", "Age"]);
  const deploy = { metadata: { name: "web", creationTimestamp: ago(7200) }, spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { spec: { containers: [{ name: "nginx", image: "nginx:1" }] } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
  assert.equal(d.row(deploy, NOW), ["web", "2/3", 3, 2, "120m", "nginx", "nginx:1", "app=web"]);
  const svc = printerFor("", "services");
  assert.equal(svc.row({ metadata: { name: "s", creationTimestamp: ago(5) }, spec: { type: "NodePort", clusterIP: "10.96.0.10", ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }], selector: { app: "x" } } }, NOW), ["s", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP", "5s", "app=x"]);
  assert.is(svc.row({ metadata: { name: "lb" }, spec: { type: "LoadBalancer", ports: [] } }, NOW)[3], "<pending>");
  const node = printerFor("", "nodes");
  const n = { metadata: { name: "n1", labels: { "node-role.kubernetes.io/control-plane": "" } }, spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: "v1.33.0" } } };
  assert.equal(node.row(n, NOW).slice(0, 5), ["n1", "Ready,SchedulingDisabled", "control-plane", "<unknown>", "v1.33.0"]);
  assert.equal(printerFor("", "configmaps").row({ metadata: { name: "c" }, data: { a: "1", b: "2" }, binaryData: { c: "" } }, NOW), ["c", 3, "<unknown>"]);
  assert.equal(printerFor("", "secrets").row({ metadata: { name: "s" }, type: "Opaque", data: { a: "" } }, NOW), ["s", "Opaque", 1, "<unknown>"]);
  assert.equal(printerFor("", "namespaces").row({ metadata: { name: "ns" }, status: { phase: "Active" } }, NOW), ["ns", "Active", "<unknown>"]);
  assert.equal(printerFor("example.com", "widgets").columns.map((c) => c.name), ["Name", "Age"]);
});

test("jobs and events", () => {
  const job = { metadata: { name: "j" }, spec: { completions: 1, template: { spec: { containers: [] } } }, status: { succeeded: 1, startTime: ago(70), completionTime: ago(10), conditions: [{ type: "Complete", status: "True" }] } };
  assert.equal(printerFor("batch", "jobs").row(job, NOW).slice(0, 4), ["j", "Complete", "1/1", "60s"]);
  const ev = { metadata: { name: "e1", creationTimestamp: ago(40) }, type: "Normal", reason: "Scheduled", involvedObject: { kind: "Pod", name: "web" }, message: "ok", lastTimestamp: ago(20), count: 2 };
  const row = printerFor("", "events").row(ev, NOW);
  assert.equal([row[0], row[1], row[2], row[3], row[6]], ["20s", "Normal", "Scheduled", "pod/web", "ok"]);
});

test.run();
