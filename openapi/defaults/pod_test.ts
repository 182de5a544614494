import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultPullPolicy, parseImageReference } from "./image.ts";
import { applyDefaults } from "./mod.ts";
import { admitPodDefaults } from "./pod_admission.ts";
import type { Obj } from "./util.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function pod(spec: Obj): Json {
  const obj: Json = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec };
  applyDefaults("", "v1", "Pod", obj);
  return obj;
}

test("kubectl run nginx --image=nginx: the spec a v1.33 cluster returns (token volume aside)", () => {
  // What kubectl sends, then scheme defaults and the create-time admission plugins.
  const obj: Json = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { labels: { run: "nginx" }, name: "nginx", namespace: "default" },
    spec: {
      containers: [{ image: "nginx", name: "nginx", resources: {} }],
      dnsPolicy: "ClusterFirst",
      restartPolicy: "Always",
    },
    status: {},
  };
  applyDefaults("", "v1", "Pod", obj);
  admitPodDefaults(obj);
  assert.equal(obj.spec, {
    containers: [{
      image: "nginx",
      imagePullPolicy: "Always",
      name: "nginx",
      resources: {},
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    }],
    dnsPolicy: "ClusterFirst",
    enableServiceLinks: true,
    preemptionPolicy: "PreemptLowerPriority",
    priority: 0,
    restartPolicy: "Always",
    schedulerName: "default-scheduler",
    securityContext: {},
    serviceAccount: "default",
    serviceAccountName: "default",
    terminationGracePeriodSeconds: 30,
    tolerations: [
      {
        effect: "NoExecute",
        key: "node.kubernetes.io/not-ready",
        operator: "Exists",
        tolerationSeconds: 300,
      },
      {
        effect: "NoExecute",
        key: "node.kubernetes.io/unreachable",
        operator: "Exists",
        tolerationSeconds: 300,
      },
    ],
  });
  assert.equal(obj.metadata, { labels: { run: "nginx" }, name: "nginx", namespace: "default" });
  assert.equal(obj.status, {});
});

test("a pod with no spec at all gets the pod spec defaults", () => {
  assert.equal(pod(undefined as unknown as Obj).spec, {
    dnsPolicy: "ClusterFirst",
    enableServiceLinks: true,
    restartPolicy: "Always",
    schedulerName: "default-scheduler",
    securityContext: {},
    terminationGracePeriodSeconds: 30,
  });
});

test("stated values are kept", () => {
  const spec = pod({
    dnsPolicy: "Default",
    restartPolicy: "Never",
    schedulerName: "mine",
    securityContext: { runAsUser: 1000 },
    terminationGracePeriodSeconds: 0,
    enableServiceLinks: false,
    containers: [{
      name: "c",
      image: "busybox",
      imagePullPolicy: "Never",
      terminationMessagePath: "/tmp/msg",
      terminationMessagePolicy: "FallbackToLogsOnError",
      resources: { requests: { cpu: "1" } },
    }],
  }).spec;
  assert.is(spec.dnsPolicy, "Default");
  assert.is(spec.restartPolicy, "Never");
  assert.is(spec.schedulerName, "mine");
  assert.equal(spec.securityContext, { runAsUser: 1000 });
  assert.is(spec.terminationGracePeriodSeconds, 0);
  assert.is(spec.enableServiceLinks, false);
  assert.equal(spec.containers[0], {
    name: "c",
    image: "busybox",
    imagePullPolicy: "Never",
    terminationMessagePath: "/tmp/msg",
    terminationMessagePolicy: "FallbackToLogsOnError",
    resources: { requests: { cpu: "1" } },
  });
});

test("null counts as unset, as it decodes to Go's zero value", () => {
  const spec = pod({
    dnsPolicy: null,
    securityContext: null,
    terminationGracePeriodSeconds: null,
    enableServiceLinks: null,
  }).spec;
  assert.is(spec.dnsPolicy, "ClusterFirst");
  assert.equal(spec.securityContext, {});
  assert.is(spec.terminationGracePeriodSeconds, 30);
  assert.is(spec.enableServiceLinks, true);
});

