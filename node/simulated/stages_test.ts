import { test } from "uvu";
import * as assert from "uvu/assert";
import { exitCodeOf, podExit, type Stage, stageFor, statusFor } from "./stages.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const pod = (commands: unknown[][], status: Json = {}, meta: Json = {}): Json => ({
  metadata: { name: "p", ...meta },
  spec: {
    nodeName: "n1",
    containers: commands.map((command, i) => ({ name: `c${i}`, image: "busybox", command })),
  },
  status,
});
const FACTS = { now: "2026-11-22T10:00:00Z", hostIP: "10.0.0.1", podIP: "10.244.1.5" };

test("exit codes from the commands that end", () => {
  assert.is(exitCodeOf({ command: ["true"] }), 0);
  assert.is(exitCodeOf({ command: ["/bin/false"] }), 1);
  assert.is(exitCodeOf({ command: ["sh", "-c", "exit 3"] }), 3);
  assert.is(exitCodeOf({ command: ["sh"], args: ["-c", "exit 0"] }), 0);
  assert.is(exitCodeOf({ command: ["sleep", "3600"] }), undefined);
  assert.is(exitCodeOf({}), undefined);
  assert.is(podExit(pod([["true"], ["sh", "-c", "exit 0"]])), "zero");
  assert.is(podExit(pod([["true"], ["false"]])), "nonzero");
  assert.is(podExit(pod([["true"], ["sleep", "1"]])), "running");
});

test("a pod goes Pending → Running and Ready, then Succeeded or Failed when its commands end", () => {
  const p = pod([["true"]], { phase: "Pending" });
  assert.is(stageFor(p)?.name, "pod-ready");
  const running = { ...p, status: statusFor(p, stageFor(p)!.result, FACTS) };
  assert.is(running.status.phase, "Running");
  assert.equal(running.status.conditions.find((c: Json) => c.type === "Ready").status, "True");
  assert.equal(running.status.containerStatuses[0].state, { running: { startedAt: FACTS.now } });
  assert.is(stageFor(running)?.name, "pod-complete");
  const done = statusFor(running, stageFor(running)!.result, { ...FACTS, now: "2026-11-22T10:00:05Z" });
  assert.is(done.phase, "Succeeded");
  assert.equal((done as Json).containerStatuses[0].state.terminated.reason, "Completed");
  assert.is((done as Json).startTime, FACTS.now);
  const failing = { ...pod([["false"]]), status: running.status };
  assert.is(stageFor(failing)?.name, "pod-fail");
  assert.is(
    (statusFor(failing, stageFor(failing)!.result, FACTS) as Json).containerStatuses[0].state.terminated
      .exitCode,
    1,
  );
  const serving = { ...pod([["sleep", "3600"]]), status: running.status };
  assert.is(stageFor(serving), undefined, "a server keeps running");
});

test("a deleted pod is removed; stages are data that can be added to", () => {
  assert.is(
    stageFor(pod([["sleep", "1"]], { phase: "Running" }, { deletionTimestamp: FACTS.now }))?.result.delete,
    true,
  );
  const slowStart: Stage[] = [{
    name: "slow",
    selector: { phases: ["Pending"] },
    delayMs: 5000,
    result: { phase: "Running", ready: false },
  }];
  const p = pod([["sleep", "1"]]);
  assert.is(stageFor(p, slowStart)?.delayMs, 5000);
  const notReady = statusFor(p, slowStart[0].result, FACTS) as Json;
  assert.equal(notReady.conditions.find((c: Json) => c.type === "Ready").status, "False");
  assert.is(notReady.containerStatuses[0].ready, false);
});

test.run();
