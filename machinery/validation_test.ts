import { test } from "uvu";
import * as assert from "uvu/assert";
import { isDNS1035Label, isDNS1123Label, isQualifiedName, isValidLabelValue, validateObjectMetaName } from "./validation.ts";
import { fieldErrorString } from "./status.ts";
import { labelSelectorString, matchesLabels, parseLabelSelector, selectorFromLabelSelector } from "./labels.ts";
import { fieldsOf, matchesFields, parseFieldSelector } from "./fields.ts";

test("names are checked with upstream's wording", () => {
  const [err] = validateObjectMetaName("subdomain", "Bad_Name", "metadata.name");
  assert.is(
    fieldErrorString(err),
    `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  );
  assert.equal(isDNS1123Label("a".repeat(64)), ["must be no more than 63 characters"]);
  assert.equal(isDNS1123Label("ok-name"), []);
  assert.is(isDNS1035Label("1abc").length, 1);
  assert.equal(validateObjectMetaName("path-segment", "a/b", "metadata.name").map((e) => e.detail), ["may not contain '/'"]);
  assert.equal(validateObjectMetaName("path-segment", "..", "metadata.name").map((e) => e.detail), ["may not be '..'"]);
  assert.equal(isQualifiedName("example.com/My.Name"), []);
  assert.is(isQualifiedName("bad key").length, 1);
  assert.equal(isValidLabelValue(""), []);
  assert.is(isValidLabelValue("-x").length, 1);
});

test("label selectors parse, match and print", () => {
  const sel = parseLabelSelector("app=web, tier in (a,b),!canary,env!=prod,team");
  assert.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "c", team: "x" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x", canary: "1" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x", env: "prod" }));
  assert.is(labelSelectorString(sel), "app=web,tier in (a,b),!canary,env!=prod,team");
  assert.throws(() => parseLabelSelector("a in ("), /unable to parse requirement/);
  assert.throws(() => parseLabelSelector("a=b=c"), /unable to parse requirement/);
  assert.is(selectorFromLabelSelector(null), null);
  assert.ok(matchesLabels(selectorFromLabelSelector({})!, {}));
  const obj = selectorFromLabelSelector({ matchLabels: { a: "1" }, matchExpressions: [{ key: "b", operator: "NotIn", values: ["x"] }] })!;
  assert.ok(matchesLabels(obj, { a: "1" }));
  assert.not.ok(matchesLabels(obj, { a: "1", b: "x" }));
});

test("field selectors parse escapes and match the kind's fields", () => {
  const sel = parseFieldSelector("metadata.name=a\\,b,status.phase!=Running");
  assert.equal(sel.requirements, [
    { field: "metadata.name", operator: "=", value: "a,b" },
    { field: "status.phase", operator: "!=", value: "Running" },
  ]);
  const pod = { metadata: { name: "a,b", namespace: "d" }, spec: { nodeName: "n1" }, status: { phase: "Pending" } };
  assert.ok(matchesFields(sel, fieldsOf("", "pods", pod)));
  assert.is(fieldsOf("", "pods", pod)["spec.nodeName"], "n1");
  assert.is(fieldsOf("", "events", { involvedObject: { uid: "u" } })["involvedObject.uid"], "u");
  assert.throws(() => parseFieldSelector("nonsense"), /invalid selector/);
});

test.run();
