import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import { newResourceQuotaController } from "./controller.ts";
import { add, canonical, format, parse } from "./quantity.ts";
import { podEvaluator } from "./evaluators.ts";
import type { Pod, ResourceQuota } from "../types.ts";

test("quantity canonical forms match upstream's", () => {
  const cases: Array<[string, string]> = [
    ["0", "0"],
    ["1.5", "1500m"],
    ["2000m", "2"],
    ["0.1", "100m"],
    ["1Gi", "1Gi"],
    ["1.5Gi", "1536Mi"],
    ["1024", "1024"],
    ["512Ki", "512Ki"],
    ["1e3", "1e3"],
    ["1000k", "1M"],
    ["100Mi", "100Mi"],
    ["0.5Ki", "512"],
    ["1n", "1n"],
    ["0.1n", "1n"],
  ];
  for (const [input, want] of cases) assert.is(canonical(input), want, input);
  const cpu = add(add(parse("0")!, parse("500m")!), parse("250m")!);
  assert.is(format(cpu), "750m");
  const mem = add(parse("1Gi")!, parse("512Mi")!);
  assert.is(format(mem), "1536Mi");
  assert.is(format(add(parse("100m")!, parse("900m")!)), "1");
});

test("pod usage: init containers, sidecars, terminal pods", () => {
  const pod: Pod = {
    metadata: { name: "p", namespace: "default" },
    spec: {
      initContainers: [
        { name: "init", image: "x", resources: { requests: { cpu: "2" } } },
        { name: "side", image: "x", restartPolicy: "Always", resources: { requests: { cpu: "100m" } } },
      ],
      containers: [
        {
          name: "a",
          image: "x",
          resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { memory: "128Mi" } },
        },
        { name: "b", image: "x", resources: { limits: { cpu: "500m" } } },
      ],
    },
  };
  const usage = podEvaluator.usage(pod, Date.now());
  const get = (n: string) => usage.has(n) ? format(usage.get(n)!) : undefined;
  assert.is(get("requests.cpu"), "2", "the big init container wins");
  assert.is(get("requests.memory"), "64Mi");
  assert.is(get("limits.cpu"), "500m");
  assert.is(get("limits.memory"), "128Mi");
  assert.is(get("pods"), "1");
  const done = podEvaluator.usage({ ...pod, status: { phase: "Succeeded" } }, Date.now());
  assert.equal([...done.keys()], ["count/pods"]);
});

const quota = (
  name: string,
  hard: Record<string, string>,
  spec: Record<string, unknown> = {},
): ResourceQuota => ({
  metadata: { name, namespace: "default" },
  spec: { hard, ...spec },
});

const pod = (name: string, cpu: string, memory: string, extra: Partial<Pod["spec"]> = {}): Pod => ({
  metadata: { name, namespace: "default" },
  spec: {
    containers: [{
      name: "c",
      image: "busybox",
      resources: { requests: { cpu, memory }, limits: { cpu, memory } },
    }],
    ...extra,
  },
});

