import { test } from "uvu";
import * as assert from "uvu/assert";
import { printerFor } from "./mod.ts";
import { PRINTERS } from "./printers.ts";

const NOW = Date.parse("2025-01-01T12:00:00Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d+Z$/, "Z");
const meta = (name: string, seconds = 60) => ({ name, creationTimestamp: ago(seconds) });
const names = (group: string, resource: string) => printerFor(group, resource).columns.map((c) => c.name);
const wide = (group: string, resource: string) =>
  printerFor(group, resource).columns.filter((c) => c.priority === 1).map((c) => c.name);

test("every printer has one cell per column and a name column", () => {
  for (const [key, printer] of Object.entries(PRINTERS)) {
    const cells = printer.row({ metadata: meta("x") }, NOW);
    assert.is(cells.length, printer.columns.length, key);
    assert.ok(printer.columns.some((c) => c.format === "name" && c.name === "Name"), key);
    for (const c of printer.columns) assert.ok(c.priority === 0 || c.priority === 1, key);
  }
});

test("unknown kinds print NAME and AGE", () => {
  const p = printerFor("example.com", "widgets");
  assert.equal(p.columns.map((c) => c.name), ["Name", "Age"]);
  assert.equal(p.row({ metadata: meta("w", 7200) }, NOW), ["w", "120m"]);
  assert.equal(p.row({ metadata: { name: "w" } }, NOW), ["w", "<unknown>"]);
});

test("deployments: NAME READY UP-TO-DATE AVAILABLE AGE | CONTAINERS IMAGES SELECTOR", () => {
  assert.equal(names("apps", "deployments"), [
    "Name",
    "Ready",
    "Up-to-date",
    "Available",
    "Age",
    "Containers",
    "Images",
    "Selector",
  ]);
  assert.equal(wide("apps", "deployments"), ["Containers", "Images", "Selector"]);
  const deploy = {
    metadata: meta("web", 7200),
    spec: {
      replicas: 3,
      selector: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }],
      },
      template: {
        spec: { containers: [{ name: "nginx", image: "nginx:1" }, { name: "log", image: "busybox" }] },
      },
    },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  };
  assert.equal(printerFor("apps", "deployments").row(deploy, NOW), [
    "web",
    "2/3",
    3,
    2,
    "120m",
    "nginx,log",
    "nginx:1,busybox",
    "app=web,tier in (a,b)",
  ]);
  const fresh = { metadata: meta("new"), spec: { replicas: 1, template: { spec: { containers: [] } } } };
  assert.equal(printerFor("apps", "deployments").row(fresh, NOW).slice(1, 4), ["0/1", 0, 0]);
});

test("statefulsets, replicasets and daemonsets", () => {
  assert.equal(names("apps", "statefulsets"), ["Name", "Ready", "Age", "Containers", "Images"]);
  assert.equal(names("apps", "replicasets").slice(0, 5), ["Name", "Desired", "Current", "Ready", "Age"]);
  const ds = {
    metadata: meta("agent"),
    spec: { template: { spec: { nodeSelector: { os: "linux" }, containers: [] } } },
    status: {
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 1,
      updatedNumberScheduled: 2,
      numberAvailable: 1,
    },
  };
  assert.equal(printerFor("apps", "daemonsets").row(ds, NOW).slice(0, 8), [
    "agent",
    2,
    2,
    1,
    2,
    1,
    "os=linux",
    "60s",
  ]);
});

