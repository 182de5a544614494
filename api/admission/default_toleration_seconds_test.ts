import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultTolerationSeconds } from "./default_toleration_seconds.ts";
import type { AdmissionRequest } from "./mod.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";

function request(resource: string, object: KubeObject, subresource = ""): AdmissionRequest {
  return {
    operation: "CREATE",
    info: { group: "", version: "v1", resource, kind: "Pod" } as ResourceInfo,
    subresource,
    namespace: "default",
    name: "p",
    object,
    dryRun: false,
  };
}

test("a pod without tolerations gets both, for 300 s", () => {
  const pod = { metadata: { name: "p" }, spec: { containers: [] } } as KubeObject;
  defaultTolerationSeconds().admit!(request("pods", pod));
  assert.equal((pod.spec as Record<string, unknown>).tolerations, [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    {
      key: "node.kubernetes.io/unreachable",
      operator: "Exists",
      effect: "NoExecute",
      tolerationSeconds: 300,
    },
  ]);
});

test("a toleration the pod has is kept and not added again; the seconds are configurable", () => {
  const own = {
    key: "node.kubernetes.io/unreachable",
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: 2,
  };
  const pod = { spec: { tolerations: [own] } } as KubeObject;
  defaultTolerationSeconds({ notReadySeconds: 7 }).admit!(request("pods", pod));
  assert.equal((pod.spec as Record<string, unknown>).tolerations, [
    own,
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 7 },
  ]);
});

test("an empty key with no effect tolerates everything: nothing is added", () => {
  const pod = { spec: { tolerations: [{ operator: "Exists" }] } } as KubeObject;
  defaultTolerationSeconds().admit!(request("pods", pod));
  assert.equal((pod.spec as Record<string, unknown>).tolerations, [{ operator: "Exists" }]);
});

test("other resources and subresources are left alone", () => {
  const pod = { spec: {} } as KubeObject;
  defaultTolerationSeconds().admit!(request("pods", pod, "status"));
  defaultTolerationSeconds().admit!(request("podtemplates", pod));
  assert.equal(pod.spec, {});
});

test.run();
