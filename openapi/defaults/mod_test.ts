import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults, DEFAULTERS } from "./mod.ts";
import { admitPodDefaults } from "./pod_admission.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const CONTAINER = {
  name: "c",
  image: "app:1",
  ports: [{ containerPort: 80 }],
  env: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
  resources: { limits: { cpu: "1" } },
  livenessProbe: { httpGet: { port: 80 } },
  readinessProbe: { grpc: { port: 90 } },
  lifecycle: { preStop: { httpGet: { port: 80 } } },
};
const POD_SPEC = {
  hostNetwork: true,
  serviceAccount: "sa",
  containers: [CONTAINER],
  initContainers: [CONTAINER],
  ephemeralContainers: [CONTAINER],
  volumes: [
    { name: "a" },
    { name: "b", secret: {} },
    { name: "c", configMap: {} },
    { name: "d", hostPath: { path: "/" } },
    {
      name: "e",
      projected: {
        sources: [{ serviceAccountToken: { path: "t" } }, {
          downwardAPI: { items: [{ path: "p", fieldRef: {} }] },
        }],
      },
    },
    { name: "f", downwardAPI: { items: [{ path: "p", fieldRef: {} }] } },
    { name: "g", ephemeral: { volumeClaimTemplate: { spec: {} } } },
    { name: "h", rbd: {} },
    { name: "i", iscsi: {} },
    { name: "j", azureDisk: {} },
    { name: "k", scaleIO: {} },
    { name: "l", image: { reference: "x" } },
  ],
};
const TEMPLATE = { metadata: { labels: { app: "a" } }, spec: POD_SPEC };

/** One object of every kind with defaults, each touching as many defaulted fields as it can. */
const CORPUS: [string, string, string, Json][] = [
  ["", "v1", "Pod", { metadata: { name: "p" }, spec: POD_SPEC }],
  ["", "v1", "PodTemplate", { template: TEMPLATE }],
  ["", "v1", "ReplicationController", { metadata: {}, spec: { template: TEMPLATE } }],
  ["", "v1", "Service", {
    spec: { type: "LoadBalancer", sessionAffinity: "ClientIP", ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } },
  }],
  ["", "v1", "Endpoints", { subsets: [{ ports: [{ port: 1 }] }] }],
  ["", "v1", "Namespace", { metadata: { name: "n" } }],
  ["", "v1", "Secret", {}],
  ["", "v1", "PersistentVolume", {
    spec: { hostPath: { path: "/" }, rbd: {}, iscsi: {}, azureDisk: {}, scaleIO: {} },
  }],
  ["", "v1", "PersistentVolumeClaim", { spec: {} }],
  ["", "v1", "Node", { status: { capacity: { cpu: "1" } } }],
  ["", "v1", "LimitRange", {
    spec: { limits: [{ type: "Container", max: { cpu: "1" }, min: { memory: "1Mi" } }] },
  }],
  ["", "v1", "Event", {}],
  ["apps", "v1", "Deployment", { spec: { template: TEMPLATE } }],
  ["apps", "v1", "ReplicaSet", { spec: { template: TEMPLATE } }],
  ["apps", "v1", "StatefulSet", { spec: { template: TEMPLATE, volumeClaimTemplates: [{ spec: {} }] } }],
  ["apps", "v1", "DaemonSet", { spec: { template: TEMPLATE } }],
  ["batch", "v1", "Job", {
    metadata: {},
    spec: { template: TEMPLATE, podFailurePolicy: { rules: [{ onPodConditions: [{ type: "X" }] }] } },
  }],
  ["batch", "v1", "CronJob", { spec: { jobTemplate: { spec: { template: TEMPLATE } } } }],
  ["autoscaling", "v1", "HorizontalPodAutoscaler", { spec: {} }],
  ["autoscaling", "v2", "HorizontalPodAutoscaler", { spec: { behavior: { scaleUp: { policies: [] } } } }],
  ["networking.k8s.io", "v1", "NetworkPolicy", {
    spec: { egress: [{ ports: [{}] }], ingress: [{ ports: [{}] }] },
  }],
  ["networking.k8s.io", "v1", "IngressClass", { spec: { parameters: {} } }],
  ["discovery.k8s.io", "v1", "EndpointSlice", { endpoints: [{}], ports: [{}] }],
  ["rbac.authorization.k8s.io", "v1", "RoleBinding", { subjects: [{ kind: "User" }] }],
  ["rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", { subjects: [{ kind: "Group" }] }],
  ["storage.k8s.io", "v1", "StorageClass", {}],
  ["storage.k8s.io", "v1", "CSIDriver", {}],
  ["scheduling.k8s.io", "v1", "PriorityClass", {}],
  ["admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", {
    webhooks: [{ clientConfig: { service: {} }, rules: [{}] }],
  }],
  ["admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", { webhooks: [{ rules: [{}] }] }],
  ["admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", {
    spec: { matchConstraints: { resourceRules: [{}] } },
  }],
  ["admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", {
    spec: { matchResources: {} },
  }],
  ["admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicy", { spec: { matchConstraints: {} } }],
  ["admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicyBinding", { spec: { paramRef: {} } }],
  ["flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", {}],
  ["flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", {
    spec: { limited: { limitResponse: { queuing: {} } }, exempt: {} },
  }],
  ["apiextensions.k8s.io", "v1", "CustomResourceDefinition", {
    spec: { names: { kind: "K" }, versions: [{ name: "v1", storage: true }] },
  }],
];

