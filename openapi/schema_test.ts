import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadSchemas } from "./schema.ts";
import { buildSchemaSet } from "./gen_schemas.ts";
import { renderTypes } from "./gen_types.ts";

const SHARED = Deno.env.get("KUBEDENO_SHARED_K8S") ?? new URL("../../shared/k8s", import.meta.url).pathname;

/** Whether the Kubernetes documents the generators read are here (CI has them beside the repo). */
function hasShared(): boolean {
  try {
    Deno.statSync(`${SHARED}/openapi/v3/api__v1_openapi.json`);
    return true;
  } catch {
    console.warn(`Skipped a generator comparison: no Kubernetes documents at ${SHARED}`);
    return false;
  }
}

test("every served kind has a schema whose references all resolve", async () => {
  const schemas = await loadSchemas();
  for (
    const [group, version, kind] of [
      ["", "v1", "Pod"],
      ["apps", "v1", "Deployment"],
      ["batch", "v1", "CronJob"],
      ["autoscaling", "v2", "HorizontalPodAutoscaler"],
      ["apiextensions.k8s.io", "v1", "CustomResourceDefinition"],
    ]
  ) {
    const root = schemas.forKind(group, version, kind);
    assert.ok(root?.properties?.metadata, `${kind} has metadata`);
  }
  assert.is(schemas.forKind("", "v1", "NoSuchKind"), undefined);
});

test("markers that merging needs are kept: merge keys, list types, map types, int-or-string, quantities", async () => {
  const s = await loadSchemas();
  const containers = s.child(s.forKind("", "v1", "Pod"), "spec")!.properties!.containers;
  assert.equal([
    containers.listType,
    containers.listMapKeys,
    containers.patchStrategy,
    containers.patchMergeKey,
  ], ["map", ["name"], "merge", "name"]);
  assert.is(s.child(containers, "name"), undefined, "a list has no child by key");
  const container = s.element(containers)!;
  const ports = container.properties!.ports;
  assert.equal(ports.listMapKeys, ["containerPort", "protocol"]);
  assert.is(s.element(ports)!.properties!.protocol.default, "TCP");
  assert.is(s.element(ports)!.properties!.containerPort.default, undefined, "zero values are not defaults");
  const volumes = s.child(s.forKind("", "v1", "Pod"), "spec")!.properties!.volumes;
  assert.is(volumes.patchStrategy, "merge,retainKeys");
  const selector = s.resolve(s.child(s.forKind("apps", "v1", "Deployment"), "spec")!.properties!.selector)!;
  assert.is(selector.mapType, "atomic");
  const probe = s.resolve(container.properties!.livenessProbe)!;
  const port = s.child(s.child(probe, "httpGet"), "port")!;
  assert.ok(port.intOrString);
  const limits = s.child(s.child(container, "resources"), "limits")!;
  assert.is(s.child(limits, "cpu")!.format, "quantity");
  // No prose: the only strings are names, types, formats, markers and short defaults.
  const longest = Math.max(
    ...(await Deno.readTextFile(new URL("./generated/schemas.json", import.meta.url))).match(/"(?:[^"\\]|\\.)*"/g)!.map((t) => t.length),
  );
  assert.ok(longest < 120, `longest string ${longest}`);
});

test("generation is deterministic", async () => {
  if (!hasShared()) return;
  const a = JSON.stringify(await buildSchemaSet(SHARED));
  const b = JSON.stringify(await buildSchemaSet(SHARED));
  assert.is(a, b);
  const committed = await Deno.readTextFile(new URL("./generated/schemas.json", import.meta.url));
  assert.is(committed, a + "\n");
});

test("the committed TypeScript types are what openapi-typescript makes of the prose-free documents", async () => {
  if (!hasShared()) return;
  const committed = await Deno.readTextFile(new URL("./generated/types.ts", import.meta.url));
  assert.is(committed, await renderTypes(SHARED));
  assert.match(committed, '"io.k8s.api.apps.v1.DeploymentSpec": {');
});

test.run();
