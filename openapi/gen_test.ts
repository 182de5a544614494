import { test } from "uvu";
import * as assert from "uvu/assert";
import { RESOURCES } from "./generated/resources.ts";
import {
  documentFileName,
  documentPath,
  generate,
  isServedPath,
  parseResourcePath,
  resourcesOf,
  SERVED_GROUP_VERSIONS,
  servedSwagger,
  sha512Hex,
  stripProse,
} from "./gen.ts";

const GENERATED_V3 = new URL("./generated/v3/", import.meta.url);
const SHARED = Deno.env.get("KUBEDENO_SHARED_K8S") ?? new URL("../../shared/k8s", import.meta.url).pathname;

const find = (group: string, version: string, resource: string) => {
  const info = RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
  assert.ok(info, `${group}/${version} ${resource} is generated`);
  return info!;
};

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

test("pods have discovery's verbs, short name, category and subresources", () => {
  const pods = find("", "v1", "pods");
  assert.equal(pods.verbs, ALL_VERBS);
  assert.equal([pods.kind, pods.singularName, pods.namespaced], ["Pod", "pod", true]);
  assert.equal(pods.shortNames, ["po"]);
  assert.equal(pods.categories, ["all"]);
  const subs = Object.fromEntries(pods.subresources.map((s) => [s.name, s]));
  assert.equal(Object.keys(subs), [
    "attach",
    "binding",
    "ephemeralcontainers",
    "eviction",
    "exec",
    "log",
    "portforward",
    "proxy",
    "resize",
    "status",
  ]);
  assert.equal(subs.status, { name: "status", kind: "Pod", verbs: ["get", "patch", "update"] });
  assert.equal(subs.exec.verbs, ["create", "get"]);
  assert.equal(subs.attach.verbs, ["create", "get"]);
  assert.equal(subs.portforward.verbs, ["create", "get"]);
  assert.equal(subs.proxy.verbs, ["create", "delete", "get", "patch", "update"]);
  assert.equal(subs.log, { name: "log", kind: "Pod", verbs: ["get"] });
  assert.equal(subs.binding, { name: "binding", kind: "Binding", verbs: ["create"] });
  assert.equal(subs.eviction, {
    name: "eviction",
    kind: "Eviction",
    group: "policy",
    version: "v1",
    verbs: ["create"],
  });
});

test("scale subresources take Scale of autoscaling/v1", () => {
  for (const resource of ["deployments", "replicasets", "statefulsets"]) {
    const scale = find("apps", "v1", resource).subresources.find((s) => s.name === "scale");
    assert.equal(scale, {
      name: "scale",
      kind: "Scale",
      group: "autoscaling",
      version: "v1",
      verbs: ["get", "patch", "update"],
    });
  }
  const rcScale = find("", "v1", "replicationcontrollers").subresources.find((s) => s.name === "scale");
  assert.equal([rcScale?.kind, rcScale?.group], ["Scale", "autoscaling"]);
  const token = find("", "v1", "serviceaccounts").subresources.find((s) => s.name === "token");
  assert.equal(token, {
    name: "token",
    kind: "TokenRequest",
    group: "authentication.k8s.io",
    version: "v1",
    verbs: ["create"],
  });
});

test("verbs, scope and names of resources that are not plain CRUD", () => {
  assert.equal(find("", "v1", "bindings").verbs, ["create"]);
  assert.equal(find("", "v1", "componentstatuses").verbs, ["get", "list"]);
  const namespaces = find("", "v1", "namespaces");
  assert.equal(namespaces.namespaced, false);
  assert.equal(namespaces.verbs, ["create", "delete", "get", "list", "patch", "update", "watch"]);
  assert.equal(namespaces.subresources.map((s) => [s.name, s.verbs]), [["finalize", ["update"]], ["status", [
    "get",
    "patch",
    "update",
  ]]]);
  assert.equal(find("", "v1", "nodes").namespaced, false);
  assert.equal(find("", "v1", "endpoints").singularName, "endpoints");
  assert.equal(find("authorization.k8s.io", "v1", "localsubjectaccessreviews").namespaced, true);
  assert.equal(find("authorization.k8s.io", "v1", "subjectaccessreviews").verbs, ["create"]);
  assert.equal(find("authentication.k8s.io", "v1", "tokenreviews").namespaced, false);
  const csr = find("certificates.k8s.io", "v1", "certificatesigningrequests");
  assert.equal(csr.subresources.map((s) => s.name), ["approval", "status"]);
  assert.equal(csr.shortNames, ["csr"]);
});

