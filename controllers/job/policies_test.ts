import { test } from "uvu";
import * as assert from "uvu/assert";
import { matchPodFailurePolicy, type PodFailurePolicy } from "./pod_failure_policy.ts";
import { matchSuccessPolicy } from "./success_policy.ts";
import { parseIndexes } from "./indexes.ts";
import { remainingBackoffMs } from "./backoff.ts";
import type { Pod } from "../types.ts";

function failedPod(exitCode: number, conditions: Array<{ type: string; status: string }> = []): Pod {
  return {
    metadata: { name: "p", namespace: "ns" },
    spec: { containers: [] },
    status: {
      phase: "Failed",
      conditions,
      containerStatuses: [{
        name: "main",
        image: "i",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode } },
      }],
    },
  } as Pod;
}

const policy: PodFailurePolicy = {
  rules: [
    { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [42] } },
    { action: "Count", onExitCodes: { operator: "NotIn", values: [1, 2] } },
  ],
};

test("matchPodFailurePolicy: the first matching rule decides", () => {
  assert.equal(matchPodFailurePolicy(policy, failedPod(42, [{ type: "DisruptionTarget", status: "True" }])), {
    countFailed: false,
    action: "Ignore",
  });
  assert.equal(matchPodFailurePolicy(policy, failedPod(42)), {
    failJobMessage: "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1",
    countFailed: true,
    action: "FailJob",
  });
  assert.equal(matchPodFailurePolicy(policy, failedPod(7)), { countFailed: true, action: "Count" });
  assert.equal(matchPodFailurePolicy(policy, failedPod(1)), { countFailed: true });
  assert.equal(matchPodFailurePolicy(undefined, failedPod(42)), { countFailed: true });
});

test("matchPodFailurePolicy: FailJob on a pod condition names the condition", () => {
  const p: PodFailurePolicy = {
    rules: [{ action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }],
  };
  assert.is(
    matchPodFailurePolicy(p, failedPod(0, [{ type: "DisruptionTarget", status: "True" }])).failJobMessage,
    "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 0",
  );
});

test("matchSuccessPolicy: succeededIndexes, succeededCount, or both", () => {
  const done = parseIndexes("0-2,5", 10);
  assert.is(
    matchSuccessPolicy({ rules: [{ succeededIndexes: "0-3" }, { succeededIndexes: "1,5" }] }, 10, done),
    "Matched rules at index 1",
  );
  assert.is(
    matchSuccessPolicy({ rules: [{ succeededIndexes: "0-9", succeededCount: 4 }] }, 10, done),
    "Matched rules at index 0",
  );
  assert.is(
    matchSuccessPolicy({ rules: [{ succeededIndexes: "0-9", succeededCount: 5 }] }, 10, done),
    undefined,
  );
  assert.is(matchSuccessPolicy({ rules: [{ succeededCount: 4 }] }, 10, done), "Matched rules at index 0");
  assert.is(matchSuccessPolicy(undefined, 10, done), undefined);
});

test("remainingBackoffMs: 10 s doubling per failure, capped, counted from the last failure", () => {
  const base = 10_000;
  const max = 360_000;
  assert.is(remainingBackoffMs(0, undefined, 0, base, max), 0);
  assert.is(remainingBackoffMs(1, 0, 0, base, max), 10_000);
  assert.is(remainingBackoffMs(3, 0, 5_000, base, max), 35_000);
  assert.is(remainingBackoffMs(20, 0, 0, base, max), 360_000);
  assert.is(remainingBackoffMs(2, 0, 25_000, base, max), 0);
});

test.run();
