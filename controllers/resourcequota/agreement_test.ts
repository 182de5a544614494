/**
 * The quota usage the API charges on admission and the usage this controller recomputes must
 * agree, or a quota's status.used would flip between the two: the same objects, defaulted as the
 * API server stores them, through both.
 */

import { test } from "uvu";
import * as assert from "uvu/assert";
import { claimEvaluator, podEvaluator, serviceEvaluator } from "./evaluators.ts";
import * as admission from "../../api/admission/quota_evaluators.ts";
import { formatQuantity } from "../../machinery/resource_quantity.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { applyDefaults } from "../../openapi/defaults/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const NOW = Date.parse("2026-12-01T00:00:00Z");

const print = (usage: Map<string, { nano: bigint; format: string }>) =>
  Object.fromEntries([...usage].map(([k, q]) => [k, formatQuantity(q as never)]).sort());

const container = (name: string, requests?: Json, limits?: Json, extra: Json = {}) => ({
  name,
  image: "busybox",
  resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
  ...extra,
});

const pods: Array<[string, Json]> = [
  ["best effort", { spec: { containers: [container("a")] } }],
  ["requests and limits", {
    spec: { containers: [container("a", { cpu: "250m", memory: "64Mi" }, { cpu: "1", memory: "128Mi" })] },
  }],
  ["two containers and a larger init", {
    spec: {
      initContainers: [container("i", { cpu: "2" })],
      containers: [container("a", { cpu: "500m" }), container("b", { cpu: "700m", memory: "1Gi" })],
    },
  }],
  ["a sidecar init container", {
    spec: {
      initContainers: [container("s", { cpu: "300m" }, undefined, { restartPolicy: "Always" })],
      containers: [container("a", { cpu: "500m" })],
    },
  }],
  ["overhead", {
    spec: { overhead: { cpu: "100m", memory: "10Mi" }, containers: [container("a", { cpu: "1" })] },
  }],
  ["limits only", { spec: { containers: [container("a", undefined, { cpu: "2", memory: "1Gi" })] } }],
  ["extended resources and hugepages", {
    spec: {
      containers: [
        container("a", { "example.com/gpu": "2", "hugepages-2Mi": "4Mi" }, {
          "example.com/gpu": "2",
          "hugepages-2Mi": "4Mi",
        }),
      ],
    },
  }],
  ["ephemeral storage", { spec: { containers: [container("a", { "ephemeral-storage": "1Gi" })] } }],
  ["succeeded", { spec: { containers: [container("a", { cpu: "1" })] }, status: { phase: "Succeeded" } }],
  ["failed", { spec: { containers: [container("a", { cpu: "1" })] }, status: { phase: "Failed" } }],
  ["terminating within its grace", {
    metadata: { deletionTimestamp: "2026-11-30T23:59:50Z", deletionGracePeriodSeconds: 30 },
    spec: { containers: [container("a", { cpu: "1" })] },
  }],
  ["terminating past its grace", {
    metadata: { deletionTimestamp: "2026-11-30T23:00:00Z", deletionGracePeriodSeconds: 30 },
    spec: { containers: [container("a", { cpu: "1" })] },
  }],
];

const services: Array<[string, Json]> = [
  ["cluster IP", { spec: { type: "ClusterIP", ports: [{ port: 80 }] } }],
  ["node port, two ports", { spec: { type: "NodePort", ports: [{ port: 80 }, { port: 443 }] } }],
  ["load balancer", { spec: { type: "LoadBalancer", ports: [{ port: 80 }] } }],
  ["load balancer without node ports", {
    spec: { type: "LoadBalancer", allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] },
  }],
];

const claims: Array<[string, Json]> = [
  ["no class", { spec: { resources: { requests: { storage: "1Gi" } } } }],
  ["a class", { spec: { storageClassName: "fast", resources: { requests: { storage: "1500Mi" } } } }],
  ["beta class annotation", {
    metadata: { annotations: { "volume.beta.kubernetes.io/storage-class": "slow" } },
    spec: { resources: { requests: { storage: "2Gi" } } },
  }],
  ["status capacity larger", {
    spec: { resources: { requests: { storage: "1Gi" } } },
    status: { capacity: { storage: "5Gi" } },
  }],
];

interface Usage {
  usage(o: KubeObject, now: number): Json;
}
const cases: Array<[string, string, Array<[string, Json]>, Usage, Usage]> = [
  ["pods", "Pod", pods, podEvaluator, admission.podEvaluator],
  ["services", "Service", services, serviceEvaluator, admission.serviceEvaluator],
  ["claims", "PersistentVolumeClaim", claims, claimEvaluator, admission.claimEvaluator],
];

for (const [kind, type, objects, controller, api] of cases) {
  test(`${kind}: the controller and admission compute the same usage`, () => {
    for (const [what, o] of objects) {
      const object = { apiVersion: "v1", kind: type, ...structuredClone(o) } as KubeObject;
      object.metadata = { name: "x", namespace: "default", ...o.metadata };
      applyDefaults("", "v1", type, object);
      assert.equal(print(controller.usage(object, NOW)), print(api.usage(object, NOW)), `${kind}: ${what}`);
    }
  });
}

test("pods: the controller and admission agree on which scopes a pod is in", () => {
  const scopes = [
    { scopeName: "Terminating", operator: "Exists" },
    { scopeName: "NotTerminating", operator: "Exists" },
    { scopeName: "BestEffort", operator: "Exists" },
    { scopeName: "NotBestEffort", operator: "Exists" },
    { scopeName: "PriorityClass", operator: "Exists" },
    { scopeName: "PriorityClass", operator: "In", values: ["high"] },
    { scopeName: "PriorityClass", operator: "NotIn", values: ["high"] },
  ];
  const withClass: Array<[string, Json]> = [
    ...pods,
    ["a priority class", { spec: { priorityClassName: "high", containers: [container("a")] } }],
    ["active deadline", { spec: { activeDeadlineSeconds: 60, containers: [container("a")] } }],
  ];
  for (const [what, o] of withClass) {
    const object = { apiVersion: "v1", kind: "Pod", ...structuredClone(o) } as KubeObject;
    object.metadata = { name: "x", namespace: "default", ...o.metadata };
    applyDefaults("", "v1", "Pod", object);
    for (const scope of scopes) {
      assert.is(
        podEvaluator.matchesScope(scope as never, object),
        admission.podEvaluator.matchesScope(scope as never, object),
        `${what}: ${JSON.stringify(scope)}`,
      );
    }
  }
});

test.run();