test("short names and categories follow kubectl api-resources", () => {
  const expected: [string, string, string, string[] | undefined, string[] | undefined][] = [
    ["", "v1", "services", ["svc"], ["all"]],
    ["", "v1", "replicationcontrollers", ["rc"], ["all"]],
    ["", "v1", "persistentvolumeclaims", ["pvc"], undefined],
    ["", "v1", "resourcequotas", ["quota"], undefined],
    ["", "v1", "limitranges", ["limits"], undefined],
    ["", "v1", "secrets", undefined, undefined],
    ["apps", "v1", "deployments", ["deploy"], ["all"]],
    ["apps", "v1", "controllerrevisions", undefined, undefined],
    ["batch", "v1", "jobs", undefined, ["all"]],
    ["batch", "v1", "cronjobs", ["cj"], ["all"]],
    ["autoscaling", "v1", "horizontalpodautoscalers", ["hpa"], ["all"]],
    ["autoscaling", "v2", "horizontalpodautoscalers", ["hpa"], ["all"]],
    ["apiextensions.k8s.io", "v1", "customresourcedefinitions", ["crd", "crds"], ["api-extensions"]],
    ["apiregistration.k8s.io", "v1", "apiservices", undefined, ["api-extensions"]],
    ["admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", undefined, [
      "api-extensions",
    ]],
    ["networking.k8s.io", "v1", "networkpolicies", ["netpol"], undefined],
    ["scheduling.k8s.io", "v1", "priorityclasses", ["pc"], undefined],
    ["events.k8s.io", "v1", "events", ["ev"], undefined],
  ];
  for (const [group, version, resource, shortNames, categories] of expected) {
    const info = find(group, version, resource);
    assert.equal(info.shortNames, shortNames, `${resource} short names`);
    assert.equal(info.categories, categories, `${resource} categories`);
  }
});

test("every served group-version is present, resources sorted by name, each once", () => {
  const gvs = RESOURCES.map((r) => (r.group ? `${r.group}/${r.version}` : r.version));
  assert.equal([...new Set(gvs)], [...SERVED_GROUP_VERSIONS]);
  assert.equal(SERVED_GROUP_VERSIONS.length, 21);
  for (const gv of SERVED_GROUP_VERSIONS) {
    const names = RESOURCES.filter((r) => (r.group ? `${r.group}/${r.version}` : r.version) === gv)
      .map((r) => r.resource);
    assert.equal(names, [...names].sort(), `${gv} sorted`);
    assert.is(new Set(names).size, names.length, `${gv} unique`);
  }
  for (const r of RESOURCES) {
    assert.equal(r.verbs, [...r.verbs].sort(), `${r.resource} verbs sorted`);
    assert.is(r.singularName, r.kind.toLowerCase());
  }
});

test("parseResourcePath reads scope, subresources and deprecated watch paths", () => {
  const p = "/api/v1/";
  assert.equal(parseResourcePath(p, "/api/v1/namespaces/{namespace}/pods/{name}/status"), {
    resource: "pods",
    namespaced: true,
    subresource: "status",
    watch: false,
  });
  assert.equal(parseResourcePath(p, "/api/v1/namespaces/{name}"), {
    resource: "namespaces",
    namespaced: false,
    watch: false,
  });
  assert.equal(parseResourcePath(p, "/api/v1/watch/namespaces/{namespace}/pods"), {
    resource: "pods",
    namespaced: true,
    watch: true,
  });
  assert.equal(parseResourcePath(p, "/api/v1/nodes/{name}/proxy/{path}")?.subresource, "proxy");
  assert.is(parseResourcePath(p, "/api/v1/"), undefined);
  assert.is(parseResourcePath(p, "/apis/apps/v1/deployments"), undefined);
});

