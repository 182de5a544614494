import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadOpenApi } from "./serve.ts";
import { sha512Hex } from "./gen.ts";

const get = async (path: string, init?: RequestInit) => {
  const api = await loadOpenApi();
  return await api.handle(new Request(`https://127.0.0.1:6443${path}`, init));
};

test("/openapi/v3 lists every group-version's document by its hash", async () => {
  const res = (await get("/openapi/v3"))!;
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "application/json");
  const { paths } = await res.json();
  assert.ok(paths["api/v1"] && paths["apis/apps/v1"] && paths["apis/flowcontrol.apiserver.k8s.io/v1"]);
  assert.is(Object.keys(paths).length, 21);
  assert.match(paths["api/v1"].serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  assert.match(
    paths["apis/apps/v1"].serverRelativeURL,
    /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/,
  );
  assert.equal(Object.keys(paths), Object.keys(paths).sort(), "keys sorted, as Go marshals a map");
});

test("/openapi/v3 carries the SHA-512 of its bytes as ETag and answers If-None-Match with 304", async () => {
  const api = await loadOpenApi();
  const res = (await api.handle(new Request("https://x/openapi/v3")))!;
  const bytes = new Uint8Array(await res.arrayBuffer());
  const etag = res.headers.get("etag")!;
  assert.is(etag, `"${await sha512Hex(bytes)}"`);
  assert.is(res.headers.get("cache-control"), "no-cache, private");
  const cached =
    (await api.handle(new Request("https://x/openapi/v3", { headers: { "if-none-match": etag } })))!;
  assert.is(cached.status, 304);
  assert.is(cached.body, null);
});

test("a document by hash is immutable, its hash is the SHA-512 of its bytes, and If-None-Match gives 304", async () => {
  const api = await loadOpenApi();
  const { paths } = await (await api.handle(new Request("https://x/openapi/v3")))!.json();
  const url = paths["apis/apps/v1"].serverRelativeURL as string;
  const hash = url.split("hash=")[1];
  const res = (await api.handle(new Request(`https://x${url}`)))!;
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "application/json");
  assert.is(res.headers.get("cache-control"), "public, immutable");
  assert.is(res.headers.get("vary"), "Accept");
  const expires = Date.parse(res.headers.get("expires")!);
  assert.ok(expires - Date.now() > 364 * 24 * 3600 * 1000, "expires in a year");
  assert.is(res.headers.get("etag"), `"${hash}"`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.is(await sha512Hex(bytes), hash);
  const doc = JSON.parse(new TextDecoder().decode(bytes));
  assert.ok(doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]);

  const cached =
    (await api.handle(new Request(`https://x${url}`, { headers: { "if-none-match": `"${hash}"` } })))!;
  assert.is(cached.status, 304);
  assert.is(cached.body, null);
  const other =
    (await api.handle(new Request(`https://x${url}`, { headers: { "if-none-match": '"nope"' } })))!;
  assert.is(other.status, 200);
  await other.body?.cancel();
});