test("services: ports with node ports, external IPs by type", () => {
  const svc = printerFor("", "services");
  assert.equal(names("", "services"), [
    "Name",
    "Type",
    "Cluster-IP",
    "External-IP",
    "Port(s)",
    "Age",
    "Selector",
  ]);
  const clusterIP = {
    metadata: meta("db", 5),
    spec: {
      type: "ClusterIP",
      clusterIP: "10.96.0.7",
      clusterIPs: ["10.96.0.7"],
      ports: [{ port: 5432, protocol: "TCP" }, { port: 53, protocol: "UDP" }],
      selector: { b: "2", a: "1" },
    },
  };
  assert.equal(svc.row(clusterIP, NOW), [
    "db",
    "ClusterIP",
    "10.96.0.7",
    "<none>",
    "5432/TCP,53/UDP",
    "5s",
    "a=1,b=2",
  ]);
  const nodePort = {
    metadata: meta("web", 5),
    spec: {
      type: "NodePort",
      clusterIPs: ["10.96.0.10"],
      ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }],
    },
  };
  assert.equal(svc.row(nodePort, NOW), [
    "web",
    "NodePort",
    "10.96.0.10",
    "<none>",
    "80:30080/TCP",
    "5s",
    "<none>",
  ]);
  const pending = {
    metadata: meta("lb"),
    spec: {
      type: "LoadBalancer",
      clusterIPs: ["10.96.0.11"],
      ports: [{ port: 443, nodePort: 31443, protocol: "TCP" }],
    },
  };
  assert.equal(svc.row(pending, NOW).slice(3, 5), ["<pending>", "443:31443/TCP"]);
  const assigned = {
    ...pending,
    spec: { ...pending.spec, externalIPs: ["192.0.2.9"] },
    status: { loadBalancer: { ingress: [{ ip: "203.0.113.1" }, { hostname: "lb.example.com" }] } },
  };
  assert.is(svc.row(assigned, NOW)[3], "203.0.113.1,lb.example.com,192.0.2.9");
  const external = { metadata: meta("ext"), spec: { type: "ExternalName", externalName: "example.com" } };
  assert.equal(svc.row(external, NOW).slice(1, 5), ["ExternalName", "<none>", "example.com", "<none>"]);
  const headless = { metadata: meta("h"), spec: { type: "ClusterIP", clusterIPs: ["None"], ports: [] } };
  assert.equal(svc.row(headless, NOW).slice(2, 5), ["None", "<none>", "<none>"]);
});

test("endpoints and endpointslices list three addresses, then how many more", () => {
  const ep = {
    metadata: meta("web"),
    subsets: [{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }], ports: [{ port: 80 }, { port: 443 }] }],
  };
  assert.is(printerFor("", "endpoints").row(ep, NOW)[1], "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...");
  assert.is(printerFor("", "endpoints").row({ metadata: meta("none") }, NOW)[1], "<none>");
  const slice = {
    metadata: meta("web-abc"),
    addressType: "IPv4",
    ports: [{ port: 80 }],
    endpoints: [{ addresses: ["10.0.0.1"] }],
  };
  assert.equal(printerFor("discovery.k8s.io", "endpointslices").row(slice, NOW).slice(1, 4), [
    "IPv4",
    "80",
    "10.0.0.1",
  ]);
  assert.equal(
    printerFor("discovery.k8s.io", "endpointslices").row({ metadata: meta("e") }, NOW).slice(2, 4),
    ["<unset>", "<unset>"],
  );
});

test("nodes: status, roles from labels, wide node info", () => {
  assert.equal(names("", "nodes"), [
    "Name",
    "Status",
    "Roles",
    "Age",
    "Version",
    "Internal-IP",
    "External-IP",
    "OS-Image",
    "Kernel-Version",
    "Container-Runtime",
  ]);
  const node = {
    metadata: {
      ...meta("n1", 3 * 86400),
      labels: {
        "node-role.kubernetes.io/control-plane": "",
        "node-role.kubernetes.io/worker": "true",
        "kubernetes.io/role": "edge",
      },
    },
    spec: {},
    status: {
      conditions: [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "192.168.1.10" }, { type: "Hostname", address: "n1" }],
      nodeInfo: {
        kubeletVersion: "v1.33.0",
        osImage: "Debian GNU/Linux 12",
        kernelVersion: "6.1.0",
        containerRuntimeVersion: "containerd://1.6.20",
      },
    },
  };
  const p = printerFor("", "nodes");
  assert.equal(p.row(node, NOW), [
    "n1",
    "Ready",
    "control-plane,edge,worker",
    "3d",
    "v1.33.0",
    "192.168.1.10",
    "<none>",
    "Debian GNU/Linux 12",
    "6.1.0",
    "containerd://1.6.20",
  ]);
  const cordoned = { ...node, spec: { unschedulable: true } };
  assert.is(p.row(cordoned, NOW)[1], "Ready,SchedulingDisabled");
  const notReady = {
    metadata: meta("n2"),
    spec: { unschedulable: true },
    status: { conditions: [{ type: "Ready", status: "Unknown" }] },
  };
  assert.equal(p.row(notReady, NOW).slice(1, 3), ["NotReady,SchedulingDisabled", "<none>"]);
  assert.equal(p.row({ metadata: meta("n3") }, NOW).slice(1, 3), ["Unknown", "<none>"]);
  assert.equal(
    p.row({ metadata: { ...meta("n4"), labels: { "node-role.kubernetes.io/": "x" } } }, NOW)[2],
    "<none>",
  );
});

