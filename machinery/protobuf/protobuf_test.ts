import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeKubernetesProtobuf, isKubernetesProtobuf, ProtobufError } from "./decode.ts";
import { encodeKubernetesProtobuf } from "./encode.ts";
import { formatGoDuration, parseGoDuration } from "./json_forms.ts";

const roundTrip = (obj: Record<string, unknown>) =>
  assert.equal(decodeKubernetesProtobuf(encodeKubernetesProtobuf(obj)), obj);

// Hand assembly, independent of the encoder: key byte = field number << 3 | wire type.
const enc = new TextEncoder();
const len = (key: number, body: number[]) => {
  if (body.length > 127) throw new Error("test helper handles short fields only");
  return [key, body.length, ...body];
};
const str = (key: number, s: string) => len(key, [...enc.encode(s)]);
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  Uint8Array.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...len(0x0a, [...str(0x0a, apiVersion), ...str(0x12, kind)]),
    ...len(0x12, raw),
  ]);

/** A ConfigMap as a Go client writes it: every non-pointer ObjectMeta scalar, zero or not. */
function handMadeConfigMap(): Uint8Array {
  const meta = [
    ...str(0x0a, "c1"), // name = 1
    ...str(0x12, ""), // generateName = 2
    ...str(0x1a, "ns"), // namespace = 3
    ...str(0x2a, ""), // uid = 5
    0x38,
    0x00, // generation = 7, varint 0
    ...len(0x42, []), // creationTimestamp = 8, zero time
    ...len(0x5a, [...str(0x0a, "app"), ...str(0x12, "web")]), // labels = 11, entry {key 1, value 2}
  ];
  const raw = [
    ...len(0x0a, meta), // metadata = 1
    ...len(0x12, [...str(0x0a, "a"), ...str(0x12, "")]), // data = 2, "a": ""
    ...len(0x12, [...str(0x0a, "b"), ...str(0x12, "x=1")]),
    0x20,
    0x01, // immutable = 4, true
    ...len(0x1a, [...str(0x0a, "bin"), ...len(0x12, [0x00, 0xff])]), // binaryData = 3
    0xf8,
    0x07,
    0x2a, // unknown field 127, varint: skipped
  ];
  return envelope("v1", "ConfigMap", raw);
}

test("decodes a ConfigMap assembled by hand from field numbers", () => {
  assert.equal(decodeKubernetesProtobuf(handMadeConfigMap()), {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c1", namespace: "ns", creationTimestamp: null, labels: { app: "web" } },
    data: { a: "", b: "x=1" },
    immutable: true,
    binaryData: { bin: "AP8=" },
  });
});

// Request bodies captured from kubectl v1.32 (`create configmap cm1 --from-literal=a=b --from-literal=e=`,
// `create deployment web --image=nginx --port=80 --replicas=0`, `create service clusterip svc --tcp=80:8080`,
// `auth can-i list pods`); the expected objects are what `--dry-run=client -o json` prints.
const CAPTURED: [string, Record<string, unknown>][] = [
  [
    "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiQKEwoDY20xEgAaACIAKgAyADgAQgASBgoBYRIBYhIFCgFlEgAaACIA",
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cm1", creationTimestamp: null },
      data: { a: "b", e: "" },
    },
  ],
  [
    "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErgBCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEoYBCAASDAoKCgNhcHASA3dlYhpsChwKABIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEkwSLgoFbmdpbngSBW5naW54KgAyCgoAEAAYUCIAKgBCAGoAcgCAAQCIAQCQAQCiAQAaADIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAIgIKACgAOAAaDAgAEAAYACAAKAA4ABoAIgA=",
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", creationTimestamp: null, labels: { app: "web" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: "web" } },
          spec: {
            containers: [{ name: "nginx", image: "nginx", ports: [{ containerPort: 80 }], resources: {} }],
          },
        },
        strategy: {},
      },
      status: {},
    },
  ],
  [
    "azhzAAoNCgJ2MRIHU2VydmljZRJpCh8KA3N2YxIAGgAiACoAMgA4AEIAWgoKA2FwcBIDc3ZjEkIKGwoHODAtODA4MBIDVENQGFAiBwgAEJA/GgAoABIKCgNhcHASA3N2YxoAIglDbHVzdGVySVA6AEIAUgBaAGAAaAAaAgoAGgAiAA==",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc", creationTimestamp: null, labels: { app: "svc" } },
      spec: {
        ports: [{ name: "80-8080", protocol: "TCP", port: 80, targetPort: 8080 }],
        selector: { app: "svc" },
        type: "ClusterIP",
      },
      status: { loadBalancer: {} },
    },
  ],
  [
    "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSPQoQCgASABoAIgAqADIAOABCABIfCh0KB2RlZmF1bHQSBGxpc3QaACIAKgRwb2RzMgA6ABoICAASABoAIAAaACIA",
    {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { namespace: "default", verb: "list", resource: "pods" } },
      status: { allowed: false },
    },
  ],
];

