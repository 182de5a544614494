/**
 * Micro-benchmark of the scheduling core (no networking): 5,000 nodes in 3 zones (8 cpu,
 * 32Gi, 110 pods each), then 10,000 pods through `schedulePod` + `assumePod` — plain pods
 * first, then pods with required anti-affinity, then pods with topology spread constraints —
 * printing pods/s per phase. Run: `deno run -A controllers/scheduler/bench_snapshot.ts`.
 */

import { schedulePod, seededRandom } from "./framework.ts";
import { ClusterSnapshot } from "./node_info.ts";
import { makeNode, makePod } from "./testing/wrappers.ts";
import type { Pod } from "./types.ts";

const NODES = 5_000;
const ZONES = ["zone-a", "zone-b", "zone-c"];

function buildSnapshot(): ClusterSnapshot {
  const snapshot = new ClusterSnapshot();
  for (let i = 0; i < NODES; i++) {
    snapshot.addNode(
      makeNode(`node-${i}`).zone(ZONES[i % ZONES.length]).capacity({ cpu: "8", memory: "32Gi", pods: "110" })
        .obj(),
    );
  }
  return snapshot;
}

function plainPods(n: number): Pod[] {
  const cpus = ["100m", "250m", "500m"], mems = ["128Mi", "256Mi", "512Mi"];
  return Array.from(
    { length: n },
    (_, i) =>
      makePod(`plain-${i}`).label("app", `plain-${i % 100}`).req({
        cpu: cpus[i % 3],
        memory: mems[(i >> 1) % 3],
      })
        .obj(),
  );
}

function antiAffinityPods(n: number): Pod[] {
  return Array.from(
    { length: n },
    (_, i) =>
      makePod(`anti-${i}`).label("app", `anti-${i % 50}`).req({ cpu: "200m", memory: "256Mi" })
        .podAntiAffinity("app", `anti-${i % 50}`, "kubernetes.io/hostname").obj(),
  );
}

function spreadPods(n: number): Pod[] {
  return Array.from(
    { length: n },
    (_, i) =>
      makePod(`spread-${i}`).label("app", `spread-${i % 20}`).req({ cpu: "200m", memory: "256Mi" })
        .spread(1, "topology.kubernetes.io/zone", "DoNotSchedule", { app: `spread-${i % 20}` })
        .spread(1, "kubernetes.io/hostname", "ScheduleAnyway", { app: `spread-${i % 20}` }).obj(),
  );
}

function run(snapshot: ClusterSnapshot, label: string, pods: Pod[], random: () => number): number {
  const started = performance.now();
  let failed = 0;
  for (const pod of pods) {
    const r = schedulePod(pod, snapshot, { random, preemption: false });
    if (r.kind === "scheduled") snapshot.assumePod(pod, r.nodeName);
    else failed++;
  }
  const ms = performance.now() - started;
  const rate = pods.length / (ms / 1000);
  console.log(
    `${label.padEnd(24)} ${String(pods.length).padStart(6)} pods  ${ms.toFixed(0).padStart(6)} ms  ` +
      `${rate.toFixed(0).padStart(7)} pods/s${failed ? `  (${failed} unschedulable)` : ""}`,
  );
  return ms;
}

const buildStart = performance.now();
const snapshot = buildSnapshot();
console.log(`snapshot of ${NODES} nodes built in ${(performance.now() - buildStart).toFixed(0)} ms`);
const random = seededRandom(42);

// Warm the JIT on a throwaway snapshot so the figures below are steady-state.
run(buildSnapshot(), "warm-up (discarded)", plainPods(2_000), random);

const phases: [string, Pod[]][] = [
  ["plain", plainPods(8_000)],
  ["required anti-affinity", antiAffinityPods(1_000)],
  ["topology spread", spreadPods(1_000)],
];
let total = 0, count = 0;
for (const [label, pods] of phases) {
  total += run(snapshot, label, pods, random);
  count += pods.length;
}
console.log(
  `${"all".padEnd(24)} ${String(count).padStart(6)} pods  ${total.toFixed(0).padStart(6)} ms  ` +
    `${(count / (total / 1000)).toFixed(0).padStart(7)} pods/s`,
);
