import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadSchemas } from "./schema.ts";
import { jsonFieldProblems, pruneUnknownFields, typeProblem, warningHeader } from "./field_validation.ts";

const schemas = await loadSchemas();
const deployment = schemas.refForKind("apps", "v1", "Deployment")!;

// The body upstream's field-validation tests use: duplicates and unknowns at several depths.
const INVALID = `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "dupename", "name": "web", "labels": {"app": "nginx"}, "unknownMeta": "metaVal"},
  "spec": {
    "unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
    "paused": true, "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{
      "name": "nginx", "image": "nginx:latest", "unknownNested": "val1",
      "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}
  }
}`;

test("JSON bodies: unknown and duplicate fields in document order, an unknown duplicate once", () => {
  assert.equal(jsonFieldProblems(INVALID, deployment, schemas), [
    'duplicate field "metadata.name"',
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
    'duplicate field "spec.paused"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
  ]);
});

test("JSON bodies: escapes in keys and values are read as JSON reads them", () => {
  // "na\u006de" is "name"; quotes and backslashes inside values do not end them early.
  const text = String.raw`{"metadata": {"name": "a\"b\\", "na\u006de": "c", "labels": {"k\"": "v\\\""}},
    "spec": {"replicas": 1, "paus\u0065d": true, "unknown\"x": "\\"}}`;
  assert.equal(JSON.parse(text).metadata.labels, { 'k"': 'v\\"' });
  assert.equal(jsonFieldProblems(text, deployment, schemas), [
    'duplicate field "metadata.name"',
    'unknown field "spec.unknown\\"x"',
  ]);
});

test("maps take any key; free-form fields take anything", () => {
  const cm = `{"metadata": {"name": "x", "annotations": {"anything": "goes"}}, "data": {"k": "v"}}`;
  assert.equal(jsonFieldProblems(cm, schemas.refForKind("", "v1", "ConfigMap"), schemas), []);
  const crd =
    `{"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "default": {"any": {"thing": 1}}}}}]}}`;
  assert.equal(
    jsonFieldProblems(
      crd,
      schemas.refForKind("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
      schemas,
    ),
    [],
  );
});

test("pruning drops unknown fields and null struct fields, listing them in sorted order", () => {
  const obj = JSON.parse(INVALID);
  const pruned = pruneUnknownFields(obj, deployment, schemas);
  assert.equal(pruned, [
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
  ]);
  assert.is(obj.spec.unknown1, undefined);
  assert.is(obj.spec.template.spec.containers[0].unknownNested, undefined);
  assert.is(obj.spec.paused, false);
  const withNull = { metadata: { name: "x", labels: null }, spec: { replicas: null } };
  pruneUnknownFields(withNull, deployment, schemas);
  assert.equal(withNull, { metadata: { name: "x" }, spec: {} });
});

test("values of the wrong type are refused as Go's decoder words it", () => {
  assert.is(
    typeProblem({ spec: { replicas: "3" } }, deployment, schemas),
    "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
  );
  assert.is(
    typeProblem(
      { spec: { template: { spec: { containers: [{ name: "a", env: [{ name: "A", value: 1 }] }] } } } },
      deployment,
      schemas,
    ),
    "json: cannot unmarshal number into Go struct field EnvVar.spec.template.spec.containers.env.value of type string",
  );
  assert.is(
    typeProblem({ spec: { replicas: 1.5 } }, deployment, schemas),
    "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
  );
  assert.is(
    typeProblem({ metadata: { labels: { a: 1 } } }, deployment, schemas),
    "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
  );
  assert.is(
    typeProblem({ spec: { template: { spec: { containers: "x" } } } }, deployment, schemas),
    "json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
  );
  assert.match(
    typeProblem(
      { spec: { template: { spec: { containers: [{ resources: { limits: { cpu: "lots" } } }] } } } },
      deployment,
      schemas,
    )!,
    /^quantities must match the regular expression/,
  );
  assert.is(
    typeProblem({ spec: { strategy: { rollingUpdate: { maxSurge: "25%" } } } }, deployment, schemas),
    undefined,
  );
  assert.is(
    typeProblem({ spec: { strategy: { rollingUpdate: { maxSurge: 2 } } } }, deployment, schemas),
    undefined,
  );
  assert.is(
    typeProblem({ data: { k: "not base64!" } }, schemas.refForKind("", "v1", "Secret"), schemas),
    "illegal base64 data at input byte 3",
  );
  assert.is(
    typeProblem({ data: { k: "aGVsbG8=" } }, schemas.refForKind("", "v1", "Secret"), schemas),
    undefined,
  );
  assert.is(
    typeProblem(
      { spec: { replicas: 3, paused: true }, metadata: { labels: { a: "b" } } },
      deployment,
      schemas,
    ),
    undefined,
  );
});

test("warnings are 299 headers with each text quoted", () => {
  assert.is(warningHeader(['unknown field "spec.x"', "b"]), '299 - "unknown field \\"spec.x\\"", 299 - "b"');
});

test.run();