test("decodes bodies captured from kubectl into the JSON kubectl would send", () => {
  for (const [base64, expected] of CAPTURED) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    assert.equal(decodeKubernetesProtobuf(bytes), expected);
  }
});

test("keepZeroValues keeps every present field", () => {
  const obj = decodeKubernetesProtobuf(handMadeConfigMap(), { keepZeroValues: true });
  assert.equal(obj.metadata, {
    name: "c1",
    generateName: "",
    namespace: "ns",
    uid: "",
    generation: 0,
    creationTimestamp: null,
    labels: { app: "web" },
  });
});

test("keeps zeros of required fields and meaningful pointers, drops other zeros", () => {
  const container = [
    ...str(0x0a, ""), // name = 1 (required)
    ...str(0x12, "nginx"), // image = 2
    ...len(0x32, [...str(0x0a, ""), 0x10, 0x00, 0x18, 0x00]), // ports = 6: {name 1: "", hostPort 2: 0, containerPort 3: 0}
    0x80,
    0x01,
    0x00, // stdin = 16, false
  ];
  const podSpec = [...len(0x12, container), 0x20, 0x00]; // containers = 2, terminationGracePeriodSeconds = 4: 0
  const deployment = [
    ...len(0x0a, str(0x0a, "d")),
    ...len(0x12, [0x08, 0x00, 0x28, 0x00, ...len(0x1a, len(0x12, podSpec))]), // replicas 1: 0, minReadySeconds 5: 0, template 3 → spec 2
  ];
  const obj = decodeKubernetesProtobuf(envelope("apps/v1", "Deployment", deployment));
  assert.equal(obj.spec, {
    replicas: 0,
    template: {
      spec: {
        containers: [{ name: "", image: "nginx", ports: [{ containerPort: 0 }] }],
        terminationGracePeriodSeconds: 0,
      },
    },
  });
});

test("reads packed and unpacked repeated varints and negative numbers", () => {
  // Pod.spec (2) → securityContext (14) → supplementalGroups (4): packed [1, 2] then unpacked 3.
  const securityContext = [...len(0x22, [0x01, 0x02]), 0x20, 0x03];
  const negative = [0xc8, 0x01, ...[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]; // priority = 25: -2 as int32
  const pod = [...len(0x12, [...len(0x72, securityContext), ...negative])];
  const obj = decodeKubernetesProtobuf(envelope("v1", "Pod", pod));
  assert.equal(obj.spec, { securityContext: { supplementalGroups: [1, 2, 3] }, priority: -2 });
});

test("round-trips ConfigMaps, Secrets and Namespaces", () => {
  roundTrip({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: "default", labels: { a: "b" }, annotations: { "x/y": "" } },
    data: { k: "v", empty: "" },
    binaryData: { b: btoa("\u0000\u0001\u00ff") },
  });
  roundTrip({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s", creationTimestamp: "2024-01-02T03:04:05Z" },
    data: { password: btoa("hunter2"), empty: "" },
    stringData: { plain: "text" },
    type: "kubernetes.io/basic-auth",
  });
  roundTrip({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "n", creationTimestamp: null },
    spec: {},
    status: {},
  });
});