test("image pull policy follows the tag: latest or none means Always", () => {
  const cases: [string, string][] = [
    ["busybox", "Always"],
    ["busybox:latest", "Always"],
    ["busybox:1.36", "IfNotPresent"],
    ["library/busybox", "Always"],
    ["docker.io/library/busybox:latest", "Always"],
    ["registry.example.com:5000/team/app", "Always"],
    ["registry.example.com:5000/team/app:v2", "IfNotPresent"],
    ["localhost/app", "Always"],
    ["localhost:5000/app:latest", "Always"],
    ["[::1]:5000/app", "Always"],
    [`busybox@sha256:${"a".repeat(64)}`, "IfNotPresent"],
    [`busybox:latest@sha256:${"a".repeat(64)}`, "Always"],
    [`busybox:1.0@sha256:${"a".repeat(64)}`, "IfNotPresent"],
    [`busybox@sha256:${"a".repeat(10)}`, "IfNotPresent"], // bad digest: does not parse
    ["busybox:LATEST", "IfNotPresent"],
    ["Busybox", "IfNotPresent"], // upper-case repository: does not parse
    ["Registry.Example.com/app", "Always"], // the registry may have capitals
    ["busybox:", "IfNotPresent"],
    ["a:b:c", "IfNotPresent"],
    ["", "IfNotPresent"],
    ["a".repeat(64), "IfNotPresent"], // a bare image ID is refused
  ];
  for (const [image, policy] of cases) {
    assert.is(defaultPullPolicy(image), policy, image);
    assert.is(pod({ containers: [{ name: "c", image }] }).spec.containers[0].imagePullPolicy, policy, image);
  }
  assert.is(defaultPullPolicy(undefined), "IfNotPresent");
  assert.is(defaultPullPolicy(42), "IfNotPresent");
  assert.equal(parseImageReference("quay.io/a/b:c"), { name: "quay.io/a/b", tag: "c", digest: "" });
  assert.equal(parseImageReference("busybox"), { name: "docker.io/busybox", tag: "latest", digest: "" });
});

test("init, app and ephemeral containers: ports, env fieldRef, probes, lifecycle hooks", () => {
  const container = () => ({
    name: "c",
    image: "app:1",
    ports: [{ containerPort: 80 }, { containerPort: 53, protocol: "UDP" }],
    env: [
      { name: "A", value: "a" },
      { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
    ],
    livenessProbe: { httpGet: { port: 8080 } },
    readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5, timeoutSeconds: 0 },
    startupProbe: { grpc: { port: 9090 }, failureThreshold: 30 },
    lifecycle: {
      postStart: { httpGet: { port: 80, path: "/start" } },
      preStop: { exec: { command: ["stop"] } },
    },
  });
  const defaulted = {
    name: "c",
    image: "app:1",
    imagePullPolicy: "IfNotPresent",
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    resources: {},
    ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 53, protocol: "UDP" }],
    env: [
      { name: "A", value: "a" },
      { name: "NS", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } } },
      { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
    ],
    livenessProbe: {
      httpGet: { port: 8080, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
    readinessProbe: {
      tcpSocket: { port: 8080 },
      periodSeconds: 5,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    startupProbe: {
      grpc: { port: 9090, service: "" },
      failureThreshold: 30,
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
    },
    lifecycle: {
      postStart: { httpGet: { port: 80, path: "/start", scheme: "HTTP" } },
      preStop: { exec: { command: ["stop"] } },
    },
  };
  const spec =
    pod({ initContainers: [container()], containers: [container()], ephemeralContainers: [container()] })
      .spec;
  assert.equal(spec.initContainers, [defaulted]);
  assert.equal(spec.containers, [defaulted]);
  assert.equal(spec.ephemeralContainers, [defaulted]);
});

test("pod volumes: emptyDir when no source, modes, hostPath type, projections, in-tree plugins", () => {
  const spec = pod({
    volumes: [
      { name: "scratch" },
      { name: "nullsource", emptyDir: null },
      { name: "tmpfs", emptyDir: { medium: "Memory" } },
      { name: "s", secret: { secretName: "s" } },
      { name: "s2", secret: { secretName: "s", defaultMode: 256 } },
      { name: "cm", configMap: { name: "cm", items: [{ key: "a", path: "a" }] } },
      { name: "host", hostPath: { path: "/var/log" } },
      { name: "host2", hostPath: { path: "/run/x.sock", type: "Socket" } },
      { name: "d", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
      {
        name: "proj",
        projected: {
          sources: [
            { serviceAccountToken: { path: "token" } },
            { configMap: { name: "kube-root-ca.crt" } },
            { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } },
          ],
        },
      },
      { name: "pvc", persistentVolumeClaim: { claimName: "data" } },
      { name: "eph", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } },
      { name: "iscsi", iscsi: { targetPortal: "1.2.3.4", iqn: "iqn.x", lun: 0 } },
      { name: "rbd", rbd: { monitors: ["m"], image: "i" } },
      { name: "az", azureDisk: { diskName: "d", diskURI: "u" } },
      { name: "sio", scaleIO: { gateway: "g", system: "s", secretRef: { name: "x" } } },
      { name: "img", image: { reference: "quay.io/data:latest" } },
      { name: "img2", image: { reference: "quay.io/data:v1" } },
    ],
  }).spec;
  assert.equal(spec.volumes, [
    { name: "scratch", emptyDir: {} },
    { name: "nullsource", emptyDir: {} },
    { name: "tmpfs", emptyDir: { medium: "Memory" } },
    { name: "s", secret: { secretName: "s", defaultMode: 420 } },
    { name: "s2", secret: { secretName: "s", defaultMode: 256 } },
    { name: "cm", configMap: { name: "cm", items: [{ key: "a", path: "a" }], defaultMode: 420 } },
    { name: "host", hostPath: { path: "/var/log", type: "" } },
    { name: "host2", hostPath: { path: "/run/x.sock", type: "Socket" } },
    {
      name: "d",
      downwardAPI: {
        defaultMode: 420,
        items: [{ path: "labels", fieldRef: { apiVersion: "v1", fieldPath: "metadata.labels" } }],
      },
    },
    {
      name: "proj",
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
          { configMap: { name: "kube-root-ca.crt" } },
          {
            downwardAPI: {
              items: [{ path: "ns", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
            },
          },
        ],
      },
    },
    { name: "pvc", persistentVolumeClaim: { claimName: "data" } },
    {
      name: "eph",
      ephemeral: {
        volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem" } },
      },
    },
    { name: "iscsi", iscsi: { targetPortal: "1.2.3.4", iqn: "iqn.x", lun: 0, iscsiInterface: "default" } },
    {
      name: "rbd",
      rbd: { monitors: ["m"], image: "i", pool: "rbd", user: "admin", keyring: "/etc/ceph/keyring" },
    },
    {
      name: "az",
      azureDisk: {
        diskName: "d",
        diskURI: "u",
        cachingMode: "ReadWrite",
        fsType: "ext4",
        readOnly: false,
        kind: "Shared",
      },
    },
    {
      name: "sio",
      scaleIO: {
        gateway: "g",
        system: "s",
        secretRef: { name: "x" },
        storageMode: "ThinProvisioned",
        fsType: "xfs",
      },
    },
    { name: "img", image: { reference: "quay.io/data:latest", pullPolicy: "Always" } },
    { name: "img2", image: { reference: "quay.io/data:v1", pullPolicy: "IfNotPresent" } },
  ]);
});