test("a document without a hash must be revalidated; a stale hash redirects to the current one", async () => {
  const res = (await get("/openapi/v3/api/v1"))!;
  assert.is(res.status, 200);
  assert.is(res.headers.get("cache-control"), "no-cache, private");
  assert.match(res.headers.get("etag")!, /^"[0-9A-F]{128}"$/);
  const doc = await res.json();
  assert.ok(doc.paths["/api/v1/namespaces/{namespace}/pods"]);
  assert.ok(doc.components.schemas["io.k8s.api.core.v1.Pod"]);

  const stale = (await get("/openapi/v3/api/v1?hash=ABC"))!;
  assert.is(stale.status, 301);
  assert.match(stale.headers.get("location")!, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
});

test("unknown group-versions under /openapi/v3/ are 404; other paths are not handled", async () => {
  const missing = (await get("/openapi/v3/apis/nope.example.com/v1"))!;
  assert.is(missing.status, 404);
  assert.is((await missing.json()).reason, "NotFound");
  assert.is((await get("/openapi/v3/apis/apps/v1beta1"))!.status, 404);
  assert.is(await get("/api/v1"), undefined);
  assert.is(await get("/apis/apps/v1"), undefined);
  assert.is(await get("/openapi"), undefined);
});

test("a document is served only as JSON: other Accept types get 406; HEAD gets headers only", async () => {
  const json = (await get("/openapi/v3/apis/batch/v1", { headers: { accept: "application/json" } }))!;
  assert.is(json.status, 200);
  await json.body?.cancel();
  const any = (await get("/openapi/v3/apis/batch/v1", { headers: { accept: "application/*;q=0.5" } }))!;
  assert.is(any.status, 200);
  await any.body?.cancel();
  const pb = (await get("/openapi/v3/apis/batch/v1", {
    headers: { accept: "application/com.github.proto-openapi.spec.v3.v1.0+protobuf" },
  }))!;
  assert.is(pb.status, 406);
  const head = (await get("/openapi/v3/apis/batch/v1", { method: "HEAD" }))!;
  assert.is(head.status, 200);
  assert.ok(Number(head.headers.get("content-length")) > 1000);
  assert.is(head.body, null);
});

test("/openapi/v2 is the prose-free JSON of what is served by default", async () => {
  const res = (await get("/openapi/v2"))!;
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "application/json");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.is(res.headers.get("etag"), `"${await sha512Hex(bytes)}"`);
  assert.ok(bytes.length < 1024 * 1024);
  const text = new TextDecoder().decode(bytes);
  assert.not.match(text, /"description":"/);
  const doc = JSON.parse(text);
  assert.is(doc.swagger, "2.0");
  const patch = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
  assert.equal(patch["x-kubernetes-group-version-kind"], {
    group: "apps",
    kind: "Deployment",
    version: "v1",
  });
  assert.ok(doc.definitions["io.k8s.api.apps.v1.Deployment"]);
  assert.ok(doc.definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]);
  assert.not.ok(
    Object.keys(doc.paths).some((p) => p.startsWith("/apis/resource.k8s.io/")),
    "no unserved groups",
  );
  assert.not.ok(Object.keys(doc.definitions).some((d) => d.includes(".v1alpha")), "no unserved definitions");
});