test("the corpus covers every defaulter", () => {
  const covered = new Set(CORPUS.map(([g, , k]) => `${g}/${k}`));
  for (const [group, kinds] of Object.entries(DEFAULTERS)) {
    for (const kind of Object.keys(kinds)) assert.ok(covered.has(`${group}/${kind}`), `${group}/${kind}`);
  }
});

test("every kind: defaulting changes something, and a second run changes nothing", () => {
  for (const [group, version, kind, raw] of CORPUS) {
    const obj = structuredClone(raw);
    applyDefaults(group, version, kind, obj);
    assert.not.equal(obj, raw, `${group}/${kind} got no defaults`);
    const once = structuredClone(obj);
    applyDefaults(group, version, kind, obj);
    assert.equal(obj, once, `${group}/${kind} is not idempotent`);
  }
});

test("defaults are fresh values, never shared between objects or with the input", () => {
  const a: Json = { spec: {} };
  const b: Json = { spec: {} };
  applyDefaults("autoscaling", "v2", "HorizontalPodAutoscaler", a);
  applyDefaults("autoscaling", "v2", "HorizontalPodAutoscaler", b);
  a.spec.metrics[0].resource.name = "memory";
  assert.is(b.spec.metrics[0].resource.name, "cpu");
  const p: Json = { spec: { volumes: [{ name: "x" }], securityContext: null } };
  const q: Json = { spec: { volumes: [{ name: "x" }] } };
  applyDefaults("", "v1", "Pod", p);
  applyDefaults("", "v1", "Pod", q);
  assert.is.not(p.spec.securityContext, q.spec.securityContext);
  assert.is.not(p.spec.volumes[0].emptyDir, q.spec.volumes[0].emptyDir);
});

