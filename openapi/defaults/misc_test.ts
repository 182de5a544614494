import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function defaulted(group: string, version: string, kind: string, obj: Json): Json {
  applyDefaults(group, version, kind, obj);
  return obj;
}

test("kubectl create rolebinding/clusterrolebinding: RBAC role and subject groups", () => {
  for (const kind of ["RoleBinding", "ClusterRoleBinding"]) {
    const binding = defaulted("rbac.authorization.k8s.io", "v1", kind, {
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [
        { kind: "User", name: "alice" },
        { kind: "Group", name: "devs" },
        { kind: "ServiceAccount", name: "builder", namespace: "ci" },
        { kind: "User", name: "bob", apiGroup: "example.com" },
      ],
    });
    assert.equal(binding, {
      roleRef: { kind: "ClusterRole", name: "view", apiGroup: "rbac.authorization.k8s.io" },
      subjects: [
        { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" },
        { kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" },
        { kind: "ServiceAccount", name: "builder", namespace: "ci" },
        { kind: "User", name: "bob", apiGroup: "example.com" },
      ],
    }, kind);
  }
  const role = { rules: [{ verbs: ["get"], resources: ["pods"], apiGroups: [""] }] };
  assert.equal(defaulted("rbac.authorization.k8s.io", "v1", "Role", structuredClone(role)), role);
});

test("StorageClass: Delete and Immediate unless said otherwise", () => {
  assert.equal(defaulted("storage.k8s.io", "v1", "StorageClass", { provisioner: "example.com/disk" }), {
    provisioner: "example.com/disk",
    reclaimPolicy: "Delete",
    volumeBindingMode: "Immediate",
  });
  const own = defaulted("storage.k8s.io", "v1", "StorageClass", {
    reclaimPolicy: "Retain",
    volumeBindingMode: "WaitForFirstConsumer",
  });
  assert.equal([own.reclaimPolicy, own.volumeBindingMode], ["Retain", "WaitForFirstConsumer"]);
});

test("CSIDriver: every optional switch spelled out", () => {
  assert.equal(defaulted("storage.k8s.io", "v1", "CSIDriver", { metadata: { name: "d" }, spec: {} }).spec, {
    attachRequired: true,
    fsGroupPolicy: "ReadWriteOnceWithFSType",
    podInfoOnMount: false,
    requiresRepublish: false,
    seLinuxMount: false,
    storageCapacity: false,
    volumeLifecycleModes: ["Persistent"],
  });
  const own = defaulted("storage.k8s.io", "v1", "CSIDriver", {
    spec: { attachRequired: false, volumeLifecycleModes: ["Ephemeral"] },
  });
  assert.equal([own.spec.attachRequired, own.spec.volumeLifecycleModes], [false, ["Ephemeral"]]);
});

test("PriorityClass: preempts lower priorities unless said otherwise", () => {
  assert.is(
    defaulted("scheduling.k8s.io", "v1", "PriorityClass", { value: 1000 }).preemptionPolicy,
    "PreemptLowerPriority",
  );
  assert.is(
    defaulted("scheduling.k8s.io", "v1", "PriorityClass", { value: 1, preemptionPolicy: "Never" })
      .preemptionPolicy,
    "Never",
  );
});

test("kubectl create -f validatingwebhookconfiguration.yaml: v1 webhook defaults", () => {
  const webhook = {
    name: "check.example.com",
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    clientConfig: { service: { namespace: "hooks", name: "check", path: "/validate" } },
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
  };
  const defaultedWebhook = {
    name: "check.example.com",
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    clientConfig: { service: { namespace: "hooks", name: "check", path: "/validate", port: 443 } },
    rules: [{
      operations: ["CREATE"],
      apiGroups: [""],
      apiVersions: ["v1"],
      resources: ["pods"],
      scope: "*",
    }],
    failurePolicy: "Fail",
    matchPolicy: "Equivalent",
    namespaceSelector: {},
    objectSelector: {},
    timeoutSeconds: 10,
  };
  const validating = defaulted("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", {
    webhooks: [structuredClone(webhook)],
  });
  assert.equal(validating.webhooks, [defaultedWebhook]);
  const mutating = defaulted("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", {
    webhooks: [{
      ...structuredClone(webhook),
      timeoutSeconds: 5,
      failurePolicy: "Ignore",
      clientConfig: { url: "https://x" },
    }],
  });
  assert.equal(mutating.webhooks, [{
    ...defaultedWebhook,
    timeoutSeconds: 5,
    failurePolicy: "Ignore",
    clientConfig: { url: "https://x" },
    reinvocationPolicy: "Never",
  }]);
});

test("ValidatingAdmissionPolicy and its binding: fail closed, match defaults, rule scopes", () => {
  const policy = defaulted("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", {
    spec: {
      matchConstraints: {
        resourceRules: [{
          apiGroups: ["apps"],
          apiVersions: ["v1"],
          operations: ["CREATE"],
          resources: ["deployments"],
        }],
        excludeResourceRules: [{
          apiGroups: [""],
          apiVersions: ["v1"],
          operations: ["*"],
          resources: ["pods"],
          scope: "Namespaced",
        }],
      },
      validations: [{ expression: "object.spec.replicas <= 5" }],
    },
  });
  assert.equal(policy.spec, {
    failurePolicy: "Fail",
    matchConstraints: {
      matchPolicy: "Equivalent",
      namespaceSelector: {},
      objectSelector: {},
      resourceRules: [{
        apiGroups: ["apps"],
        apiVersions: ["v1"],
        operations: ["CREATE"],
        resources: ["deployments"],
        scope: "*",
      }],
      excludeResourceRules: [{
        apiGroups: [""],
        apiVersions: ["v1"],
        operations: ["*"],
        resources: ["pods"],
        scope: "Namespaced",
      }],
    },
    validations: [{ expression: "object.spec.replicas <= 5" }],
  });
  const binding = defaulted("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", {
    spec: { policyName: "p", validationActions: ["Deny"], matchResources: {}, paramRef: { name: "x" } },
  });
  assert.equal(binding.spec, {
    policyName: "p",
    validationActions: ["Deny"],
    matchResources: { matchPolicy: "Equivalent", namespaceSelector: {}, objectSelector: {} },
    paramRef: { name: "x" },
  });
  const alpha = defaulted("admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicyBinding", {
    spec: { policyName: "p", paramRef: { name: "x" } },
  });
  assert.equal(alpha.spec.paramRef, { name: "x", parameterNotFoundAction: "Deny" });
});

test("FlowSchema and PriorityLevelConfiguration", () => {
  const fs = defaulted("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", {
    spec: { priorityLevelConfiguration: { name: "x" } },
  });
  assert.equal(fs.spec, { priorityLevelConfiguration: { name: "x" }, matchingPrecedence: 1000 });
  const limited = defaulted("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", {
    spec: { type: "Limited", limited: { limitResponse: { type: "Queue", queuing: {} } } },
  });
  assert.equal(limited.spec, {
    type: "Limited",
    limited: {
      nominalConcurrencyShares: 30,
      lendablePercent: 0,
      limitResponse: { type: "Queue", queuing: { handSize: 8, queues: 64, queueLengthLimit: 50 } },
    },
  });
  const jail = defaulted("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", {
    spec: { type: "Limited", limited: { nominalConcurrencyShares: 0, limitResponse: { type: "Reject" } } },
  });
  assert.equal(jail.spec.limited, {
    nominalConcurrencyShares: 0,
    lendablePercent: 0,
    limitResponse: { type: "Reject" },
  });
  const exempt = defaulted("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", {
    spec: { type: "Exempt", exempt: {} },
  });
  assert.equal(exempt.spec, { type: "Exempt", exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } });
});

test("CustomResourceDefinition: names, no conversion, stored version", () => {
  const crd = defaulted("apiextensions.k8s.io", "v1", "CustomResourceDefinition", {
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { kind: "Widget", plural: "widgets" },
      versions: [
        { name: "v1beta1", served: true, storage: false, schema: { openAPIV3Schema: { type: "object" } } },
        { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
      ],
    },
  });
  assert.equal(crd.spec.names, {
    kind: "Widget",
    plural: "widgets",
    singular: "widget",
    listKind: "WidgetList",
  });
  assert.equal(crd.spec.conversion, { strategy: "None" });
  assert.equal(crd.status, { storedVersions: ["v1"] });
  const webhook = defaulted("apiextensions.k8s.io", "v1", "CustomResourceDefinition", {
    spec: {
      names: { kind: "Gadget", plural: "gadgets", singular: "gizmo", listKind: "Gadgets" },
      conversion: {
        strategy: "Webhook",
        webhook: {
          conversionReviewVersions: ["v1"],
          clientConfig: { service: { namespace: "n", name: "s" } },
        },
      },
    },
  });
  assert.equal(webhook.spec.names, {
    kind: "Gadget",
    plural: "gadgets",
    singular: "gizmo",
    listKind: "Gadgets",
  });
  assert.equal(webhook.spec.conversion.webhook.clientConfig.service, {
    namespace: "n",
    name: "s",
    port: 443,
  });
  assert.is(webhook.status, undefined, "no storage version, nothing to record");
});

test("groups without defaults leave objects alone", () => {
  const cases: [string, string, Json][] = [
    ["policy", "PodDisruptionBudget", { spec: { minAvailable: 1, selector: { matchLabels: { app: "a" } } } }],
    ["node.k8s.io", "RuntimeClass", { handler: "runc" }],
    ["coordination.k8s.io", "Lease", { spec: { holderIdentity: "a" } }],
    ["certificates.k8s.io", "CertificateSigningRequest", {
      spec: { request: "", signerName: "example.com/x", usages: [] },
    }],
  ];
  for (const [group, kind, obj] of cases) {
    const before = structuredClone(obj);
    assert.equal(defaulted(group, "v1", kind, obj), before, kind);
  }
});

test.run();