test("status.used follows creates, deletes and terminal pods", async () => {
  const env = await startControllers([newResourceQuotaController({ resyncPeriodMs: 60_000 })]);
  const quotas = env.client.resource<ResourceQuota>("", "resourcequotas");
  const pods = env.client.resource<Pod>("", "pods");
  const status = async (name: string) => (await quotas.get("default", name)).status;
  await quotas.create(
    "default",
    quota("compute", {
      pods: "10",
      "requests.cpu": "4",
      "requests.memory": "4Gi",
      "limits.cpu": "8",
      memory: "8Gi",
      "count/pods": "20",
      services: "5",
      "services.nodeports": "2",
      configmaps: "10",
      "count/deployments.apps": "3",
    }),
  );
  const first = await eventually(async () => (await status("compute"))?.used, 3000, "initial usage");
  assert.equal(first, {
    pods: "0",
    "requests.cpu": "0",
    "requests.memory": "0",
    "limits.cpu": "0",
    memory: "0",
    "count/pods": "0",
    services: "0",
    "services.nodeports": "0",
    configmaps: "0",
    "count/deployments.apps": "0",
  });
  assert.is((await status("compute"))!.hard!["requests.memory"], "4Gi");

  await pods.create("default", pod("a", "500m", "1Gi"));
  await pods.create("default", pod("b", "250m", "512Mi"));
  await env.client.resource("", "services").create("default", {
    metadata: { name: "np", namespace: "default" },
    spec: {
      type: "NodePort",
      ports: [{ port: 80, name: "a" }, { port: 81, name: "b" }],
      selector: { app: "x" },
    },
  });
  await env.client.resource("", "configmaps").create("default", {
    metadata: { name: "cm", namespace: "default" },
    data: { a: "b" },
  });
  await env.client.resource("apps", "deployments").create("default", {
    metadata: { name: "d", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "d" } },
      template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "x" }] } },
    },
  });
  await eventually(
    async () => {
      const u = (await status("compute"))?.used ?? {};
      return u.pods === "2" && u["requests.cpu"] === "750m" && u["requests.memory"] === "1536Mi" &&
        u.memory === "1536Mi" && u["limits.cpu"] === "750m" && u.services === "1" &&
        u["services.nodeports"] === "2" && u["count/deployments.apps"] === "1" &&
        Number(u.configmaps) >= 1;
    },
    3000,
    "usage after creates",
  );

  // A finished pod stops counting as a pod but stays an object.
  await pods.patch("default", "b", "merge", { status: { phase: "Succeeded" } }, { subresource: "status" });
  await eventually(
    async () => {
      const u = (await status("compute"))?.used ?? {};
      return u.pods === "1" && u["requests.cpu"] === "500m" && u["count/pods"] === "2";
    },
    3000,
    "terminal pod not counted",
  );
  await pods.delete("default", "a", { gracePeriodSeconds: 0 });
  await eventually(
    async () => {
      const u = (await status("compute"))?.used ?? {};
      return u.pods === "0" && u["requests.cpu"] === "0" && u["count/pods"] === "1";
    },
    3000,
    "usage after delete",
  );

  // A changed spec shows in status.hard, in canonical form.
  await quotas.patch("default", "compute", "merge", { spec: { hard: { "requests.cpu": "1.5" } } });
  await eventually(
    async () => (await status("compute"))?.hard?.["requests.cpu"] === "1500m",
    3000,
    "new hard",
  );
  await env.close();
});

test("scopes: BestEffort, NotBestEffort, Terminating and PriorityClass selectors", async () => {
  const env = await startControllers([newResourceQuotaController({ resyncPeriodMs: 60_000 })]);
  const quotas = env.client.resource<ResourceQuota>("", "resourcequotas");
  const pods = env.client.resource<Pod>("", "pods");
  await quotas.create("default", quota("besteffort", { pods: "5" }, { scopes: ["BestEffort"] }));
  await quotas.create(
    "default",
    quota("burstable", { pods: "5", "requests.cpu": "2" }, { scopes: ["NotBestEffort"] }),
  );
  await quotas.create("default", quota("terminating", { pods: "5" }, { scopes: ["Terminating"] }));
  await quotas.create(
    "default",
    quota("high", { pods: "5" }, {
      scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["high"] }] },
    }),
  );
  await pods.create("default", {
    metadata: { name: "be", namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox" }], activeDeadlineSeconds: 60 },
  });
  await pods.create("default", pod("bu", "100m", "10Mi", { priorityClassName: "high" }));
  const used = async (name: string) => (await quotas.get("default", name)).status?.used ?? {};
  await eventually(
    async () =>
      (await used("besteffort")).pods === "1" && (await used("burstable")).pods === "1" &&
      (await used("burstable"))["requests.cpu"] === "100m" && (await used("terminating")).pods === "1" &&
      (await used("high")).pods === "1",
    3000,
    "scoped usage",
  );
  await env.close();
});

test.run();