test("jobs: STATUS, COMPLETIONS, DURATION", () => {
  assert.equal(names("batch", "jobs"), [
    "Name",
    "Status",
    "Completions",
    "Duration",
    "Age",
    "Containers",
    "Images",
    "Selector",
  ]);
  const p = printerFor("batch", "jobs");
  const template = { spec: { containers: [{ name: "pi", image: "perl" }] } };
  const complete = {
    metadata: meta("pi", 120),
    spec: {
      completions: 1,
      template,
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } },
    },
    status: {
      succeeded: 1,
      startTime: ago(110),
      completionTime: ago(50),
      conditions: [{ type: "SuccessCriteriaMet", status: "True" }, { type: "Complete", status: "True" }],
    },
  };
  assert.equal(p.row(complete, NOW), [
    "pi",
    "Complete",
    "1/1",
    "60s",
    "2m",
    "pi",
    "perl",
    "batch.kubernetes.io/controller-uid=u1",
  ]);
  const running = {
    metadata: meta("r"),
    spec: { completions: 3, template },
    status: { succeeded: 1, startTime: ago(30) },
  };
  assert.equal(p.row(running, NOW).slice(1, 4), ["Running", "1/3", "30s"]);
  const parallel = { metadata: meta("q"), spec: { parallelism: 2, template }, status: {} };
  assert.equal(p.row(parallel, NOW).slice(1, 4), ["Running", "0/1 of 2", ""]);
  const failed = {
    metadata: meta("f"),
    spec: { completions: 1, template },
    status: { conditions: [{ type: "FailureTarget", status: "True" }, { type: "Failed", status: "True" }] },
  };
  assert.is(p.row(failed, NOW)[1], "Failed");
  const suspended = {
    metadata: meta("s"),
    spec: { completions: 1, template },
    status: { conditions: [{ type: "Suspended", status: "True" }] },
  };
  assert.is(p.row(suspended, NOW)[1], "Suspended");
  const deleting = { metadata: { ...meta("d"), deletionTimestamp: ago(1) }, spec: { template }, status: {} };
  assert.is(p.row(deleting, NOW)[1], "Terminating");
});

test("cronjobs: SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE", () => {
  assert.equal(names("batch", "cronjobs"), [
    "Name",
    "Schedule",
    "Timezone",
    "Suspend",
    "Active",
    "Last Schedule",
    "Age",
    "Containers",
    "Images",
    "Selector",
  ]);
  const cj = {
    metadata: meta("hello", 3600),
    spec: {
      schedule: "*/5 * * * *",
      suspend: false,
      jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }] } } } },
    },
    status: { active: [{ name: "hello-1" }], lastScheduleTime: ago(90) },
  };
  assert.equal(printerFor("batch", "cronjobs").row(cj, NOW), [
    "hello",
    "*/5 * * * *",
    "<none>",
    "False",
    1,
    "90s",
    "60m",
    "c",
    "busybox",
    "<none>",
  ]);
  const never = { metadata: meta("n"), spec: { schedule: "@daily", timeZone: "Etc/UTC", suspend: true } };
  assert.equal(printerFor("batch", "cronjobs").row(never, NOW).slice(2, 6), ["Etc/UTC", "True", 0, "<none>"]);
});

