import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DaemonSet, Node, Pod } from "../types.ts";
import { FailedPodsBackoff, planManage } from "./manage.ts";

const ds = {
  metadata: { name: "d", namespace: "default", uid: "ds-uid" },
  spec: {
    selector: { matchLabels: { app: "d" } },
    template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "i" }] } },
  },
} as DaemonSet;
const node = (name: string) => ({ metadata: { name } }) as Node;
const pod = (name: string, phase: string, nodeName?: string, created = "2026-01-01T00:00:00Z"): Pod => ({
  metadata: { name, namespace: "default", uid: name, creationTimestamp: created },
  spec: { containers: [], nodeName },
  status: { phase },
});

test("planManage: missing pods made, surplus and stray pods deleted", () => {
  const plan = planManage(
    ds,
    [node("a"), node("b")],
    new Map([
      ["b", [pod("old", "Running", "b"), pod("young", "Running", "b", "2026-01-02T00:00:00Z")]],
      ["gone", [pod("unbound", "Pending")]],
    ]),
    "h",
    new FailedPodsBackoff(),
  );
  assert.equal(plan.nodesNeeding, ["a"]);
  assert.equal(plan.podsToDelete.map((p) => p.metadata!.name), ["young", "unbound"]);
});

test("planManage: a failed pod is deleted with an event, then backed off", () => {
  const backoff = new FailedPodsBackoff();
  const pods = new Map([["a", [pod("f", "Failed", "a")]]]);
  const first = planManage(ds, [node("a")], pods, "h", backoff, 1_000_000);
  assert.equal(first.podsToDelete.map((p) => p.metadata!.name), ["f"]);
  assert.equal(first.events, [{
    type: "Warning",
    reason: "FailedDaemonPod",
    message: "Found failed daemon pod default/f on node a, will try to kill it",
  }]);
  const again = planManage(ds, [node("a")], pods, "h", backoff, 1_000_500);
  assert.equal(again.podsToDelete, []);
  assert.is(again.requeueAfterMs, 1000);
  const later = planManage(ds, [node("a")], pods, "h", backoff, 1_001_500);
  assert.equal(later.podsToDelete.length, 1);
  assert.is(backoff.get("ds-uid/0/a"), 2000, "the delay doubles");
});

test.run();
