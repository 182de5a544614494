import { test } from "uvu";
import * as assert from "uvu/assert";
import { ClusterSnapshot } from "./node_info.ts";
import { podInfoOf, podRequests, toResource } from "./pod_info.ts";
import { makeNode, makePod } from "./testing/wrappers.ts";

const Mi = 1024 * 1024;

test("podRequests sums containers and takes the largest init container", () => {
  // Upstream's example: init 2/1G and 2/3G, containers 2/1G and 1/1G → 3 cpu, 3G.
  const pod = makePod("p").initReq({ cpu: "2", memory: "1G" }).initReq({ cpu: "2", memory: "3G" })
    .req({ cpu: "2", memory: "1G" }).req({ cpu: "1", memory: "1G" }).obj();
  const r = toResource(podRequests(pod));
  assert.is(r.milliCPU, 3000);
  assert.is(r.memory, 3e9);
});

test("podRequests counts restartable init containers beside the rest, and overhead", () => {
  const pod = makePod("p")
    .initReq({ cpu: "500m" }, "Always") // sidecar: runs all the time
    .initReq({ cpu: "1" }) // runs beside the sidecar: 1.5 while initializing
    .req({ cpu: "200m" })
    .overhead({ cpu: "100m", memory: "10Mi" })
    .obj();
  const r = toResource(podRequests(pod));
  // max(0.2 + 0.5, 1 + 0.5) + 0.1 overhead
  assert.is(r.milliCPU, 1600);
  assert.is(r.memory, 10 * Mi);
});

test("podInfoOf applies the scoring defaults to containers without requests only", () => {
  const pi = podInfoOf(
    makePod("p").req().req({ cpu: "0", memory: "1Gi" }).req({ "example.com/gpu": "2" }).obj(),
  );
  assert.is(pi.requests.milliCPU, 0);
  assert.equal([...pi.requests.scalar!], [["example.com/gpu", 2]]);
  // Explicit zero stays zero; the two containers without cpu get 100m each.
  assert.is(pi.nonZeroCPU, 200);
  assert.is(pi.nonZeroMemory, 2 * 200 * Mi + 1024 * Mi);
});

test("cpu quantities round up to millicores without float noise", () => {
  assert.is(podInfoOf(makePod("p").req({ cpu: "1.1" }).obj()).requests.milliCPU, 1100);
  assert.is(podInfoOf(makePod("q").req({ cpu: "0.0001" }).obj()).requests.milliCPU, 1);
});

test("NodeInfo sums requests, non-zero requests and host ports as pods come and go", () => {
  const s = new ClusterSnapshot();
  s.addNode(makeNode("n1").capacity({ cpu: "4", memory: "8Gi", pods: "10", "example.com/gpu": "2" }).obj());
  const a = makePod("a").node("n1").req({ cpu: "1", memory: "1Gi" }).hostPort(8080).obj();
  const b = makePod("b").node("n1").req().obj();
  s.addPod(a);
  s.addPod(b);
  const ni = s.get("n1")!;
  assert.is(ni.allocatable.milliCPU, 4000);
  assert.is(ni.allocatable.scalar!.get("example.com/gpu"), 2);
  assert.is(ni.allowedPodNumber, 10);
  assert.is(ni.pods.length, 2);
  assert.is(ni.requested.milliCPU, 1000);
  // a's port-only container and b's container take the 100m / 200Mi defaults.
  assert.is(ni.nonZeroRequested.milliCPU, 1200);
  assert.is(ni.nonZeroRequested.memory, 1024 * Mi + 400 * Mi);
  assert.ok(ni.portConflicts({ ip: "0.0.0.0", protocol: "TCP", port: 8080 }));
  assert.ok(ni.portConflicts({ ip: "10.0.0.1", protocol: "TCP", port: 8080 }));
  assert.not.ok(ni.portConflicts({ ip: "0.0.0.0", protocol: "UDP", port: 8080 }));
  s.removePod(a);
  assert.is(ni.pods.length, 1);
  assert.is(ni.requested.milliCPU, 0);
  assert.not.ok(ni.portConflicts({ ip: "0.0.0.0", protocol: "TCP", port: 8080 }));
});

