import { test } from "uvu";
import * as assert from "uvu/assert";
import { validateObject, validateObjectUpdate } from "./mod.ts";
import { fieldErrorString, invalid } from "../../machinery/status.ts";
import { applyDefaults } from "../defaults/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const problems = (group: string, kind: string, o: Json) =>
  validateObject(group, kind, o).map(fieldErrorString);

function deployment(extra: Json = {}, container: Json = {}): Json {
  const d: Json = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx", ...container }] },
      },
      ...extra,
    },
  };
  applyDefaults("apps", "v1", "Deployment", d);
  return d;
}

test("a defaulted valid Deployment, Pod, Service, Job and CronJob pass", () => {
  assert.equal(problems("apps", "Deployment", deployment()), []);
  const pod: Json = { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
  applyDefaults("", "v1", "Pod", pod);
  assert.equal(problems("", "Pod", pod), []);
  const svc: Json = { spec: { selector: { app: "web" }, ports: [{ port: 80 }] } };
  applyDefaults("", "v1", "Service", svc);
  assert.equal(problems("", "Service", svc), []);
  const job: Json = {
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
  };
  applyDefaults("batch", "v1", "Job", job);
  assert.equal(problems("batch", "Job", job), []);
  const cron: Json = { spec: { schedule: "*/5 * * * *", jobTemplate: job } };
  applyDefaults("batch", "v1", "CronJob", cron);
  assert.equal(problems("batch", "CronJob", cron), []);
});

test("selector and template labels, ports, probes, requests over limits, restart policies", () => {
  const mismatch = deployment();
  mismatch.spec.template.metadata.labels = { app: "other" };
  assert.equal(problems("apps", "Deployment", mismatch), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
  ]);
  assert.equal(
    problems(
      "apps",
      "Deployment",
      deployment({}, {
        ports: [{ containerPort: 70000 }, { containerPort: 80, name: "http" }, {
          containerPort: 81,
          name: "http",
        }],
      }),
    ),
    [
      "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.template.spec.containers[0].ports[2].name: Duplicate value: "http"',
    ],
  );
  assert.equal(
    problems(
      "apps",
      "Deployment",
      deployment({}, { livenessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } } }),
    ),
    [
      "spec.template.spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
    ],
  );
  assert.equal(
    problems(
      "apps",
      "Deployment",
      deployment({}, { resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } }),
    ),
    [
      'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
  );
  const never = deployment();
  never.spec.template.spec.restartPolicy = "Never";
  assert.equal(problems("apps", "Deployment", never), [
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  ]);
  const twins = deployment();
  twins.spec.template.spec.containers.push({ ...twins.spec.template.spec.containers[0] });
  assert.equal(problems("apps", "Deployment", twins), [
    'spec.template.spec.containers[1].name: Duplicate value: "web"',
  ]);
  assert.equal(problems("apps", "Deployment", deployment({ replicas: -1 })), [
    "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
  ]);
});