test("list kinds default each item; kinds and groups without defaults are untouched", () => {
  const list: Json = { kind: "SecretList", items: [{ metadata: { name: "a" } }, "junk", { type: "x" }] };
  applyDefaults("", "v1", "SecretList", list);
  assert.equal(list.items, [{ metadata: { name: "a" }, type: "Opaque" }, "junk", { type: "x" }]);
  const deployments: Json = { items: [{ spec: {} }] };
  applyDefaults("apps", "v1", "DeploymentList", deployments);
  assert.is(deployments.items[0].spec.replicas, 1);
  for (
    const [group, kind] of [["", "ConfigMap"], ["", "List"], ["", "NoSuchList"], ["example.com", "Widget"], [
      "apps",
      "Pod",
    ]]
  ) {
    const obj: Json = { spec: {}, items: [{}] };
    applyDefaults(group, "v1", kind, obj);
    assert.equal(obj, { spec: {}, items: [{}] }, `${group}/${kind}`);
  }
  applyDefaults("", "v1", "Pod", null as unknown as Json);
  applyDefaults("", "v1", "Pod", [] as unknown as Json);
  applyDefaults("", "v1", "Pod", "pod" as unknown as Json);
});

test("wrong types are left alone for validation to report", () => {
  const pod: Json = {
    spec: {
      containers: [
        { name: "c", image: 5, ports: "80", env: {}, livenessProbe: "x", resources: [] },
        "junk",
        null,
      ],
      volumes: [{ name: "v", secret: "s" }],
      securityContext: "x",
      terminationGracePeriodSeconds: "30",
      enableServiceLinks: "yes",
    },
  };
  applyDefaults("", "v1", "Pod", pod);
  assert.equal(pod.spec.containers, [
    {
      name: "c",
      image: 5,
      imagePullPolicy: "IfNotPresent",
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      ports: "80",
      env: {},
      livenessProbe: "x",
      resources: [],
    },
    "junk",
    null,
  ]);
  assert.equal(pod.spec.volumes, [{ name: "v", secret: "s" }]);
  assert.equal(
    [pod.spec.securityContext, pod.spec.terminationGracePeriodSeconds, pod.spec.enableServiceLinks],
    ["x", "30", "yes"],
  );
  const deployment: Json = { spec: { replicas: "3", strategy: "fast", template: 7 } };
  applyDefaults("apps", "v1", "Deployment", deployment);
  assert.equal(deployment.spec, {
    replicas: "3",
    strategy: "fast",
    template: 7,
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  });
});

/** A small seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK: unknown[] = [
  null,
  undefined,
  "",
  "x",
  "latest",
  0,
  7,
  -1,
  1.5,
  true,
  false,
  [],
  [null, 1, "a", {}],
  {},
  { a: 1 },
];

/** Every container (object or array) in a JSON value, with each of its keys. */
function slots(v: unknown, out: [Json, string | number][] = []): [Json, string | number][] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([v, i]);
      slots(x, out);
    });
  } else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push([v, k]);
      slots(x, out);
    }
  }
  return out;
}

test("fuzz: 4,000 corrupted objects never throw and default idempotently", () => {
  const next = random(20250101);
  for (let round = 0; round < 4000; round++) {
    const [group, version, kind, raw] = CORPUS[round % CORPUS.length];
    const obj = structuredClone(raw);
    if (round % 2) applyDefaults(group, version, kind, obj); // corrupt defaulted objects too
    const places = slots(obj);
    const edits = 1 + Math.floor(next() * 4);
    for (let i = 0; i < edits && places.length; i++) {
      const [parent, key] = places[Math.floor(next() * places.length)];
      const junk = structuredClone(JUNK[Math.floor(next() * JUNK.length)]);
      if (junk === undefined && !Array.isArray(parent)) delete parent[key];
      else parent[key] = junk;
    }
    const before = JSON.stringify(obj);
    try {
      applyDefaults(group, version, kind, obj);
      const once = structuredClone(obj);
      applyDefaults(group, version, kind, obj);
      assert.equal(obj, once, `not idempotent: ${group}/${kind} ${before}`);
      if (kind === "Pod") {
        admitPodDefaults(obj);
        const admitted = structuredClone(obj);
        admitPodDefaults(obj);
        assert.equal(obj, admitted, `admission not idempotent: ${before}`);
      }
    } catch (e) {
      if (e instanceof assert.Assertion) throw e;
      throw new Error(`${group}/${kind} threw on ${before}: ${e}`);
    }
  }
});

test.run();
