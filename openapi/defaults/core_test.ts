import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyDefaults } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function core(kind: string, obj: Json): Json {
  applyDefaults("", "v1", kind, obj);
  return obj;
}

test("kubectl create service clusterip web --tcp=80:8080: no IPs or families, those are allocated elsewhere", () => {
  const svc = core("Service", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { labels: { app: "web" }, name: "web" },
    spec: {
      ports: [{ name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 }],
      selector: { app: "web" },
      type: "ClusterIP",
    },
    status: { loadBalancer: {} },
  });
  assert.equal(svc.spec, {
    internalTrafficPolicy: "Cluster",
    ports: [{ name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 }],
    selector: { app: "web" },
    sessionAffinity: "None",
    type: "ClusterIP",
  });
  assert.equal(svc.status, { loadBalancer: {} });
});

test("a Service port's target is its port, its protocol TCP; the type is ClusterIP", () => {
  const svc = core("Service", {
    spec: {
      ports: [{ port: 80 }, { port: 53, protocol: "UDP", targetPort: "dns" }, { port: 90, targetPort: 0 }],
    },
  });
  assert.equal(svc.spec, {
    type: "ClusterIP",
    sessionAffinity: "None",
    internalTrafficPolicy: "Cluster",
    ports: [
      { port: 80, protocol: "TCP", targetPort: 80 },
      { port: 53, protocol: "UDP", targetPort: "dns" },
      { port: 90, protocol: "TCP", targetPort: 90 },
    ],
  });
});

test("NodePort and LoadBalancer Services: external traffic policy; load balancers allocate node ports", () => {
  const nodePort = core("Service", { spec: { type: "NodePort", ports: [{ port: 80 }] } });
  assert.equal(nodePort.spec, {
    type: "NodePort",
    sessionAffinity: "None",
    externalTrafficPolicy: "Cluster",
    internalTrafficPolicy: "Cluster",
    ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
  });
  const lb = core("Service", {
    spec: { type: "LoadBalancer", externalTrafficPolicy: "Local", ports: [{ port: 443 }] },
    status: {
      loadBalancer: {
        ingress: [{ ip: "203.0.113.7" }, { hostname: "lb.example.com" }, {
          ip: "203.0.113.8",
          ipMode: "Proxy",
        }],
      },
    },
  });
  assert.equal(lb.spec, {
    type: "LoadBalancer",
    sessionAffinity: "None",
    externalTrafficPolicy: "Local",
    internalTrafficPolicy: "Cluster",
    allocateLoadBalancerNodePorts: true,
    ports: [{ port: 443, protocol: "TCP", targetPort: 443 }],
  });
  assert.equal(lb.status.loadBalancer.ingress, [
    { ip: "203.0.113.7", ipMode: "VIP" },
    { hostname: "lb.example.com" },
    { ip: "203.0.113.8", ipMode: "Proxy" },
  ]);
});

test("ExternalName Services get neither traffic policy; ClusterIPs with external IPs get the external one", () => {
  const ext = core("Service", { spec: { type: "ExternalName", externalName: "db.example.com" } });
  assert.equal(ext.spec, { type: "ExternalName", externalName: "db.example.com", sessionAffinity: "None" });
  const withIPs = core("Service", { spec: { externalIPs: ["198.51.100.1"], ports: [{ port: 80 }] } });
  assert.is(withIPs.spec.externalTrafficPolicy, "Cluster");
});

test("session affinity: ClientIP sticks three hours by default; None drops any config", () => {
  const sticky = core("Service", { spec: { sessionAffinity: "ClientIP" } });
  assert.equal(sticky.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const own = core("Service", {
    spec: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
  });
  assert.equal(own.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 60 } });
  const partial = core("Service", {
    spec: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: {} } },
  });
  assert.equal(partial.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const none = core("Service", { spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } });
  assert.is("sessionAffinityConfig" in none.spec, false);
});

test("kubectl create namespace dev: the name label and phase Active", () => {
  const ns = core("Namespace", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "dev" },
    spec: {},
    status: {},
  });
  assert.equal(ns, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "dev", labels: { "kubernetes.io/metadata.name": "dev" } },
    spec: {},
    status: { phase: "Active" },
  });
  const relabelled = core("Namespace", {
    metadata: { name: "dev", labels: { team: "a", "kubernetes.io/metadata.name": "other" } },
  });
  assert.equal(relabelled.metadata.labels, { team: "a", "kubernetes.io/metadata.name": "dev" });
  const unnamed = core("Namespace", { metadata: { generateName: "ns-" } });
  assert.equal(unnamed.metadata, { generateName: "ns-" });
});

test("Secret type Opaque; ConfigMap, ServiceAccount and ResourceQuota untouched", () => {
  assert.is(core("Secret", { data: {} }).type, "Opaque");
  assert.is(core("Secret", { type: "kubernetes.io/tls" }).type, "kubernetes.io/tls");
  for (const kind of ["ConfigMap", "ServiceAccount", "ResourceQuota"]) {
    assert.equal(core(kind, { metadata: { name: "x" } }), { metadata: { name: "x" } }, kind);
  }
});