test("events: core/v1 and events.k8s.io/v1 print alike", () => {
  assert.equal(names("", "events"), [
    "Last Seen",
    "Type",
    "Reason",
    "Object",
    "Subobject",
    "Source",
    "Message",
    "First Seen",
    "Count",
    "Name",
  ]);
  assert.equal(wide("", "events"), ["Subobject", "Source", "First Seen", "Count", "Name"]);
  const core = {
    apiVersion: "v1",
    metadata: meta("web.1", 40),
    type: "Normal",
    reason: "Pulled",
    involvedObject: { kind: "Pod", name: "web", fieldPath: "spec.containers{nginx}" },
    source: { component: "kubelet", host: "n1" },
    message: "Pulled image \n",
    firstTimestamp: ago(40),
    lastTimestamp: ago(20),
    count: 3,
  };
  assert.equal(printerFor("", "events").row(core, NOW), [
    "20s",
    "Normal",
    "Pulled",
    "pod/web",
    "spec.containers{nginx}",
    "kubelet, n1",
    "Pulled image",
    "40s",
    3,
    "web.1",
  ]);
  const v1 = {
    apiVersion: "events.k8s.io/v1",
    metadata: meta("web.2", 10),
    type: "Normal",
    reason: "Scheduled",
    regarding: { kind: "Pod", name: "web" },
    note: "Successfully assigned default/web to n1",
    eventTime: "2025-01-01T11:59:50.000000Z",
    reportingController: "default-scheduler",
    reportingInstance: "default-scheduler-host",
  };
  assert.equal(printerFor("events.k8s.io", "events").row(v1, NOW), [
    "10s",
    "Normal",
    "Scheduled",
    "pod/web",
    "",
    "default-scheduler, default-scheduler-host",
    "Successfully assigned default/web to n1",
    "10s",
    1,
    "web.2",
  ]);
  const series = { ...core, series: { count: 7, lastObservedTime: "2025-01-01T11:59:55.000000Z" } };
  const row = printerFor("", "events").row(series, NOW);
  assert.equal([row[0], row[8]], ["5s", 7]);
});

test("configmaps, secrets, serviceaccounts and namespaces", () => {
  assert.equal(names("", "configmaps"), ["Name", "Data", "Age"]);
  assert.equal(
    printerFor("", "configmaps").row(
      { metadata: meta("c"), data: { a: "1", b: "2" }, binaryData: { c: "" } },
      NOW,
    ),
    ["c", 3, "60s"],
  );
  assert.equal(printerFor("", "configmaps").row({ metadata: meta("empty") }, NOW), ["empty", 0, "60s"]);
  assert.equal(names("", "secrets"), ["Name", "Type", "Data", "Age"]);
  assert.equal(
    printerFor("", "secrets").row({
      metadata: meta("s"),
      type: "kubernetes.io/tls",
      data: { "tls.crt": "", "tls.key": "" },
    }, NOW),
    ["s", "kubernetes.io/tls", 2, "60s"],
  );
  assert.equal(printerFor("", "serviceaccounts").row({ metadata: meta("default") }, NOW), [
    "default",
    0,
    "60s",
  ]);
  assert.equal(names("", "namespaces"), ["Name", "Status", "Age"]);
  assert.equal(
    printerFor("", "namespaces").row(
      { metadata: meta("ns", 86400 * 10), status: { phase: "Terminating" } },
      NOW,
    ),
    ["ns", "Terminating", "10d"],
  );
});