test("a specific host IP conflicts with itself and 0.0.0.0 only", () => {
  const s = new ClusterSnapshot();
  s.addNode(makeNode("n1").obj());
  s.addPod(makePod("a").node("n1").hostPort(80, "TCP", "10.0.0.1").obj());
  const ni = s.get("n1")!;
  assert.ok(ni.portConflicts({ ip: "10.0.0.1", protocol: "TCP", port: 80 }));
  assert.ok(ni.portConflicts({ ip: "0.0.0.0", protocol: "TCP", port: 80 }));
  assert.not.ok(ni.portConflicts({ ip: "10.0.0.2", protocol: "TCP", port: 80 }));
});

test("ClusterSnapshot lists nodes zone by zone in turn", () => {
  const s = new ClusterSnapshot();
  for (const [name, zone] of [["a1", "a"], ["a2", "a"], ["a3", "a"], ["b1", "b"], ["c1", "c"], ["c2", "c"]]) {
    s.addNode(makeNode(name).zone(zone).obj());
  }
  assert.equal(s.nodeInfos().map((n) => n.name), ["a1", "b1", "c1", "a2", "c2", "a3"]);
  s.removeNode("b1");
  assert.equal(s.nodeInfos().map((n) => n.name), ["a1", "c1", "a2", "c2", "a3"]);
  // A relabelled node moves to its new zone.
  s.updateNode(makeNode("a1").zone("c").obj());
  assert.equal(s.nodeInfos().map((n) => n.name), ["a2", "c1", "a3", "c2", "a1"]);
});

test("assumePod counts a pod until forgotten, and an informer add confirms it", () => {
  const s = new ClusterSnapshot();
  s.addNode(makeNode("n1").obj());
  s.addNode(makeNode("n2").obj());
  const pod = makePod("p").req({ cpu: "1" }).obj();
  const assumed = s.assumePod(pod, "n1");
  assert.is(assumed.spec!.nodeName, "n1");
  assert.is(pod.spec!.nodeName, undefined, "the original is not changed");
  assert.ok(s.isAssumed(pod));
  assert.is(s.get("n1")!.requested.milliCPU, 1000);
  assert.throws(() => s.assumePod(pod, "n2"), /already in the scheduler cache/);
  assert.ok(s.forgetPod(pod));
  assert.is(s.get("n1")!.requested.milliCPU, 0);
  assert.not.ok(s.forgetPod(pod));

  s.assumePod(pod, "n1");
  // The binding landed elsewhere after all: the informer's pod wins.
  s.addPod({ ...pod, spec: { ...pod.spec!, nodeName: "n2" } });
  assert.not.ok(s.isAssumed(pod));
  assert.is(s.get("n1")!.requested.milliCPU, 0);
  assert.is(s.get("n2")!.requested.milliCPU, 1000);
  assert.is(s.nodeOfPod(pod), "n2");
});

test("pods may arrive before their node, and outlive it", () => {
  const s = new ClusterSnapshot();
  s.addPod(makePod("early").node("n1").req({ cpu: "1" }).obj());
  assert.is(s.numNodes, 0);
  s.addNode(makeNode("n1").obj());
  assert.is(s.numNodes, 1);
  assert.is(s.get("n1")!.requested.milliCPU, 1000);
  s.removeNode("n1");
  assert.is(s.numNodes, 0);
  assert.is(s.numPods, 1);
  s.addNode(makeNode("n1").obj());
  assert.is(s.get("n1")!.pods.length, 1);
});

test("terminal pods and pods without a node count against nothing", () => {
  const s = new ClusterSnapshot();
  s.addNode(makeNode("n1").obj());
  const p = makePod("p").node("n1").req({ cpu: "1" }).obj();
  s.addPod(p);
  s.updatePod({ ...p, status: { phase: "Succeeded" } });
  assert.is(s.get("n1")!.pods.length, 0);
  s.addPod(makePod("pending").req({ cpu: "1" }).obj());
  assert.is(s.numPods, 0);
});

test("the snapshot tracks nodes holding pods with affinity", () => {
  const s = new ClusterSnapshot();
  s.addNode(makeNode("n1").obj());
  const p = makePod("p").node("n1").podAntiAffinity("app", "x", "kubernetes.io/hostname").obj();
  s.addPod(p);
  s.addPod(makePod("q").node("n1").obj());
  assert.is(s.podsWithAffinityCount, 1);
  assert.is(s.nodesWithPodsWithRequiredAntiAffinity.size, 1);
  s.removePod(p);
  assert.is(s.podsWithAffinityCount, 0);
  assert.is(s.nodesWithPodsWithAffinity.size, 0);
  assert.is(s.nodesWithPodsWithRequiredAntiAffinity.size, 0);
});

test.run();