test("resourcesOf derives verbs from x-kubernetes-action, watch from the /watch/ paths, and applies facts", () => {
  const op = (action: string, kind = "Widget", group = "example.com") => ({
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group, version: "v1", kind },
  });
  const doc = {
    paths: {
      "/apis/example.com/v1/": { get: { operationId: "getAPIResources" } },
      "/apis/example.com/v1/widgets": { get: op("list") },
      "/apis/example.com/v1/namespaces/{namespace}/widgets": {
        get: { ...op("list"), parameters: [{ name: "limit" }, { name: "watch" }] },
        post: op("post"),
      },
      "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}": {
        parameters: [{ name: "name" }],
        get: op("get"),
        delete: op("delete"),
      },
      "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale": {
        get: op("get", "Scale", "autoscaling"),
        put: op("put", "Scale", "autoscaling"),
      },
      "/apis/example.com/v1/watch/namespaces/{namespace}/widgets": { get: op("watchlist") },
      "/apis/example.com/v1/gadgets": { post: op("post", "Gadget") },
      // A list taking `watch` does not make the verb; a /watch/ path does.
      "/apis/example.com/v1/sprockets": {
        get: { ...op("list", "Sprocket"), parameters: [{ name: "watch" }] },
      },
    },
  };
  const out = resourcesOf("example.com/v1", doc, {
    facts: { "example.com/widgets": { shortNames: ["wd"] } },
  });
  assert.equal(out, [
    {
      group: "example.com",
      version: "v1",
      resource: "gadgets",
      kind: "Gadget",
      singularName: "gadget",
      namespaced: false,
      verbs: ["create"],
      subresources: [],
    },
    {
      group: "example.com",
      version: "v1",
      resource: "sprockets",
      kind: "Sprocket",
      singularName: "sprocket",
      namespaced: false,
      verbs: ["list"],
      subresources: [],
    },
    {
      group: "example.com",
      version: "v1",
      resource: "widgets",
      kind: "Widget",
      singularName: "widget",
      namespaced: true,
      verbs: ["create", "delete", "get", "list", "watch"],
      subresources: [{
        name: "scale",
        kind: "Scale",
        group: "autoscaling",
        version: "v1",
        verbs: ["get", "update"],
      }],
      shortNames: ["wd"],
    },
  ]);
});

test("stripProse drops description and externalDocs but keeps properties so named", () => {
  const schema = {
    description: "prose",
    externalDocs: { url: "https://example.com" },
    properties: {
      description: { description: "more prose", type: "string" },
      items: { type: "array", items: { description: "x", type: "string" } },
    },
    required: ["description"],
  };
  assert.equal(stripProse(schema), {
    properties: { description: { type: "string" }, items: { type: "array", items: { type: "string" } } },
    required: ["description"],
  });
});

test("document names follow upstream", () => {
  assert.is(documentFileName("v1"), "api__v1_openapi.json");
  assert.is(
    documentFileName("rbac.authorization.k8s.io/v1"),
    "apis__rbac.authorization.k8s.io__v1_openapi.json",
  );
  assert.is(documentPath("v1"), "api/v1");
  assert.is(documentPath("apps/v1"), "apis/apps/v1");
});