test("a Pod's containers request their limits; a pod template's do not", () => {
  const containers = () => [{
    name: "a",
    image: "a:1",
    resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "100m" } },
  }];
  const spec = pod({
    initContainers: [{ name: "i", image: "i:1", resources: { limits: { memory: "64Mi" } } }],
    containers: containers(),
    ephemeralContainers: [{ name: "e", image: "e:1", resources: { limits: { cpu: "1" } } }],
  }).spec;
  assert.equal(spec.initContainers[0].resources, {
    limits: { memory: "64Mi" },
    requests: { memory: "64Mi" },
  });
  assert.equal(spec.containers[0].resources, {
    limits: { cpu: "500m", memory: "128Mi" },
    requests: { cpu: "100m", memory: "128Mi" },
  });
  // Ephemeral containers are left as they are (they may not state resources anyway).
  assert.equal(spec.ephemeralContainers[0].resources, { limits: { cpu: "1" } });

  const template: Json = {
    apiVersion: "v1",
    kind: "PodTemplate",
    template: { spec: { containers: containers() } },
  };
  applyDefaults("", "v1", "PodTemplate", template);
  assert.equal(template.template.spec.containers[0].resources, {
    limits: { cpu: "500m", memory: "128Mi" },
    requests: { cpu: "100m" },
  });
  assert.is(template.template.spec.enableServiceLinks, undefined);
});

test("empty limits add no requests", () => {
  const spec = pod({ containers: [{ name: "a", image: "a", resources: { limits: {} } }] }).spec;
  assert.equal(spec.containers[0].resources, { limits: {} });
});

test("with host networking a Pod's container ports are host ports too", () => {
  const spec = pod({
    hostNetwork: true,
    initContainers: [{ name: "i", image: "i", ports: [{ containerPort: 9000 }] }],
    containers: [{
      name: "c",
      image: "c",
      ports: [{ containerPort: 80 }, { containerPort: 443, hostPort: 443 }],
    }],
  }).spec;
  assert.equal(spec.initContainers[0].ports, [{ containerPort: 9000, hostPort: 9000, protocol: "TCP" }]);
  assert.equal(spec.containers[0].ports, [
    { containerPort: 80, hostPort: 80, protocol: "TCP" },
    { containerPort: 443, hostPort: 443, protocol: "TCP" },
  ]);
  const template: Json = {
    kind: "PodTemplate",
    template: {
      spec: { hostNetwork: true, containers: [{ name: "c", image: "c", ports: [{ containerPort: 80 }] }] },
    },
  };
  applyDefaults("", "v1", "PodTemplate", template);
  assert.equal(template.template.spec.containers[0].ports, [{ containerPort: 80, protocol: "TCP" }]);
});

test("the deprecated serviceAccount field mirrors serviceAccountName, in pods and templates", () => {
  assert.equal(
    [
      pod({ serviceAccount: "old" }).spec.serviceAccountName,
      pod({ serviceAccount: "old" }).spec.serviceAccount,
    ],
    ["old", "old"],
  );
  const both = pod({ serviceAccountName: "new", serviceAccount: "old" }).spec;
  assert.equal([both.serviceAccountName, both.serviceAccount], ["new", "new"]);
  const template: Json = { kind: "PodTemplate", template: { spec: { serviceAccountName: "builder" } } };
  applyDefaults("", "v1", "PodTemplate", template);
  assert.is(template.template.spec.serviceAccount, "builder");
  assert.is(pod({}).spec.serviceAccount, undefined);
});

test.run();