test("round-trips a Deployment with a pod template, quantities, env, probes and volumes", () => {
  roundTrip({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "d", generation: 3, deletionTimestamp: "2030-12-31T23:59:59Z" },
    spec: {
      replicas: 0,
      selector: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }],
      },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{
            name: "c",
            image: "nginx:1.27",
            command: ["sh", "-c"],
            args: ["echo hi"],
            ports: [{ containerPort: 80, protocol: "TCP", name: "http" }],
            resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "0.1" } },
            env: [
              { name: "PLAIN", value: "1" },
              { name: "FROM_CM", valueFrom: { configMapKeyRef: { name: "cm", key: "k", optional: true } } },
              { name: "FROM_SECRET", valueFrom: { secretKeyRef: { name: "s", key: "p" } } },
              { name: "FIELD", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
            ],
            envFrom: [{ configMapRef: { name: "all" }, prefix: "CM_" }],
            livenessProbe: { httpGet: { path: "/healthz", port: "http", scheme: "HTTP" }, periodSeconds: 5 },
            readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 2 },
            startupProbe: { exec: { command: ["true"] }, failureThreshold: 30 },
            volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg", readOnly: true }],
          }],
          volumes: [
            {
              name: "cfg",
              configMap: { name: "cm", items: [{ key: "k", path: "k.txt", mode: 420 }], defaultMode: 0 },
            },
            { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
            { name: "sec", secret: { secretName: "s" } },
          ],
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsUser: 0, runAsNonRoot: false, fsGroup: 2000 },
          tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 60 }],
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } },
    },
    status: {},
  });
});

test("round-trips Services, Jobs, CronJobs and Leases", () => {
  roundTrip({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "s" },
    spec: {
      ports: [
        { name: "a", protocol: "TCP", port: 80, targetPort: 8080 },
        { name: "b", port: 81, targetPort: "web", nodePort: 30001 },
        { port: 82, targetPort: 0 },
      ],
      selector: { app: "web" },
      type: "NodePort",
      clusterIP: "None",
    },
  });
  roundTrip({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j" },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {},
        spec: { containers: [{ name: "c", image: "busybox", resources: {} }], restartPolicy: "Never" },
      },
    },
  });
  roundTrip({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "cj" },
    spec: {
      schedule: "*/1 * * * *",
      suspend: false,
      jobTemplate: {
        metadata: { name: "cj" },
        spec: { template: { spec: { containers: [{ name: "c", image: "b" }], restartPolicy: "OnFailure" } } },
      },
    },
  });
  roundTrip({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "l" },
    spec: {
      holderIdentity: "me",
      renewTime: "2024-01-02T03:04:05.123456Z",
      acquireTime: "2024-01-02T03:04:05.000000Z",
    },
  });
});

test("round-trips TokenRequests, access reviews and raw JSON", () => {
  roundTrip({
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    metadata: { name: "default", namespace: "ns", creationTimestamp: null },
    spec: {
      audiences: ["https://kubernetes.default.svc"],
      expirationSeconds: 3600,
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "u-1" },
    },
    status: { token: "", expirationTimestamp: null },
  });
  roundTrip({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    metadata: { creationTimestamp: null },
    spec: { resourceAttributes: { namespace: "default", verb: "list", resource: "pods" } },
    status: { allowed: false },
  });
  roundTrip({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: "alice",
      groups: ["dev"],
      extra: { scopes: ["a", "b"], none: [] },
      nonResourceAttributes: { path: "/healthz", verb: "get" },
    },
  });
  roundTrip({
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: "r",
      managedFields: [{
        manager: "kubectl",
        operation: "Update",
        apiVersion: "apps/v1",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:data": {} },
      }],
    },
    data: { spec: { template: { "$patch": "replace" } }, list: [1, "two", null] },
    revision: 2,
  });
});

