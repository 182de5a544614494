import { test } from "uvu";
import * as assert from "uvu/assert";
import { podPrinter, podSummary } from "./pod.ts";

const NOW = Date.parse("2025-01-01T12:00:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d+Z$/, "Z");

// deno-lint-ignore no-explicit-any
type Obj = any;

function pod(status: Obj, spec: Obj = {}, metadata: Obj = {}): Obj {
  return {
    metadata: { name: "p", creationTimestamp: ago(30), ...metadata },
    spec: { containers: [{ name: "c" }], ...spec },
    status,
  };
}

const running = { ready: true, started: true, state: { running: { startedAt: ago(60) } }, restartCount: 0 };

test("pods print NAME READY STATUS RESTARTS AGE, then the wide columns", () => {
  assert.equal(
    podPrinter.columns.map((c) => [c.name, c.type, c.priority]),
    [
      ["Name", "string", 0],
      ["Ready", "string", 0],
      ["Status", "string", 0],
      ["Restarts", "integer", 0],
      ["Age", "string", 0],
      ["IP", "string", 1],
      ["Node", "string", 1],
      ["Nominated Node", "string", 1],
      ["Readiness Gates", "string", 1],
    ],
  );
  assert.is(podPrinter.columns[0].format, "name");
  assert.equal(
    podPrinter.row(pod({ phase: "Pending" }), NOW),
    ["p", "0/1", "Pending", "0", "30s", "<none>", "<none>", "<none>", "<none>"],
  );
  const scheduled = pod(
    {
      phase: "Running",
      podIPs: [{ ip: "10.0.0.5" }],
      containerStatuses: [running],
      conditions: [{ type: "gate", status: "True" }],
    },
    { nodeName: "n1", readinessGates: [{ conditionType: "gate" }, { conditionType: "other" }] },
  );
  assert.equal(podPrinter.row(scheduled, NOW), [
    "p",
    "1/1",
    "Running",
    "0",
    "30s",
    "10.0.0.5",
    "n1",
    "<none>",
    "1/2",
  ]);
});

test("STATUS takes a waiting or terminated container's reason, or its exit code", () => {
  const waiting = { state: { waiting: { reason: "CrashLoopBackOff" } }, restartCount: 4 };
  assert.is(
    podSummary(pod({ phase: "Running", containerStatuses: [waiting] }), NOW).status,
    "CrashLoopBackOff",
  );
  const killed = { state: { terminated: { exitCode: 137, signal: 9 } } };
  assert.is(podSummary(pod({ phase: "Failed", containerStatuses: [killed] }), NOW).status, "Signal:9");
  const exited = { state: { terminated: { exitCode: 2 } } };
  assert.is(podSummary(pod({ phase: "Failed", containerStatuses: [exited] }), NOW).status, "ExitCode:2");
  const done = { state: { terminated: { exitCode: 0, reason: "Completed" } } };
  assert.equal(podSummary(pod({ phase: "Succeeded", containerStatuses: [done] }), NOW), {
    ready: "0/1",
    status: "Completed",
    restarts: "0",
  });
  assert.is(podSummary(pod({ phase: "Failed", reason: "Evicted" }), NOW).status, "Evicted");
});

test("a completed container beside a running one reads Running or NotReady by the Ready condition", () => {
  const spec = { containers: [{ name: "a" }, { name: "b" }] };
  const statuses = [{ state: { terminated: { exitCode: 0, reason: "Completed" } } }, running];
  const notReady = pod({
    phase: "Running",
    containerStatuses: statuses,
    conditions: [{ type: "Ready", status: "False" }],
  }, spec);
  assert.equal(podSummary(notReady, NOW), { ready: "1/2", status: "NotReady", restarts: "0" });
  const ready = pod({
    phase: "Running",
    containerStatuses: statuses,
    conditions: [{ type: "Ready", status: "True" }],
  }, spec);
  assert.is(podSummary(ready, NOW).status, "Running");
});

test("init containers: Init:i/n, Init:<reason>, Init:ExitCode, and sidecars counted as containers", () => {
  const spec = { initContainers: [{ name: "i1" }, { name: "i2" }] };
  const first = pod({
    phase: "Pending",
    initContainerStatuses: [{ name: "i1", state: { running: {} } }, {
      name: "i2",
      state: { waiting: { reason: "PodInitializing" } },
    }],
  }, spec);
  assert.is(podSummary(first, NOW).status, "Init:0/2");
  const second = pod({
    phase: "Pending",
    initContainerStatuses: [{ name: "i1", state: { terminated: { exitCode: 0 } } }, {
      name: "i2",
      state: { running: {} },
    }],
  }, spec);
  assert.is(podSummary(second, NOW).status, "Init:1/2");
  const pulling = pod({
    phase: "Pending",
    initContainerStatuses: [{ name: "i1", state: { waiting: { reason: "ErrImagePull" } } }],
  }, spec);
  assert.is(podSummary(pulling, NOW).status, "Init:ErrImagePull");
  const failed = pod({
    phase: "Pending",
    initContainerStatuses: [{ name: "i1", state: { terminated: { exitCode: 3 } }, restartCount: 1 }],
  }, spec);
  assert.equal(podSummary(failed, NOW), { ready: "0/1", status: "Init:ExitCode:3", restarts: "1" });

  const withSidecar = { initContainers: [{ name: "proxy", restartPolicy: "Always" }] };
  const sidecarUp = pod({
    phase: "Running",
    initContainerStatuses: [{ name: "proxy", started: true, ready: true, state: { running: {} } }],
    containerStatuses: [running],
  }, withSidecar);
  assert.equal(podSummary(sidecarUp, NOW), { ready: "2/2", status: "Running", restarts: "0" });
});

test("Terminating, NodeLost, SchedulingGated", () => {
  const deleting = pod({ phase: "Running", containerStatuses: [running] }, {}, { deletionTimestamp: ago(1) });
  assert.is(podSummary(deleting, NOW).status, "Terminating");
  const finished = pod({ phase: "Succeeded" }, {}, { deletionTimestamp: ago(1) });
  assert.is(podSummary(finished, NOW).status, "Succeeded");
  const lost = pod({ phase: "Running", reason: "NodeLost" }, {}, { deletionTimestamp: ago(1) });
  assert.is(podSummary(lost, NOW).status, "Unknown");
  const gated = pod({
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }],
  });
  assert.is(podSummary(gated, NOW).status, "SchedulingGated");
});

test("RESTARTS says how long ago a container last terminated", () => {
  const restarted = {
    ...running,
    restartCount: 2,
    lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } },
  };
  assert.equal(podSummary(pod({ phase: "Running", containerStatuses: [restarted] }), NOW), {
    ready: "1/1",
    status: "Running",
    restarts: "2 (5m ago)",
  });
  const noLastState = { ...running, restartCount: 3 };
  assert.is(podSummary(pod({ phase: "Running", containerStatuses: [noLastState] }), NOW).restarts, "3");
});

test.run();