test("/openapi/v2 asked for in protobuf, as kubectl asks, answers with a protobuf document header", async () => {
  const res = (await get("/openapi/v2", {
    headers: { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" },
  }))!;
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal([...bytes.slice(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]); // swagger: "2.0"
  assert.is((await get("/openapi/v2", { headers: { accept: "text/html" } }))!.status, 406);
});

test("addDocument serves a new group-version's document by its hash; removeDocument withdraws it", async () => {
  const api = await loadOpenApi();
  const doc = { openapi: "3.0.0", paths: { "/apis/example.com/v1/widgets": {} } };
  await api.addDocument("apis/example.com/v1", doc);
  const { paths } = await (await api.handle(new Request("https://x/openapi/v3")))!.json();
  const url = paths["apis/example.com/v1"].serverRelativeURL as string;
  const hash = await sha512Hex(new TextEncoder().encode(JSON.stringify(doc)));
  assert.is(url, `/openapi/v3/apis/example.com/v1?hash=${hash}`);
  const res = (await api.handle(new Request(`https://x${url}`)))!;
  assert.equal(await res.json(), doc);
  assert.ok(await api.removeDocument("apis/example.com/v1"));
  assert.is((await api.handle(new Request(`https://x${url}`)))!.status, 404);
  const after = await (await api.handle(new Request("https://x/openapi/v3")))!.json();
  assert.not.ok(after.paths["apis/example.com/v1"]);
});

test("gzip-compressed documents are served decompressed, read only on first request", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const body = new TextEncoder().encode('{"openapi":"3.0.0","paths":{}}');
    const hash = await sha512Hex(body);
    const gz = new Uint8Array(
      await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
    const api = await loadOpenApi({ dir: new URL(`file://${dir}/`) });
    // Nothing is read at load: the index appears only after loadOpenApi returned.
    await Deno.mkdir(`${dir}/v3`);
    await Deno.writeTextFile(
      `${dir}/v3/index.json`,
      JSON.stringify({ "api/v1": { file: "api__v1_openapi.json.gz", hash } }),
    );
    await Deno.writeFile(`${dir}/v3/api__v1_openapi.json.gz`, gz);
    const res = (await api.handle(new Request(`https://x/openapi/v3/api/v1?hash=${hash}`)))!;
    assert.is(res.status, 200);
    assert.is(await res.text(), '{"openapi":"3.0.0","paths":{}}');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Synthetic model declarations (no upstream text) for the description tests; returns their directory. */
async function syntheticModels(): Promise<{ dir: URL; cleanup: () => Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "kubedeno-models-" });
  const model = (name: string, comment: string, props: [string, string][]) =>
    [
      "/**\n * Banner (generated by OpenAPI Generator).\n * Do not edit the class manually.\n */",
      `/**\n* ${comment}\n*/`,
      `export declare class ${name} {`,
      ...props.map(([prop, doc]) => `    /**\n    * ${doc}\n    */\n    '${prop}'?: string;`),
      "}",
    ].join("\n");
  await Deno.writeTextFile(
    `${path}/V1DeploymentSpec.d.ts`,
    model("V1DeploymentSpec", "Synthetic spec text.", [["replicas", "Synthetic replicas text."]]),
  );
  await Deno.writeTextFile(
    `${path}/V1ObjectMeta.d.ts`,
    model("V1ObjectMeta", "Synthetic meta text.", [["name", "Synthetic name text."]]),
  );
  return { dir: new URL(`file://${path}/`), cleanup: () => Deno.remove(path, { recursive: true }) };
}

test("the first /openapi/v3 request adds descriptions, served under the hashes of their new bytes; old hashes redirect", async () => {
  const { dir, cleanup } = await syntheticModels();
  try {
    const plain = await loadOpenApi({ descriptions: false });
    const before = (await (await plain.handle(new Request("https://x/openapi/v3")))!.json()).paths;
    const api = await loadOpenApi({ descriptions: dir });
    const root = (await api.handle(new Request("https://x/openapi/v3")))!;
    const after = (await root.json()).paths;
    assert.equal(Object.keys(after), Object.keys(before));
    assert.is.not(after["apis/apps/v1"].serverRelativeURL, before["apis/apps/v1"].serverRelativeURL);
    assert.is.not(
      after["api/v1"].serverRelativeURL,
      before["api/v1"].serverRelativeURL,
      "ObjectMeta is everywhere",
    );

    const url = after["apis/apps/v1"].serverRelativeURL as string;
    const res = (await api.handle(new Request(`https://x${url}`)))!;
    assert.is(res.status, 200);
    assert.is(res.headers.get("cache-control"), "public, immutable");
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.is(await sha512Hex(bytes), url.split("hash=")[1]);
    assert.is(res.headers.get("etag"), `"${url.split("hash=")[1]}"`);
    const schemas = JSON.parse(new TextDecoder().decode(bytes)).components.schemas;
    const spec = schemas["io.k8s.api.apps.v1.DeploymentSpec"];
    assert.is(spec.description, "Synthetic spec text.");
    assert.is(spec.properties.replicas.description, "Synthetic replicas text.");
    assert.is(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].description, "Synthetic meta text.");
    assert.is(schemas["io.k8s.api.apps.v1.Deployment"].description, undefined, "no model, no description");

    const stale = (await api.handle(new Request(`https://x${before["apis/apps/v1"].serverRelativeURL}`)))!;
    assert.is(stale.status, 301);
    assert.is(stale.headers.get("location"), url);
    // Once done, it is done: calling again changes nothing.
    await api.addDescriptions();
    assert.equal((await (await api.handle(new Request("https://x/openapi/v3")))!.json()).paths, after);
  } finally {
    await cleanup();
  }
});

test("descriptions start by themselves after describeAfterMs; without a package or when off, nothing changes", async () => {
  const { dir, cleanup } = await syntheticModels();
  try {
    const rootOf = async (api: Awaited<ReturnType<typeof loadOpenApi>>) =>
      (await (await api.handle(new Request("https://x/openapi/v3")))!.json()).paths;
    const plain = await rootOf(await loadOpenApi({ descriptions: false }));

    const timed = await loadOpenApi({ descriptions: dir, describeAfterMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await timed.addDescriptions(); // the pass the timer began
    assert.is.not(
      (await rootOf(timed))["apis/apps/v1"].serverRelativeURL,
      plain["apis/apps/v1"].serverRelativeURL,
    );

    const off = await loadOpenApi({ descriptions: false, describeAfterMs: 0 });
    await off.addDescriptions();
    assert.equal(await rootOf(off), plain);

    const missing = await loadOpenApi({
      descriptions: new URL("./no-such-package/", dir),
      describeAfterMs: -1,
    });
    await missing.addDescriptions();
    assert.equal(await rootOf(missing), plain);
    const doc = await (await missing.handle(new Request("https://x/openapi/v3/apis/apps/v1")))!.text();
    assert.not.match(doc, /"description"/);
  } finally {
    await cleanup();
  }
});

test("a document added after descriptions began is served enriched, by the hash of its bytes, and the caller's object is untouched", async () => {
  const { dir, cleanup } = await syntheticModels();
  try {
    const api = await loadOpenApi({ descriptions: dir, describeAfterMs: -1 });
    await api.addDescriptions();
    const meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    const doc = {
      components: {
        schemas: {
          "com.example.v1.Widget": {
            properties: { metadata: { allOf: [{ $ref: `#/components/schemas/${meta}` }] } },
            type: "object",
          },
          [meta]: { properties: { name: { type: "string" } }, type: "object" },
        },
      },
      openapi: "3.0.0",
      paths: {},
    };
    const copy = structuredClone(doc);
    await api.addDocument("apis/example.com/v1", doc);
    assert.equal(doc, copy);
    const { paths } = await (await api.handle(new Request("https://x/openapi/v3")))!.json();
    const url = paths["apis/example.com/v1"].serverRelativeURL as string;
    const res = (await api.handle(new Request(`https://x${url}`)))!;
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.is(await sha512Hex(bytes), url.split("hash=")[1]);
    const served = JSON.parse(new TextDecoder().decode(bytes));
    assert.is(served.components.schemas[meta].description, "Synthetic meta text.");
    assert.is(served.components.schemas[meta].properties.name.description, "Synthetic name text.");
    assert.equal(
      served.components.schemas["com.example.v1.Widget"],
      doc.components.schemas["com.example.v1.Widget"],
    );
  } finally {
    await cleanup();
  }
});

test("gzip-compressed generated documents are described too", async () => {
  const { dir: models, cleanup } = await syntheticModels();
  const dir = await Deno.makeTempDir();
  try {
    const meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    const body = new TextEncoder().encode(JSON.stringify({
      components: { schemas: { [meta]: { properties: { name: { type: "string" } }, type: "object" } } },
      openapi: "3.0.0",
      paths: {},
    }));
    const gz = new Uint8Array(
      await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
    await Deno.mkdir(`${dir}/v3`);
    await Deno.writeFile(`${dir}/v3/api__v1_openapi.json.gz`, gz);
    await Deno.writeTextFile(
      `${dir}/v3/index.json`,
      JSON.stringify({ "api/v1": { file: "api__v1_openapi.json.gz", hash: await sha512Hex(body) } }),
    );
    const api = await loadOpenApi({
      dir: new URL(`file://${dir}/`),
      descriptions: models,
      describeAfterMs: -1,
    });
    await api.addDescriptions();
    const { paths } = await (await api.handle(new Request("https://x/openapi/v3")))!.json();
    const url = paths["api/v1"].serverRelativeURL as string;
    assert.is.not(url.split("hash=")[1], await sha512Hex(body));
    const doc = await (await api.handle(new Request(`https://x${url}`)))!.json();
    assert.is(doc.components.schemas[meta].properties.name.description, "Synthetic name text.");
  } finally {
    await cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

test("by default, the installed @kubernetes/client-node's models describe the served kinds", async () => {
  const api = await loadOpenApi({ describeAfterMs: -1 });
  await api.addDescriptions();
  const doc = await (await api.handle(new Request("https://x/openapi/v3/apis/apps/v1")))!.json();
  const deployment = doc.components.schemas["io.k8s.api.apps.v1.Deployment"];
  try {
    await Deno.stat(new URL("../node_modules/@kubernetes/client-node/dist/gen/models/", import.meta.url));
  } catch {
    assert.is(deployment.description, undefined, "no package, no descriptions");
    return;
  }
  assert.type(deployment.description, "string");
  assert.type(
    doc.components.schemas["io.k8s.api.apps.v1.DeploymentSpec"].properties.replicas.description,
    "string",
  );
});

test.run();
