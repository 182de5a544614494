import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const TARGET = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };

test("autoscaling/v2 without metrics: one replica minimum, 80% CPU; no behavior added", () => {
  const hpa: Json = { spec: { scaleTargetRef: TARGET, maxReplicas: 5 } };
  applyDefaults("autoscaling", "v2", "HorizontalPodAutoscaler", hpa);
  assert.equal(hpa.spec, {
    scaleTargetRef: TARGET,
    maxReplicas: 5,
    minReplicas: 1,
    metrics: [{
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
    }],
  });
});

test("autoscaling/v2 with a behavior: both directions filled out, stated parts kept", () => {
  const hpa: Json = {
    spec: {
      scaleTargetRef: TARGET,
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{
        type: "Resource",
        resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } },
      }],
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 60,
          policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
        },
      },
    },
  };
  applyDefaults("autoscaling", "v2", "HorizontalPodAutoscaler", hpa);
  assert.is(hpa.spec.minReplicas, 2);
  assert.equal(hpa.spec.metrics[0].resource.name, "memory");
  assert.equal(hpa.spec.behavior, {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, {
        type: "Percent",
        value: 100,
        periodSeconds: 15,
      }],
    },
    scaleDown: {
      stabilizationWindowSeconds: 60,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
    },
  });
  const empty: Json = { spec: { behavior: {} } };
  applyDefaults("autoscaling", "v2", "HorizontalPodAutoscaler", empty);
  assert.equal(empty.spec.behavior.scaleDown, {
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
  });
});

test("autoscaling/v1: one replica minimum, 80% CPU unless named or carried in the metrics annotation", () => {
  const hpa: Json = { spec: { scaleTargetRef: TARGET, maxReplicas: 5 } };
  applyDefaults("autoscaling", "v1", "HorizontalPodAutoscaler", hpa);
  assert.equal(hpa.spec, {
    scaleTargetRef: TARGET,
    maxReplicas: 5,
    minReplicas: 1,
    targetCPUUtilizationPercentage: 80,
  });
  const own: Json = { spec: { targetCPUUtilizationPercentage: 50, minReplicas: 3 } };
  applyDefaults("autoscaling", "v1", "HorizontalPodAutoscaler", own);
  assert.equal(own.spec, { targetCPUUtilizationPercentage: 50, minReplicas: 3 });
  const annotated: Json = {
    metadata: { annotations: { "autoscaling.alpha.kubernetes.io/metrics": "[]" } },
    spec: {},
  };
  applyDefaults("autoscaling", "v1", "HorizontalPodAutoscaler", annotated);
  assert.equal(annotated.spec, { minReplicas: 1 });
});

test.run();