test("formats and parses Go durations like Go", () => {
  const cases: [bigint, string][] = [
    [3_600_000_000_000n, "1h0m0s"],
    [30_000_000_000n, "30s"],
    [90_000_000_000n, "1m30s"],
    [1_500_000_000n, "1.5s"],
    [0n, "0s"],
    [1_500_000n, "1.5ms"],
    [2_000n, "2µs"],
    [999n, "999ns"],
    [-61_000_000_000n, "-1m1s"],
    [3_723_000_000_001n, "1h2m3.000000001s"],
  ];
  for (const [ns, text] of cases) {
    assert.is(formatGoDuration(ns), text);
    assert.is(parseGoDuration(text), ns);
  }
  assert.is(parseGoDuration("1h30m"), 5_400_000_000_000n);
  assert.throws(() => parseGoDuration("5 minutes"), /Invalid duration/);
});

test("isKubernetesProtobuf reads the media type", () => {
  assert.ok(isKubernetesProtobuf("application/vnd.kubernetes.protobuf"));
  assert.ok(isKubernetesProtobuf("Application/VND.kubernetes.protobuf; charset=utf-8"));
  assert.not.ok(isKubernetesProtobuf("application/json"));
  assert.not.ok(isKubernetesProtobuf(null));
});

test("map keys such as __proto__ stay data", () => {
  const body = envelope("v1", "ConfigMap", len(0x12, [...str(0x0a, "__proto__"), ...str(0x12, "x")]));
  const obj = decodeKubernetesProtobuf(body) as { data: Record<string, unknown> };
  assert.ok(Object.hasOwn(obj.data, "__proto__"));
  assert.is(Object.getPrototypeOf(obj.data), Object.prototype);
  assert.equal(JSON.parse(JSON.stringify(obj.data)), JSON.parse('{"__proto__":"x"}'));
});

test("refuses malformed bodies with a clear ProtobufError", () => {
  const good = handMadeConfigMap();
  const fails = (bytes: Uint8Array, message: RegExp) =>
    assert.throws(
      () => decodeKubernetesProtobuf(bytes),
      (e: unknown) => e instanceof ProtobufError && message.test(e.message),
    );
  fails(enc.encode('{"kind":"ConfigMap"}'), /magic/);
  fails(good.subarray(0, good.length - 1), /runs past the end/);
  fails(envelope("v1", "ConfigMap", [0x20, 0x80]), /Truncated varint/);
  fails(
    Uint8Array.from([
      0x6b,
      0x38,
      0x73,
      0x00,
      0x0a,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01,
    ]),
    /longer than 10 bytes/,
  );
  fails(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]), /runs past the end/);
  fails(envelope("v1", "DonfigMap", []), /no kind "DonfigMap" is registered for version "v1"/);
  fails(envelope("v1", "", []), /Kind/);
  fails(envelope("v1", "ConfigMap", [0x08, 0x01]), /ConfigMap\.metadata has wire type 0, expected 2/);
  fails(envelope("v1", "ConfigMap", [0xa3, 0x06]), /Unsupported wire type 3/); // unknown field 100, group start
  fails(envelope("v1", "ConfigMap", [0x00]), /Invalid field key/);
});

test("random corruption never escapes as anything but a ProtobufError", () => {
  const good = encodeKubernetesProtobuf({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "s", labels: { a: "b" } },
    spec: { ports: [{ port: 80, targetPort: "web" }], selector: { a: "b" } },
  });
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let failures = 0;
  for (let i = 0; i < 2000; i++) {
    const mutated = good.slice();
    for (let n = 0; n < 3; n++) {
      mutated[4 + Math.floor(random() * (mutated.length - 4))] = Math.floor(random() * 256);
    }
    try {
      decodeKubernetesProtobuf(mutated.subarray(0, 4 + Math.floor(random() * (mutated.length - 3))));
    } catch (err) {
      failures++;
      assert.instance(err, ProtobufError, String(err));
    }
  }
  assert.ok(failures > 0);
});

test.run();
