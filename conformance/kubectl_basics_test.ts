/**
 * Real kubectl (the 1.33 dispatcher and a pinned 1.27) against a real server process: the
 * read-only commands, creating the common kinds, and reading them back in every output form.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, KUBECTL, type ServerProcess, startServer } from "./harness.ts";

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: shop, tier: config}
data:
  color: blue
---
apiVersion: v1
kind: Pod
metadata:
  name: cart
  namespace: shop
  labels: {app: shop, tier: backend}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
  labels: {app: shop}
spec:
  selector: {app: shop}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: front
  namespace: shop
  labels: {app: shop, tier: frontend}
spec:
  replicas: 2
  selector:
    matchLabels: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`;

for (const [label, bin] of [["1.33", KUBECTL.dispatcher], ["1.27", KUBECTL.v127]] as const) {
  const t = suite(`kubectl ${label}`);
  let server: ServerProcess;
  const run = async (args: string[], stdin?: string) => {
    const r = await server.kubectl(args, { bin, stdin });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  if (!hasKubectl(bin)) {
    console.log(`skipping kubectl ${label}: ${bin} is not installed`);
    continue;
  }

  t.before(async () => {
    // No nodes: the pods these tests make stay Pending, as their expectations say.
    server = await startServer({ args: ["--nodes", "0"] });
  });
  t.after(async () => {
    await server?.cleanup();
  });

  t("version, api-versions, api-resources and cluster-info", async () => {
    const version = await run(["version", "-o", "json"]);
    assert.is(JSON.parse(version).serverVersion.minor, "33");
    const versions = await run(["api-versions"]);
    for (
      const gv of [
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v2",
        "rbac.authorization.k8s.io/v1",
        "flowcontrol.apiserver.k8s.io/v1",
      ]
    ) {
      assert.ok(versions.split("\n").includes(gv), `api-versions lacks ${gv}`);
    }
    const resources = await run(["api-resources", "-o", "wide"]);
    assert.match(
      resources,
      /^pods\s+po\s+v1\s+true\s+Pod\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m,
    );
    assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment\s+/m);
    assert.match(resources, /^namespaces\s+ns\s+v1\s+false\s+Namespace\s+/m);
    assert.is((await run(["auth", "can-i", "create", "pods"])).trim(), "yes");
    if (label === "1.33") assert.match(await run(["auth", "whoami"]), /Username\s+kubernetes-admin/);
    const info = await run(["cluster-info"]);
    assert.match(info, /Kubernetes control plane.* is running at .*https:\/\/127\.0\.0\.1:/);
  });

  t("create namespace, configmap, secret and deployment", async () => {
    assert.match(await run(["create", "namespace", "shop"]), /namespace\/shop created/);
    assert.match(
      await run(["-n", "shop", "create", "configmap", "c1", "--from-literal=a=1", "--from-literal=b=2"]),
      /configmap\/c1 created/,
    );
    assert.match(
      await run(["-n", "shop", "create", "secret", "generic", "s1", "--from-literal=password=hunter2"]),
      /secret\/s1 created/,
    );
    assert.match(
      await run(["-n", "shop", "create", "deployment", "web", "--image=busybox"]),
      /deployment.apps\/web created/,
    );
    const cm = JSON.parse(await run(["-n", "shop", "get", "configmap", "c1", "-o", "json"]));
    assert.equal(cm.data, { a: "1", b: "2" });
    const secret = JSON.parse(await run(["-n", "shop", "get", "secret", "s1", "-o", "json"]));
    assert.is(atob(secret.data.password), "hunter2");
    assert.is(secret.type, "Opaque");
    const deploy = JSON.parse(await run(["-n", "shop", "get", "deployment", "web", "-o", "json"]));
    assert.is(deploy.spec.template.spec.containers[0].image, "busybox");
    assert.is(deploy.metadata.generation, 1);
  });

  t("create -f of a multi-document manifest, and get in every output form", async () => {
    const created = await run(["create", "-f", "-"], MANIFEST);
    for (const what of ["configmap/settings", "pod/cart", "service/cart", "deployment.apps/front"]) {
      assert.match(created, new RegExp(`${what} created`));
    }
    const table = await run(["-n", "shop", "get", "pods"]);
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    assert.match(table, /^cart\s+0\/1\s+Pending\s+0\s+\S+$/m);
    const wide = await run(["-n", "shop", "get", "pods", "-o", "wide"]);
    assert.match(wide, /NOMINATED NODE\s+READINESS GATES/);
    const yaml = await run(["-n", "shop", "get", "pod", "cart", "-o", "yaml"]);
    assert.match(yaml, /^kind: Pod$/m);
    assert.match(yaml, /resourceVersion: "\d+"/);
    const names = await run(["-n", "shop", "get", "configmaps,services", "-o", "name"]);
    assert.match(names, /^configmap\/settings$/m);
    assert.match(names, /^service\/cart$/m);
    const jp = await run(["-n", "shop", "get", "deployment", "front", "-o", "jsonpath={.spec.replicas}"]);
    assert.is(jp, "2");
    const byLabel = await run(["-n", "shop", "get", "all", "-l", "tier=backend", "-o", "name"]);
    assert.is(byLabel.trim(), "pod/cart");
    const byField = await run(["get", "pods", "-A", "--field-selector", "metadata.name=cart", "-o", "name"]);
    assert.is(byField.trim(), "pod/cart");
    const all = await run(["-n", "shop", "get", "all"]);
    assert.match(all, /pod\/cart/);
    assert.match(all, /service\/cart/);
    assert.match(all, /deployment.apps\/front/);
  });

  t("apply -f creates on first apply and leaves an unchanged object alone", async () => {
    const manifest = MANIFEST.replaceAll("namespace: shop", "namespace: applied");
    await run(["create", "namespace", "applied"]);
    const first = await run(["apply", "-f", "-"], manifest);
    assert.match(first, /configmap\/settings created/);
    assert.match(first, /deployment.apps\/front created/);
    const cm = JSON.parse(await run(["-n", "applied", "get", "configmap", "settings", "-o", "json"]));
    assert.ok(cm.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]);
    const second = await run(["apply", "-f", "-"], manifest);
    assert.match(second, /configmap\/settings unchanged/);
    assert.match(second, /service\/cart unchanged/);
  });

  t("refusals read as upstream's", async () => {
    const bad = await server.kubectl(["-n", "shop", "create", "configmap", "Bad_Name"], { bin });
    assert.is(bad.code, 1);
    assert.match(
      bad.stderr,
      /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const dup = await server.kubectl(["-n", "shop", "create", "configmap", "c1"], { bin });
    assert.match(dup.stderr, /configmaps "c1" already exists/);
    const ns = await server.kubectl(["-n", "nowhere", "create", "configmap", "x"], { bin });
    assert.match(ns.stderr, /namespaces "nowhere" not found/);
    const kind = await server.kubectl(["get", "widgets"], { bin });
    assert.match(kind.stderr, /the server doesn't have a resource type "widgets"/);
  });

  t("get --chunk-size pages through a long list", async () => {
    for (let i = 0; i < 7; i++) {
      await run(["-n", "shop", "create", "configmap", `page-${i}`, `--from-literal=i=${i}`]);
    }
    const out = await run(["-n", "shop", "get", "configmaps", "--chunk-size=2", "-o", "name"]);
    const names = out.trim().split("\n").filter((l) => l.startsWith("configmap/page-"));
    assert.equal(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `configmap/page-${i}`));
  });

  t("label, annotate and delete", async () => {
    assert.match(await run(["-n", "shop", "label", "pod", "cart", "color=green"]), /pod\/cart labeled/);
    assert.match(
      await run(["-n", "shop", "annotate", "pod", "cart", "note=hello"]),
      /pod\/cart annotated?$/m,
    );
    const pod = JSON.parse(await run(["-n", "shop", "get", "pod", "cart", "-o", "json"]));
    assert.is(pod.metadata.labels.color, "green");
    assert.is(pod.metadata.annotations.note, "hello");
    assert.match(await run(["-n", "shop", "delete", "pod", "cart"]), /pod "cart" deleted/);
    const gone = await server.kubectl(["-n", "shop", "get", "pod", "cart"], { bin });
    assert.is(gone.code, 1);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "cart" not found/);
    assert.match(await run(["-n", "shop", "delete", "configmaps", "--all"]), /configmap "settings" deleted/);
    // Only the root CA bundle, which its publisher puts back at once, as on any cluster.
    const left = (await run(["-n", "shop", "get", "configmaps", "-o", "name"])).trim().split("\n").filter(
      Boolean,
    );
    assert.ok(left.every((n) => n === "configmap/kube-root-ca.crt"), left.join(", "));
  });

  t.run();
}
