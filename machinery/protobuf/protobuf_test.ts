import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeKubernetesProtobuf, goDuration, ProtobufError } from "./decode.ts";
import { encodeKubernetesProtobuf } from "./encode.ts";

const roundTrip = (obj: Record<string, unknown>) => assert.equal(decodeKubernetesProtobuf(encodeKubernetesProtobuf(obj)), obj);

test("decodes a ConfigMap assembled by hand from field numbers", () => {
  const s = (t: number, str: string) => [t, str.length, ...new TextEncoder().encode(str)];
  const typeMeta = [...s(0x0a, "v1"), ...s(0x12, "ConfigMap")];
  const meta = [...s(0x0a, "c1"), ...s(0x1a, "ns")]; // ObjectMeta: name 1, namespace 3
  const entry = [...s(0x0a, "a"), ...s(0x12, "")]; // map entry key 1, value 2 (empty)
  const raw = [0x0a, meta.length, ...meta, 0x12, entry.length, ...entry, 0x20, 0x01]; // metadata 1, data 2, immutable 4
  const body = Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, typeMeta.length, ...typeMeta, 0x12, raw.length, ...raw]);
  assert.equal(decodeKubernetesProtobuf(body), {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c1", namespace: "ns" },
    data: { a: "" },
    immutable: true,
  });
});

test("round-trips ConfigMaps, Secrets and Namespaces", () => {
  roundTrip({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { a: "b" } }, data: { k: "v" }, binaryData: { b: btoa("\u0000\u0001") } });
  roundTrip({ apiVersion: "v1", kind: "Secret", metadata: { name: "s", creationTimestamp: "2024-01-02T03:04:05Z" }, data: { p: btoa("hunter2") }, type: "Opaque" });
  roundTrip({ apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } });
});

test("round-trips a Deployment with a pod template, quantities, env and probes", () => {
  roundTrip({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "d", generation: 3 },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }] },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{
            name: "c",
            image: "nginx",
            command: ["sh", "-c"],
            ports: [{ containerPort: 80, protocol: "TCP" }],
            resources: { limits: { cpu: "500m", memory: "128Mi" } },
            env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "k", optional: true } } }],
            livenessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 5 },
          }],
          terminationGracePeriodSeconds: -1,
        },
      },
      strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } },
    },
  });
});

test("round-trips Services, Jobs and CronJobs", () => {
  roundTrip({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: "web" }], selector: { a: "b" } } });
  roundTrip({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { backoffLimit: 2, template: { spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "Never" } } } });
  roundTrip({ apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "cj" }, spec: { schedule: "*/1 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "b" }] } } } } } });
});

test("goDuration prints like Go", () => {
  assert.is(goDuration(3600e9), "1h0m0s");
  assert.is(goDuration(30e9), "30s");
  assert.is(goDuration(90e9), "1m30s");
  assert.is(goDuration(1.5e9), "1.5s");
  assert.is(goDuration(0), "0s");
});

test("refuses malformed bodies with a ProtobufError", () => {
  const good = encodeKubernetesProtobuf({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "b" } });
  const isPbError = (e: unknown) => e instanceof ProtobufError;
  assert.throws(() => decodeKubernetesProtobuf(new TextEncoder().encode('{"kind":"ConfigMap"}')), isPbError);
  assert.throws(() => decodeKubernetesProtobuf(good.subarray(0, good.length - 3)), isPbError);
  assert.throws(() => decodeKubernetesProtobuf(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), isPbError);
  const unknownKind = encodeKubernetesProtobuf({ apiVersion: "v1", kind: "ConfigMap" });
  unknownKind[unknownKind.indexOf(0x43)] = 0x44; // "ConfigMap" → "DonfigMap"
  assert.throws(() => decodeKubernetesProtobuf(unknownKind), isPbError);
  for (let i = 0; i < 200; i++) {
    const mutated = good.slice();
    mutated[4 + Math.floor(Math.random() * (mutated.length - 4))] = Math.floor(Math.random() * 256);
    try {
      decodeKubernetesProtobuf(mutated);
    } catch (err) {
      assert.ok(err instanceof ProtobufError || err instanceof RangeError, String(err));
    }
  }
});

test.run();