test("volumes: access modes in fixed order, storage class default marker", () => {
  const pv = {
    metadata: meta("pv1"),
    spec: {
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteMany", "ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      claimRef: { namespace: "default", name: "data" },
      storageClassName: "standard",
      volumeMode: "Filesystem",
    },
    status: { phase: "Bound" },
  };
  assert.equal(printerFor("", "persistentvolumes").row(pv, NOW), [
    "pv1",
    "10Gi",
    "RWO,RWX",
    "Retain",
    "Bound",
    "default/data",
    "standard",
    "<unset>",
    "",
    "60s",
    "Filesystem",
  ]);
  const pending = {
    metadata: meta("data"),
    spec: { storageClassName: "standard", resources: { requests: { storage: "1Gi" } } },
    status: { phase: "Pending" },
  };
  assert.equal(printerFor("", "persistentvolumeclaims").row(pending, NOW), [
    "data",
    "Pending",
    "",
    "",
    "",
    "standard",
    "<unset>",
    "60s",
    "<unset>",
  ]);
  const sc = {
    metadata: { ...meta("standard"), annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "rancher.io/local-path",
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  };
  assert.equal(printerFor("storage.k8s.io", "storageclasses").row(sc, NOW), [
    "standard (default)",
    "rancher.io/local-path",
    "Delete",
    "WaitForFirstConsumer",
    false,
    "60s",
  ]);
});

test("rbac, CRDs and limit ranges print CREATED AT; bindings list subjects", () => {
  const role = { metadata: { name: "admin", creationTimestamp: "2024-05-06T07:08:09Z" } };
  assert.equal(printerFor("rbac.authorization.k8s.io", "clusterroles").row(role, NOW), [
    "admin",
    "2024-05-06T07:08:09Z",
  ]);
  assert.is(printerFor("apiextensions.k8s.io", "customresourcedefinitions").columns[1].type, "date");
  const binding = {
    metadata: meta("b"),
    roleRef: { kind: "ClusterRole", name: "view" },
    subjects: [{ kind: "User", name: "alice" }, { kind: "Group", name: "devs" }, {
      kind: "ServiceAccount",
      namespace: "ci",
      name: "bot",
    }, { kind: "User", name: "bob" }],
  };
  assert.equal(printerFor("rbac.authorization.k8s.io", "rolebindings").row(binding, NOW), [
    "b",
    "ClusterRole/view",
    "60s",
    "alice, bob",
    "devs",
    "ci/bot",
  ]);
});

test("HPAs, quotas, CSRs, leases and api services", () => {
  const hpa = {
    metadata: meta("web"),
    spec: {
      scaleTargetRef: { kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [{
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
      }],
    },
    status: {
      currentReplicas: 2,
      currentMetrics: [{
        type: "Resource",
        resource: { name: "cpu", current: { averageUtilization: 35, averageValue: "100m" } },
      }],
    },
  };
  assert.equal(printerFor("autoscaling", "horizontalpodautoscalers").row(hpa, NOW), [
    "web",
    "Deployment/web",
    "cpu: 35%/80%",
    "1",
    5,
    2,
    "60s",
  ]);
  const v1 = {
    metadata: meta("old"),
    spec: {
      scaleTargetRef: { kind: "Deployment", name: "web" },
      maxReplicas: 3,
      targetCPUUtilizationPercentage: 50,
    },
    status: { currentReplicas: 1 },
  };
  assert.equal(printerFor("autoscaling", "horizontalpodautoscalers").row(v1, NOW).slice(2, 4), [
    "cpu: <unknown>/50%",
    "<unset>",
  ]);
  const quota = {
    metadata: meta("q"),
    status: {
      hard: { pods: "10", "limits.cpu": "2", "requests.cpu": "1" },
      used: { pods: "3", "requests.cpu": "500m" },
    },
  };
  assert.equal(printerFor("", "resourcequotas").row(quota, NOW), [
    "q",
    "60s",
    "pods: 3/10, requests.cpu: 500m/1",
    "limits.cpu: 0/2",
  ]);
  const csr = {
    metadata: meta("csr-1"),
    spec: { signerName: "kubernetes.io/kube-apiserver-client", username: "alice", expirationSeconds: 86400 },
    status: { conditions: [{ type: "Approved" }], certificate: "abc" },
  };
  assert.equal(printerFor("certificates.k8s.io", "certificatesigningrequests").row(csr, NOW), [
    "csr-1",
    "60s",
    "kubernetes.io/kube-apiserver-client",
    "alice",
    "24h",
    "Approved,Issued",
  ]);
  assert.equal(
    printerFor("coordination.k8s.io", "leases").row(
      { metadata: meta("n1"), spec: { holderIdentity: "n1" } },
      NOW,
    ),
    ["n1", "n1", "60s"],
  );
  assert.equal(
    printerFor("apiregistration.k8s.io", "apiservices").row({
      metadata: meta("v1.apps"),
      status: { conditions: [{ type: "Available", status: "True" }] },
    }, NOW),
    ["v1.apps", "Local", "True", "60s"],
  );
});

test.run();