test("generated documents carry no prose, stay small and keep what kubectl needs to skip /openapi/v2", async () => {
  const index: Record<string, { file: string; hash: string }> = JSON.parse(
    await Deno.readTextFile(new URL("index.json", GENERATED_V3)),
  );
  assert.equal(Object.keys(index), SERVED_GROUP_VERSIONS.map(documentPath));
  for (const [path, entry] of Object.entries(index)) {
    assert.match(entry.hash, /^[0-9A-F]{128}$/);
    const bytes = await Deno.readFile(new URL(entry.file, GENERATED_V3));
    assert.ok(bytes.length < 1024 * 1024, `${entry.file} under 1 MiB`);
    const text = new TextDecoder().decode(bytes);
    // A `description` key remains only as a property name, whose value is a schema, never prose.
    assert.not.match(text, /"description":"/, path);
    assert.not.match(text, /"externalDocs":\{"(url|description)"/, path);
    const doc = JSON.parse(text);
    let patches = 0;
    for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      const patch = item.patch as {
        parameters?: { name: string }[];
        "x-kubernetes-group-version-kind"?: unknown;
        "x-kubernetes-action"?: string;
      };
      // Connect operations (`…/proxy`) take options, not objects, and have no field validation.
      if (!patch || patch["x-kubernetes-action"] === "connect") continue;
      patches++;
      assert.ok(patch["x-kubernetes-group-version-kind"], `${p} PATCH has x-kubernetes-group-version-kind`);
      const params = [...(patch.parameters ?? []), ...((item.parameters as { name: string }[]) ?? [])];
      assert.ok(params.some((x) => x.name === "fieldValidation"), `${p} PATCH has fieldValidation`);
    }
    if (!["api/v1", "apis/authentication.k8s.io/v1", "apis/authorization.k8s.io/v1"].includes(path)) {
      assert.ok(patches > 0, `${path} has PATCH operations`);
    }
  }
  const scheduling = JSON.parse(
    await Deno.readTextFile(new URL(index["apis/scheduling.k8s.io/v1"].file, GENERATED_V3)),
  );
  const priorityClass = scheduling.components.schemas["io.k8s.api.scheduling.v1.PriorityClass"];
  assert.equal(priorityClass.properties.description, { type: "string" });
  const crds = JSON.parse(
    await Deno.readTextFile(new URL(index["apis/apiextensions.k8s.io/v1"].file, GENERATED_V3)),
  );
  const props =
    crds.components.schemas["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"];
  assert.ok(
    props.properties.description && props.properties.externalDocs,
    "JSONSchemaProps keeps its fields",
  );
});

test("the v2 document keeps what is served, without prose", async () => {
  const entry = JSON.parse(await Deno.readTextFile(new URL("./generated/v2/index.json", import.meta.url)));
  const bytes = await Deno.readFile(new URL(`./generated/v2/${entry.file}`, import.meta.url));
  assert.ok(bytes.length < 1024 * 1024, "under 1 MiB");
  assert.is(await sha512Hex(bytes), entry.hash);
  const text = new TextDecoder().decode(bytes);
  assert.not.match(text, /"description":"/);
  const doc = JSON.parse(text);
  for (const gv of SERVED_GROUP_VERSIONS) {
    const prefix = gv.includes("/") ? `/apis/${gv}/` : `/api/${gv}/`;
    assert.ok(Object.keys(doc.paths).some((p) => p.startsWith(prefix)), `${gv} paths kept`);
  }
  const patch = doc.paths["/api/v1/namespaces/{namespace}/pods/{name}"].patch;
  assert.equal(patch["x-kubernetes-group-version-kind"], { group: "", kind: "Pod", version: "v1" });
});

test("servedSwagger drops unserved group-versions and the definitions only they reach", () => {
  const doc = {
    swagger: "2.0",
    paths: {
      "/apis/": { get: {} },
      "/apis/a.io/": { get: {} },
      "/apis/a.io/v1/things": { get: { schema: { $ref: "#/definitions/a.v1.Thing" } } },
      "/apis/a.io/v1alpha1/things": { get: { schema: { $ref: "#/definitions/a.v1alpha1.Thing" } } },
      "/apis/b.io/": { get: {} },
      "/version/": { get: {} },
    },
    definitions: {
      "a.v1.Thing": { properties: { meta: { $ref: "#/definitions/Meta" } } },
      "a.v1alpha1.Thing": { properties: { meta: { $ref: "#/definitions/Meta" } } },
      Meta: { type: "object" },
      Param: { type: "string" },
    },
    parameters: { p: { schema: { $ref: "#/definitions/Param" } } },
  };
  const out = servedSwagger(doc, ["a.io/v1"]);
  assert.equal(Object.keys(out.paths), ["/apis/", "/apis/a.io/", "/apis/a.io/v1/things", "/version/"]);
  assert.equal(Object.keys(out.definitions!).sort(), ["Meta", "Param", "a.v1.Thing"]);
  assert.ok(isServedPath("/api/v1/pods") && !isServedPath("/apis/resource.k8s.io/v1beta1/deviceclasses"));
});

test("the generator is deterministic and the committed output is current", async () => {
  try {
    await Deno.stat(`${SHARED}/openapi/v3/api__v1_openapi.json`);
  } catch {
    console.warn(`Skipped: no Kubernetes documents at ${SHARED}`);
    return;
  }
  const out = await Deno.makeTempDir();
  try {
    await generate({ sharedDir: SHARED, outDir: out });
    const committed = new URL("./generated/", import.meta.url);
    assert.is(
      await Deno.readTextFile(`${out}/resources.ts`),
      await Deno.readTextFile(new URL("resources.ts", committed)),
    );
    for (const sub of ["v3", "v2"]) {
      const names: string[] = [];
      for await (const entry of Deno.readDir(`${out}/${sub}`)) {
        names.push(entry.name);
        const fresh = await Deno.readFile(`${out}/${sub}/${entry.name}`);
        const old = await Deno.readFile(new URL(`${sub}/${entry.name}`, committed));
        assert.ok(
          fresh.length === old.length && fresh.every((b, i) => b === old[i]),
          `${sub}/${entry.name} is current`,
        );
      }
      const committedNames: string[] = [];
      for await (const entry of Deno.readDir(new URL(`${sub}/`, committed))) committedNames.push(entry.name);
      assert.equal(committedNames.sort(), names.sort(), `${sub} holds no stale files`);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

test.run();
