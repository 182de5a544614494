/**
 * Throws 10,000 random and mutated patches of all four patch types at an in-process server.
 * Every answer must be a 2xx, or a 4xx carrying a Status; never a 5xx or a crash. Every so often
 * each object is read back and written back unchanged, which must succeed: what is stored stays
 * valid. The seed is printed so a failure can be replayed (KUBEDENO_FUZZ_SEED).
 */

import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer } from "./test_server.ts";

const ROUNDS = Number(Deno.env.get("KUBEDENO_FUZZ_ROUNDS") ?? 10_000);
const SEED = Number(Deno.env.get("KUBEDENO_FUZZ_SEED") ?? Date.now() % 1_000_000);

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
const chance = (p: number) => rand() < p;

type Json = unknown;

const KEYS = [
  "spec",
  "metadata",
  "labels",
  "annotations",
  "replicas",
  "template",
  "containers",
  "name",
  "image",
  "env",
  "ports",
  "containerPort",
  "protocol",
  "value",
  "selector",
  "matchLabels",
  "data",
  "type",
  "finalizers",
  "volumes",
  "emptyDir",
  "configMap",
  "resources",
  "limits",
  "cpu",
  "status",
  "x",
  "",
  "$patch",
  "$retainKeys",
  "$setElementOrder/containers",
  "$deleteFromPrimitiveList/finalizers",
  "a/b",
  "~0",
];

function randomScalar(): Json {
  return pick<Json>([
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 40,
    "",
    "x",
    "web",
    "nginx:1.27",
    "replace",
    "delete",
    "merge",
    "100m",
    "TCP",
    "é✓",
    "a".repeat(300),
  ]);
}

function randomValue(depth = 0): Json {
  if (depth > 3 || chance(0.5)) return randomScalar();
  if (chance(0.5)) {
    const out: Record<string, Json> = {};
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) out[pick(KEYS)] = randomValue(depth + 1);
    return out;
  }
  return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(depth + 1));
}

/** Every path (as keys) to a value inside `v`. */
function paths(
  v: Json,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  }
  return out;
}

/** A merge-style patch: a copy of part of the object with random edits. */
function mutatedPatch(obj: Json): Json {
  const root: Record<string, Json> = {};
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const path = pick(paths(obj)).filter((p) => typeof p === "string") as string[];
    let at = root;
    for (const key of path.slice(0, -1)) {
      const next = at[key];
      at = next !== null && typeof next === "object" && !Array.isArray(next)
        ? next as Record<string, Json>
        : (at[key] = {});
    }
    const last = path[path.length - 1] ?? pick(KEYS);
    at[chance(0.2) ? pick(KEYS) : last] = randomValue();
  }
  return root;
}

function jsonPointer(path: (string | number)[]): string {
  return path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

function jsonPatch(obj: Json): Json {
  return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => {
    const path = chance(0.8) ? jsonPointer(pick(paths(obj))) : pick(["", "/", "/nope/x", "/spec/-", "x"]);
    const op = pick(["add", "remove", "replace", "move", "copy", "test", "bogus"]);
    const o: Record<string, Json> = { op, path };
    if (op === "move" || op === "copy") o.from = jsonPointer(pick(paths(obj)));
    if (op !== "remove" || chance(0.1)) o.value = randomValue();
    return o;
  });
}

function applyConfig(obj: Record<string, Json>): Json {
  const config = JSON.parse(JSON.stringify(obj));
  delete config.status;
  if (config.metadata) {
    for (const k of ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"]) {
      delete config.metadata[k];
    }
  }
  const edited = mutatedPatch(config) as Record<string, Json>;
  const merged = { ...config, ...edited };
  if (chance(0.1)) delete merged.apiVersion;
  if (chance(0.1)) delete merged.kind;
  return merged;
}

/** Bytes that are not a valid document of the type they claim. */
function garbage(): string {
  return pick(["", "{", "[", "null", "42", '"x"', '{"a":}', "\u0000\u0001", "---\n- a\n- b", "{}".repeat(3)]);
}

const OBJECTS: { path: string; body: Record<string, Json> }[] = [
  {
    path: "/apis/apps/v1/namespaces/default/deployments",
    body: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", labels: { app: "web" }, annotations: { note: "x" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [{
              name: "web",
              image: "nginx:1.27",
              env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
              ports: [{ containerPort: 80, protocol: "TCP" }],
              resources: { limits: { cpu: "500m" }, requests: { cpu: "100m" } },
            }],
            volumes: [{ name: "cache", emptyDir: {} }],
          },
        },
      },
    },
  },
  {
    path: "/api/v1/namespaces/default/configmaps",
    body: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "conf", finalizers: ["example.com/x"] },
      data: { a: "1" },
    },
  },
  {
    path: "/api/v1/namespaces/default/services",
    body: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    },
  },
  {
    path: "/api/v1/namespaces/default/pods",
    body: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "pod" },
      spec: { containers: [{ name: "c", image: "busybox", command: ["sleep", "1"] }] },
    },
  },
];

const CONTENT_TYPES = [
  "application/merge-patch+json",
  "application/json-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
];

test(`${ROUNDS} random patches: no 5xx, every refusal a Status, stored objects stay valid (seed ${SEED})`, async () => {
  console.log(`fuzz seed ${SEED}`);
  const s = await startTestServer();
  try {
    for (const o of OBJECTS) {
      const res = await s.call("POST", o.path, o.body);
      assert.is(res.status, 201, `create ${o.path}: ${await res.text()}`);
    }
    const codes = new Map<number, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const target = pick(OBJECTS);
      const url = `${target.path}/${target.body.metadata && (target.body.metadata as { name: string }).name}`;
      const current = await (await s.call("GET", url)).json();
      const type = pick(CONTENT_TYPES);
      let body: string;
      if (chance(0.05)) body = garbage();
      else if (type === "application/json-patch+json") body = JSON.stringify(jsonPatch(current));
      else if (type === "application/apply-patch+yaml") body = JSON.stringify(applyConfig(current));
      else body = JSON.stringify(mutatedPatch(current));
      const query = [
        type === "application/apply-patch+yaml" && chance(0.9) ? "fieldManager=fuzz" : "",
        chance(0.2) ? `fieldValidation=${pick(["Strict", "Warn", "Ignore"])}` : "",
        chance(0.1) ? "force=true" : "",
        chance(0.1) ? "dryRun=All" : "",
      ].filter(Boolean).join("&");
      const subresource = chance(0.1) ? pick(["/status", "/scale"]) : "";
      const res = await s.call("PATCH", `${url}${subresource}${query ? `?${query}` : ""}`, body, {
        "content-type": type,
      });
      const text = await res.text();
      codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
      const replay = `round ${round}, seed ${SEED}: PATCH ${url}${subresource}?${query} (${type}) ${body}`;
      assert.ok(res.status < 500, `${replay} → ${res.status} ${text}`);
      if (res.status >= 400) {
        const status = JSON.parse(text);
        assert.is(status.kind, "Status", `${replay} → ${text}`);
        assert.is(status.code, res.status, replay);
      }
      if (round % 100 === 99) {
        for (const o of OBJECTS) {
          const u = `${o.path}/${(o.body.metadata as { name: string }).name}`;
          const stored = await (await s.call("GET", u)).json();
          const put = await s.call("PUT", u, stored);
          assert.is(
            put.status,
            200,
            `round ${round}, seed ${SEED}: rewriting ${u} unchanged: ${await put.text()}`,
          );
        }
      }
    }
    console.log(`answers: ${[...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}×${n}`).join(" ")}`);
  } finally {
    await s.close();
  }
});

test.run();
