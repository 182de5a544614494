import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  deploymentTimedOut,
  getProportion,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  resolveFenceposts,
  scaledValue,
} from "./replicas.ts";
import type { Deployment, ReplicaSet } from "./types.ts";

const rolling = (
  replicas: number,
  maxSurge: number | string,
  maxUnavailable: number | string,
): Deployment => ({
  metadata: { name: "d", generation: 1 },
  spec: {
    replicas,
    selector: {},
    template: {},
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } },
  },
});
const rs = (replicas: number, annotations: Record<string, string> = {}): ReplicaSet => ({
  metadata: { name: `rs${replicas}`, annotations },
  spec: { replicas, selector: {} },
});

test("scaledValue rounds percents up or down; plain strings are refused", () => {
  assert.is(scaledValue("25%", 10, true), 3);
  assert.is(scaledValue("25%", 10, false), 2);
  assert.is(scaledValue(4, 10, true), 4);
  assert.is(scaledValue(undefined, 10, true), 0);
  assert.throws(() => scaledValue("3", 10, true), /not a percentage/);
});

test("resolveFenceposts: surge up, unavailable down, never both zero", () => {
  assert.equal(resolveFenceposts("25%", "25%", 6), { surge: 2, unavailable: 1 });
  assert.equal(resolveFenceposts("0%", "1%", 2), { surge: 0, unavailable: 1 });
  assert.equal(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 });
  assert.equal(resolveFenceposts("1%", "25%", 1), { surge: 1, unavailable: 0 });
  assert.is(maxSurge(rolling(10, 3, 2)), 3);
  assert.is(
    maxUnavailable({
      ...rolling(10, 3, 2),
      spec: { ...rolling(10, 3, 2).spec!, strategy: { type: "Recreate" } },
    }),
    0,
  );
});

test("newRSNewReplicas grows the new ReplicaSet within the surge, never past the desired count", () => {
  const d = rolling(10, 3, 2);
  const newRS = rs(0);
  assert.is(newRSNewReplicas(d, [rs(10), newRS], newRS), 3);
  assert.is(newRSNewReplicas(d, [rs(13), newRS], newRS), 0);
  const grown = rs(8);
  assert.is(newRSNewReplicas(d, [rs(1), grown], grown), 10);
  assert.is(newRSNewReplicas({ ...d, spec: { ...d.spec!, strategy: { type: "Recreate" } } }, [], newRS), 10);
});

test("getProportion scales by the max-replicas annotation, bounded by what is left", () => {
  const d = rolling(15, 3, 2); // allowed 18
  const old = rs(8, { "deployment.kubernetes.io/max-replicas": "13" });
  const young = rs(5, { "deployment.kubernetes.io/max-replicas": "13" });
  assert.is(getProportion(old, d, 5, 0), 3); // round(8 * 18 / 13) - 8
  assert.is(getProportion(young, d, 5, 3), 2); // round(5 * 18 / 13) - 5, all that is left
  assert.is(getProportion(young, d, 5, 5), 0);
  const zero = rolling(0, 3, 2);
  assert.is(getProportion(old, zero, -13, 0), -8);
});

test("deploymentTimedOut compares the Progressing condition's lastUpdateTime with the deadline", () => {
  const d = { ...rolling(1, 1, 0) };
  d.spec!.progressDeadlineSeconds = 10;
  const at = (reason: string) => ({
    conditions: [{ type: "Progressing", status: "True", reason, lastUpdateTime: "2026-01-01T00:00:00Z" }],
  });
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  assert.not.ok(deploymentTimedOut(d, at("ReplicaSetUpdated"), t0 + 10_000));
  assert.ok(deploymentTimedOut(d, at("ReplicaSetUpdated"), t0 + 10_001));
  assert.ok(deploymentTimedOut(d, at("ProgressDeadlineExceeded"), t0));
  assert.not.ok(deploymentTimedOut(d, {}, t0 + 60_000));
});

test.run();
