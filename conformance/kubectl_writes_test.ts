/**
 * Every way kubectl changes an object, with kubectl 1.27, 1.33 (the dispatcher) and 1.35 against
 * a real server process: client-side and server-side apply, edit, the three patch types, set,
 * scale, replace, diff, server dry-run, explain, and refusals of invalid manifests.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, KUBECTL, type ServerProcess, startServer } from "./harness.ts";
import { layerClients } from "./tools.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const t = suite<{ server: ServerProcess }>("kubectl writes", {} as { server: ServerProcess });

const CLIENTS: { name: string; bin: string | undefined }[] = [
  { name: "1.27", bin: hasKubectl(KUBECTL.v127) ? KUBECTL.v127 : undefined },
  { name: "1.33", bin: hasKubectl(KUBECTL.dispatcher) ? KUBECTL.dispatcher : undefined },
  { name: "1.35", bin: layerClients()?.kubectl },
];

function deployment(
  ns: string,
  o: { image: string; env: string[]; ports: number[]; labels: Record<string, string> },
) {
  const labels = Object.entries(o.labels).map(([k, v]) => `    ${k}: ${v}`).join("\n");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels:
${labels}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${o.image}
        env:
${o.env.map((e) => `        - {name: ${e}, value: "${e.toLowerCase()}"}`).join("\n")}
        ports:
${o.ports.map((p) => `        - {containerPort: ${p}}`).join("\n")}
`;
}

t.before(async (ctx) => {
  ctx.server = await startServer();
});

t.after(async (ctx) => {
  await ctx.server.cleanup();
});

for (const client of CLIENTS) {
  const ns = `w${client.name.replace(".", "")}`;
  if (!client.bin) {
    console.log(`skipping kubectl ${client.name}: not installed here`);
    continue;
  }
  const bin = client.bin;
  let home = "";
  let dir = "";
  const run = async (
    server: ServerProcess,
    args: string[],
    opts: { stdin?: string; env?: Record<string, string> } = {},
  ) => {
    if (!home) home = await Deno.makeTempDir({ prefix: `kubedeno-home-${ns}-` });
    return await server.kubectl(args, { bin, stdin: opts.stdin, env: { HOME: home, ...opts.env } });
  };
  const ok = async (
    server: ServerProcess,
    args: string[],
    opts: { stdin?: string; env?: Record<string, string> } = {},
  ) => {
    const r = await run(server, args, opts);
    assert.is(r.code, 0, `kubectl ${client.name} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const getJson = async (server: ServerProcess, what: string): Promise<Json> =>
    JSON.parse(await ok(server, ["get", "-n", ns, what, "-o", "json", "--show-managed-fields"]));
  const file = async (name: string, text: string) => {
    if (!dir) dir = await Deno.makeTempDir({ prefix: `kubedeno-manifests-${ns}-` });
    await Deno.writeTextFile(`${dir}/${name}`, text);
    return `${dir}/${name}`;
  };

  t(
    `kubectl ${client.name}: apply creates, leaves unchanged, then applies a changed file as a real cluster does`,
    async ({ server }) => {
      await ok(server, ["create", "namespace", ns]);
      const first = await file(
        "web.yaml",
        deployment(ns, {
          image: "nginx:1.27",
          env: ["A", "B"],
          ports: [80],
          labels: { app: "web", tier: "front" },
        }),
      );
      assert.match(await ok(server, ["apply", "-f", first]), "deployment.apps/web created");
      assert.match(await ok(server, ["apply", "-f", first]), "deployment.apps/web unchanged");
      const changed = await file(
        "web.yaml",
        deployment(ns, { image: "nginx:1.28", env: ["A"], ports: [80, 8443], labels: { app: "web" } }),
      );
      assert.match(await ok(server, ["apply", "-f", changed]), "deployment.apps/web configured");
      const web = await getJson(server, "deployment/web");
      const c = web.spec.template.spec.containers[0];
      assert.is(c.image, "nginx:1.28");
      assert.equal(c.env, [{ name: "A", value: "a" }]);
      assert.equal(c.ports, [{ containerPort: 80, protocol: "TCP" }, {
        containerPort: 8443,
        protocol: "TCP",
      }]);
      assert.equal(web.metadata.labels, { app: "web" });
      assert.is(web.metadata.generation, 2);
      const lastApplied = JSON.parse(
        web.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"],
      );
      assert.equal(lastApplied.metadata.labels, { app: "web" });
      // Defaults a real cluster shows.
      assert.equal(web.spec.strategy, {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
      });
      assert.is(c.terminationMessagePath, "/dev/termination-log");
      assert.is(c.imagePullPolicy, "IfNotPresent");
      const managers = web.metadata.managedFields.map((m: Json) => `${m.manager}/${m.operation}`);
      assert.ok(managers.includes("kubectl-client-side-apply/Update"), managers.join(","));
    },
  );

  t(`kubectl ${client.name}: edit, the three patch types, set, scale, replace`, async ({ server }) => {
    const editor = await file("editor.sh", `#!/bin/sh\nsed -i 's/replicas: 2/replicas: 4/' "$1"\n`);
    await Deno.chmod(editor, 0o755);
    assert.match(
      await ok(server, ["edit", "-n", ns, "deployment/web"], {
        env: { EDITOR: editor, KUBE_EDITOR: editor },
      }),
      "edited",
    );
    assert.is((await getJson(server, "deployment/web")).spec.replicas, 4);

    await ok(server, [
      "patch",
      "-n",
      ns,
      "deployment/web",
      "--type=merge",
      "-p",
      '{"metadata":{"labels":{"merged":"yes"}}}',
    ]);
    await ok(server, [
      "patch",
      "-n",
      ns,
      "deployment/web",
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/spec/replicas","value":3}]',
    ]);
    await ok(server, [
      "patch",
      "-n",
      ns,
      "deployment/web",
      "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"S","value":"s"}]}]}}}}',
    ]);
    let web = await getJson(server, "deployment/web");
    assert.is(web.metadata.labels.merged, "yes");
    assert.is(web.spec.replicas, 3);
    assert.equal(web.spec.template.spec.containers[0].env.map((e: Json) => e.name), ["S", "A"]);

    await ok(server, ["set", "image", "-n", ns, "deployment/web", "web=nginx:1.29"]);
    await ok(server, ["set", "env", "-n", ns, "deployment/web", "E=5"]);
    await ok(server, ["set", "resources", "-n", ns, "deployment/web", "--limits=cpu=200m,memory=64Mi"]);
    await ok(server, ["scale", "-n", ns, "deployment/web", "--replicas=5"]);
    web = await getJson(server, "deployment/web");
    const c = web.spec.template.spec.containers[0];
    assert.is(c.image, "nginx:1.29");
    assert.ok(c.env.some((e: Json) => e.name === "E" && e.value === "5"));
    assert.equal(c.resources.limits, { cpu: "200m", memory: "64Mi" });
    assert.is(web.spec.replicas, 5);

    const { metadata: _m, status: _s, ...rest } = web;
    const replacement: Json = {
      ...rest,
      metadata: { name: "web", namespace: ns, labels: { app: "web", replaced: "yes" } },
    };
    replacement.spec.replicas = 1;
    const path = await file("replace.json", JSON.stringify(replacement));
    assert.match(await ok(server, ["replace", "-f", path]), "deployment.apps/web replaced");
    web = await getJson(server, "deployment/web");
    assert.equal([web.spec.replicas, web.metadata.labels.replaced], [1, "yes"]);
  });

  t(
    `kubectl ${client.name}: server-side apply, conflicts between managers, force, and moving from client-side apply`,
    async ({ server }) => {
      const config = (replicas: number) =>
        `apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, namespace: ${ns}}
data: {replicas: "${replicas}", owner: first}
`;
      assert.match(
        await ok(server, ["apply", "--server-side", "-f", "-"], { stdin: config(1) }),
        "configmap/ssa serverside-applied",
      );
      const conflict = await run(server, ["apply", "--server-side", "--field-manager=second", "-f", "-"], {
        stdin: config(2),
      });
      assert.is(conflict.code, 1);
      // The same value for `owner` is shared ownership, not a conflict.
      assert.match(conflict.stderr, 'Apply failed with 1 conflict: conflict with "kubectl": .data.replicas');
      await ok(server, ["apply", "--server-side", "--field-manager=second", "--force-conflicts", "-f", "-"], {
        stdin: config(2),
      });
      const cm = await getJson(server, "configmap/ssa");
      assert.is(cm.data.replicas, "2");
      const second = cm.metadata.managedFields.find((m: Json) => m.manager === "second");
      assert.equal(second.fieldsV1, { "f:data": { "f:owner": {}, "f:replicas": {} } });

      // The deployment made by client-side apply moves to server-side apply.
      const current = deployment(ns, {
        image: "nginx:1.30",
        env: ["A"],
        ports: [80, 8443],
        labels: { app: "web" },
      });
      assert.match(
        await ok(server, ["apply", "--server-side", "--force-conflicts", "-f", "-"], { stdin: current }),
        "serverside-applied",
      );
      const web = await getJson(server, "deployment/web");
      assert.is(web.spec.template.spec.containers[0].image, "nginx:1.30");
      assert.ok(
        web.metadata.managedFields.some((m: Json) => m.manager === "kubectl" && m.operation === "Apply"),
      );
    },
  );

  t(
    `kubectl ${client.name}: diff and server dry-run show what would change and store nothing`,
    async ({ server }) => {
      const changed = await file(
        "diff.yaml",
        deployment(ns, { image: "nginx:9.9", env: ["A"], ports: [80, 8443], labels: { app: "web" } }),
      );
      const diff = await run(server, ["diff", "-f", changed]);
      assert.is(diff.code, 1, diff.stderr);
      assert.match(diff.stdout, /\+\s+- image: nginx:9.9|\+\s+image: nginx:9.9/);
      assert.not.match(
        (await getJson(server, "deployment/web")).spec.template.spec.containers[0].image,
        "9.9",
      );
      const dry = await ok(server, [
        "create",
        "deployment",
        "dry",
        "-n",
        ns,
        "--image=busybox",
        "--dry-run=server",
        "-o",
        "yaml",
      ]);
      assert.match(dry, "progressDeadlineSeconds: 600");
      assert.match(dry, "terminationMessagePolicy: File");
      assert.match(dry, "imagePullPolicy: Always");
      const gone = await run(server, ["get", "-n", ns, "deployment/dry"]);
      assert.is(gone.code, 1);
    },
  );

  t(
    `kubectl ${client.name}: explain, and invalid manifests refused with upstream's field paths`,
    async ({ server }) => {
      const strategy = await ok(server, ["explain", "deployment.spec.strategy"]);
      assert.match(strategy, "rollingUpdate");
      assert.match(strategy, "type");
      const recursive = await ok(server, ["explain", "pods", "--recursive"]);
      for (
        const f of [
          "containers",
          "terminationMessagePolicy",
          "topologySpreadConstraints",
          "ephemeralContainers",
        ]
      ) {
        assert.match(recursive, f);
      }

      const bad = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: one}}
  template:
    metadata: {labels: {app: two}}
    spec:
      containers:
      - name: c
        image: busybox
        ports: [{containerPort: 70000}]
`;
      const refused = await run(server, ["apply", "-f", "-"], { stdin: bad });
      assert.is(refused.code, 1);
      assert.match(refused.stderr, 'The Deployment "bad" is invalid');
      assert.match(
        refused.stderr,
        "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      );
      assert.match(
        refused.stderr,
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"two"}: `selector` does not match template `labels`',
      );

      const unknown = `apiVersion: v1
kind: ConfigMap
metadata: {name: unknown, namespace: ${ns}}
data: {a: "1"}
extra: field
`;
      const strict = await run(server, ["create", "--validate=strict", "-f", "-"], { stdin: unknown });
      assert.is(strict.code, 1);
      assert.match(strict.stderr, /unknown field "extra"/);
      const warn = await run(server, ["create", "--validate=warn", "-f", "-"], { stdin: unknown });
      assert.is(warn.code, 0, warn.stderr);
      assert.match(warn.stderr, /Warning: unknown field "extra"/);
    },
  );
}

t.run();