test("the 422 message kubectl prints, and the kind in the details", () => {
  const err = invalid(
    "apps",
    "Deployment",
    "web",
    validateObject("apps", "Deployment", deployment({ replicas: -1 })),
  );
  assert.is(
    err.message,
    'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  assert.is(err.details?.kind, "Deployment");
});

test("immutable fields: workload selectors, immutable ConfigMaps, Secret type, StatefulSet spec, pods", () => {
  const old = deployment();
  const changed = deployment({ selector: { matchLabels: { app: "web", v: "2" } } });
  assert.equal(validateObjectUpdate("apps", "Deployment", changed, old).map(fieldErrorString), [
    'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
  const cm = { immutable: true, data: { a: "1" } };
  assert.equal(
    validateObjectUpdate("", "ConfigMap", { immutable: true, data: { a: "2" } }, cm).map(fieldErrorString),
    [
      "data: Forbidden: field is immutable when `immutable` is set",
    ],
  );
  assert.equal(
    validateObjectUpdate("", "Secret", { type: "Other" }, { type: "Opaque" }).map(fieldErrorString),
    [
      'type: Invalid value: "Other": field is immutable',
    ],
  );
  const sts = { spec: { replicas: 1, serviceName: "a", template: {} } };
  assert.equal(validateObjectUpdate("apps", "StatefulSet", { spec: { ...sts.spec, replicas: 3 } }, sts), []);
  assert.match(
    validateObjectUpdate("apps", "StatefulSet", { spec: { ...sts.spec, serviceName: "b" } }, sts).map(
      fieldErrorString,
    )[0],
    "updates to statefulset spec for fields other than",
  );
  const pod = { spec: { containers: [{ name: "c", image: "a", command: ["x"] }] } };
  assert.equal(
    validateObjectUpdate(
      "",
      "Pod",
      { spec: { containers: [{ name: "c", image: "b", command: ["x"] }] } },
      pod,
    ),
    [],
  );
  assert.match(
    validateObjectUpdate(
      "",
      "Pod",
      { spec: { containers: [{ name: "c", image: "a", command: ["y"] }] } },
      pod,
    ).map(fieldErrorString)[0],
    "spec: Forbidden: pod updates may not change fields other than",
  );
});

test("services, config keys, claims and autoscalers", () => {
  assert.equal(
    problems("", "Service", { spec: { type: "ClusterIP", ports: [{ port: 80 }, { port: 81 }] } }),
    [
      "spec.ports[0].name: Required value",
      "spec.ports[1].name: Required value",
    ],
  );
  assert.equal(problems("", "Service", { spec: { type: "Weird", ports: [{ port: 0 }] } }), [
    'spec.type: Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
  ]);
  assert.match(
    problems("", "ConfigMap", { data: { "a b": "x" } })[0],
    'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters',
  );
  assert.equal(problems("", "Secret", { type: "kubernetes.io/tls", data: { "tls.crt": "" } }), [
    "data[tls.key]: Required value",
  ]);
  assert.equal(problems("", "PersistentVolumeClaim", { spec: { accessModes: [], resources: {} } }), [
    "spec.accessModes: Required value: at least 1 access mode is required",
    "spec.resources[storage]: Required value",
  ]);
  assert.equal(
    problems("autoscaling", "HorizontalPodAutoscaler", { spec: { minReplicas: 3, maxReplicas: 2 } }),
    [
      "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
    ],
  );
});

test("malformed input does not throw", () => {
  for (
    const kind of [["apps", "Deployment"], ["", "Pod"], ["", "Service"], ["batch", "CronJob"], ["", "Secret"]]
  ) {
    for (
      const o of [{}, { spec: null }, { spec: { template: "x", containers: 3, ports: "p" } }, {
        spec: { selector: 1 },
      }]
    ) {
      validateObject(kind[0], kind[1], o);
      validateObjectUpdate(kind[0], kind[1], o, {});
    }
  }
});

test("CronJob schedules are checked by the controller's own cron parser, and time zones by the tz database", () => {
  const cronJob = (schedule: string, timeZone?: string): Json => ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "c" },
    spec: {
      schedule,
      ...(timeZone ? { timeZone } : {}),
      jobTemplate: {
        spec: {
          template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
        },
      },
    },
  });
  assert.equal(problems("batch", "CronJob", cronJob("*/5 * * * MON-FRI", "Europe/Berlin")), []);
  assert.equal(problems("batch", "CronJob", cronJob("@hourly")), []);
  assert.equal(problems("batch", "CronJob", cronJob("61 * * * *")), [
    'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
  ]);
  assert.equal(problems("batch", "CronJob", cronJob("* * * *")), [
    'spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]',
  ]);
  assert.equal(problems("batch", "CronJob", cronJob("TZ=UTC 0 * * * *")), [
    'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
  ]);
  assert.equal(problems("batch", "CronJob", cronJob("0 * * * *", "Mars/Olympus")), [
    'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
  ]);
});

test.run();