test("Endpoints ports are TCP unless named", () => {
  const ep = core("Endpoints", {
    subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80 }, { port: 53, protocol: "UDP" }] }],
  });
  assert.equal(ep.subsets[0].ports, [{ port: 80, protocol: "TCP" }, { port: 53, protocol: "UDP" }]);
});

test("PersistentVolume: Retain, Filesystem, source defaults; status left to the strategy", () => {
  const pv = core("PersistentVolume", {
    spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/data" } },
  });
  assert.equal(pv, {
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      hostPath: { path: "/data", type: "" },
      persistentVolumeReclaimPolicy: "Retain",
      volumeMode: "Filesystem",
    },
  });
  const rbd = core("PersistentVolume", {
    spec: { rbd: { monitors: ["m"], image: "i" }, volumeMode: "Block" },
  });
  assert.equal(rbd.spec.rbd, {
    monitors: ["m"],
    image: "i",
    pool: "rbd",
    user: "admin",
    keyring: "/etc/ceph/keyring",
  });
  assert.is(rbd.spec.volumeMode, "Block");
});

test("PersistentVolumeClaim: volumeMode Filesystem; status left to the strategy", () => {
  const pvc = core("PersistentVolumeClaim", {
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  });
  assert.equal(pvc, {
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      volumeMode: "Filesystem",
    },
  });
});

test("a Node reporting capacity without allocatable has it all allocatable", () => {
  const node = core("Node", { status: { capacity: { cpu: "4", memory: "8Gi", pods: "110" } } });
  assert.equal(node.status.allocatable, { cpu: "4", memory: "8Gi", pods: "110" });
  node.status.capacity.cpu = "8";
  assert.is(node.status.allocatable.cpu, "4", "a copy, not the same map");
  const own = core("Node", { status: { capacity: { cpu: "4" }, allocatable: { cpu: "3" } } });
  assert.equal(own.status.allocatable, { cpu: "3" });
  assert.equal(core("Node", { spec: {} }), { spec: {} });
});

test("LimitRange container items: default from max, defaultRequest from default then min", () => {
  const lr = core("LimitRange", {
    spec: {
      limits: [
        {
          type: "Container",
          max: { cpu: "2", memory: "1Gi" },
          min: { cpu: "100m", memory: "64Mi" },
          default: { memory: "512Mi" },
        },
        { type: "Container", min: { cpu: "50m" } },
        { type: "Container" },
        { type: "Pod", max: { cpu: "4" } },
      ],
    },
  });
  assert.equal(lr.spec.limits, [
    {
      type: "Container",
      max: { cpu: "2", memory: "1Gi" },
      min: { cpu: "100m", memory: "64Mi" },
      default: { memory: "512Mi", cpu: "2" },
      defaultRequest: { memory: "512Mi", cpu: "2" },
    },
    { type: "Container", min: { cpu: "50m" }, defaultRequest: { cpu: "50m" } },
    { type: "Container" },
    { type: "Pod", max: { cpu: "4" } },
  ]);
});

test("ReplicationController: one replica, selector and labels from the template, template defaults", () => {
  const rc = core("ReplicationController", {
    metadata: { name: "rc" },
    spec: {
      template: { metadata: { labels: { app: "a" } }, spec: { containers: [{ name: "c", image: "c:1" }] } },
    },
  });
  assert.equal(rc.metadata, { name: "rc", labels: { app: "a" } });
  assert.is(rc.spec.replicas, 1);
  assert.equal(rc.spec.selector, { app: "a" });
  assert.is(rc.spec.template.spec.dnsPolicy, "ClusterFirst");
  assert.is(rc.spec.template.spec.containers[0].imagePullPolicy, "IfNotPresent");
  rc.spec.selector.app = "changed";
  assert.is(rc.metadata.labels.app, "a", "copies, not shared maps");
  const own = core("ReplicationController", {
    metadata: { labels: { mine: "x" } },
    spec: { replicas: 0, selector: { app: "b" }, template: { metadata: { labels: { app: "b", v: "1" } } } },
  });
  assert.equal([own.metadata.labels, own.spec.selector, own.spec.replicas], [{ mine: "x" }, { app: "b" }, 0]);
});

test("PodTemplate: pod spec defaults, none of the Pod-only ones", () => {
  const pt = core("PodTemplate", { template: { spec: { containers: [{ name: "c", image: "c" }] } } });
  assert.equal(pt.template.spec, {
    containers: [{
      name: "c",
      image: "c",
      imagePullPolicy: "Always",
      resources: {},
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    }],
    dnsPolicy: "ClusterFirst",
    restartPolicy: "Always",
    schedulerName: "default-scheduler",
    securityContext: {},
    terminationGracePeriodSeconds: 30,
  });
});

test("a core Event reads back with its reporting component and instance", () => {
  assert.equal(core("Event", { reason: "Started" }), {
    reason: "Started",
    reportingComponent: "",
    reportingInstance: "",
  });
  assert.is(core("Event", { reportingComponent: "kubelet" }).reportingComponent, "kubelet");
});

test.run();
