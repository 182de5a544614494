import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  NAME_RULES,
  nameRuleOf,
  regexError,
  validateAnnotations,
  validateFinalizers,
  validateLabels,
  validateObjectMetaName,
} from "./validation.ts";
import { fieldErrorString, invalid } from "./status.ts";

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test("regexError words examples as upstream does", () => {
  assert.is(regexError("m", "re"), "m (regex used for validation is 're')");
  assert.is(regexError("m", "re", "a"), "m (e.g. 'a', regex used for validation is 're')");
  assert.is(regexError("m", "re", "a", "b"), "m (e.g. 'a',  or 'b', regex used for validation is 're')");
});

test("DNS-1123 subdomains", () => {
  for (const ok of ["a", "ab", "a-b", "0", "a.b", "1.2.3", "example.com", "a".repeat(253)]) {
    assert.equal(isDNS1123Subdomain(ok), [], ok);
  }
  for (const bad of ["", "A", "a_b", "-a", "a-", ".a", "a.", "a..b", "a b", "a.-b"]) {
    assert.equal(isDNS1123Subdomain(bad), [SUBDOMAIN_MSG], bad);
  }
  assert.equal(isDNS1123Subdomain("a".repeat(254)), ["must be no more than 253 characters"]);
  assert.equal(isDNS1123Subdomain("A".repeat(254)), ["must be no more than 253 characters", SUBDOMAIN_MSG]);
});

test("DNS-1123 labels say when dots are the only problem", () => {
  for (const ok of ["a", "my-name", "123-abc", "a".repeat(63)]) assert.equal(isDNS1123Label(ok), [], ok);
  assert.equal(isDNS1123Label("a.b"), ["must not contain dots"]);
  assert.equal(isDNS1123Label("Bad"), [LABEL_MSG]);
  assert.equal(isDNS1123Label(""), [LABEL_MSG]);
  assert.equal(isDNS1123Label("a".repeat(64)), ["must be no more than 63 characters"]);
});

test("DNS-1035 labels must start with a letter", () => {
  assert.equal(isDNS1035Label("my-name"), []);
  assert.equal(isDNS1035Label("abc-123"), []);
  assert.equal(isDNS1035Label("1abc"), [DNS1035_MSG]);
  assert.equal(isDNS1035Label("a.b"), [DNS1035_MSG]);
  assert.equal(isDNS1035Label("a".repeat(64)), ["must be no more than 63 characters"]);
});

test("qualified names: prefix and name part", () => {
  for (
    const ok of [
      "simple",
      "now-with-dashes",
      "1-starts-with-num",
      "1234",
      "simple/simple",
      "now-with-dashes/simple",
      "example.com/My.Name",
      "a.b.c/Aa_b",
      "x/" + "a".repeat(63),
      "a".repeat(253) + "/a",
    ]
  ) {
    assert.equal(isQualifiedName(ok), [], ok);
  }
  assert.equal(isQualifiedName("bad key"), [NAME_PART_MSG]);
  assert.equal(isQualifiedName("-x"), [NAME_PART_MSG]);
  assert.equal(isQualifiedName("a".repeat(64)), ["name part must be no more than 63 characters"]);
  assert.equal(isQualifiedName(""), ["name part must be non-empty", NAME_PART_MSG]);
  assert.equal(isQualifiedName("/a"), ["prefix part must be non-empty"]);
  assert.equal(isQualifiedName("a/"), ["name part must be non-empty", NAME_PART_MSG]);
  assert.equal(isQualifiedName("Example.com/a"), [`prefix part ${SUBDOMAIN_MSG}`]);
  assert.equal(isQualifiedName("a/b/c"), [
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
  ]);
});

test("label values may be empty", () => {
  for (
    const ok of [
      "",
      "simple",
      "now-with-dashes",
      "1-starts-with-num",
      "end-with-num-1",
      "1234",
      "a".repeat(63),
      "My_Value.1",
    ]
  ) {
    assert.equal(isValidLabelValue(ok), [], ok);
  }
  for (
    const bad of [
      "nospecialchars%^=@",
      "Tama-nui-te-rā.is.Māori.sun",
      "\\backslashes\\are\\bad",
      "-starts-with-dash",
      "ends-with-dash-",
      ".starts.with.dot",
      "ends.with.dot.",
      "a b",
    ]
  ) {
    assert.equal(isValidLabelValue(bad), [LABEL_VALUE_MSG], bad);
  }
  assert.equal(isValidLabelValue("a".repeat(64)), ["must be no more than 63 characters"]);
  // Go counts bytes: 32 two-byte characters are 64 bytes.
  assert.equal(isValidLabelValue("ā".repeat(32)), ["must be no more than 63 characters", LABEL_VALUE_MSG]);
});

test("object names by rule, one error per problem", () => {
  const [err] = validateObjectMetaName("subdomain", "Bad_Name", "metadata.name");
  assert.is(fieldErrorString(err), `metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`);
  assert.equal(validateObjectMetaName("subdomain", "web.example", "metadata.name"), []);
  assert.equal(
    validateObjectMetaName("subdomain", "B".repeat(254), "metadata.name").map((e) => e.detail),
    ["must be no more than 253 characters", SUBDOMAIN_MSG],
  );
  assert.equal(validateObjectMetaName("label", "a.b", "metadata.name").map((e) => e.detail), [
    "must not contain dots",
  ]);
  assert.equal(validateObjectMetaName("label", "Ns", "metadata.name").map((e) => e.detail), [LABEL_MSG]);
  assert.equal(validateObjectMetaName("dns1035", "1svc", "metadata.name").map((e) => e.detail), [
    DNS1035_MSG,
  ]);
  assert.equal(validateObjectMetaName("path-segment", "system:admin", "metadata.name"), []);
  assert.equal(validateObjectMetaName("path-segment", "..", "metadata.name").map((e) => e.detail), [
    "may not be '..'",
  ]);
  assert.equal(validateObjectMetaName("path-segment", ".", "metadata.name").map((e) => e.detail), [
    "may not be '.'",
  ]);
  assert.equal(
    validateObjectMetaName("path-segment", "a/b%c", "metadata.name").map((e) => e.detail),
    ["may not contain '/'", "may not contain '%'"],
  );
  const e = invalid(
    "",
    "ConfigMap",
    "Bad_Name",
    validateObjectMetaName("subdomain", "Bad_Name", "metadata.name"),
  );
  assert.is(
    e.message,
    `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`,
  );
});

test("generateName prefixes may end in a dash", () => {
  assert.equal(validateObjectMetaName("subdomain", "web-", "metadata.generateName", { prefix: true }), []);
  assert.equal(validateObjectMetaName("label", "x-", "metadata.generateName", { prefix: true }), []);
  assert.is(validateObjectMetaName("subdomain", "web-", "metadata.name").length, 1);
  assert.equal(validateObjectMetaName("path-segment", "..", "metadata.generateName", { prefix: true }), []);
});

test("NAME_RULES covers the kinds with their own rule", () => {
  assert.is(NAME_RULES["/namespaces"], "label");
  assert.is(NAME_RULES["/services"], "dns1035");
  for (const r of ["roles", "clusterroles", "rolebindings", "clusterrolebindings"]) {
    assert.is(NAME_RULES[`rbac.authorization.k8s.io/${r}`], "path-segment", r);
  }
  assert.is(nameRuleOf("", "nodes"), "subdomain");
  assert.is(nameRuleOf("", "serviceaccounts"), "subdomain");
  assert.is(nameRuleOf("apps", "deployments"), "subdomain");
  assert.is(nameRuleOf("", "namespaces"), "label");
});

test("labels: keys and values", () => {
  assert.equal(validateLabels({ app: "web", "example.com/tier": "" }, "metadata.labels"), []);
  assert.equal(validateLabels(undefined, "metadata.labels"), []);
  const errs = validateLabels({ "bad key": "ok", good: "-bad" }, "metadata.labels").map(fieldErrorString);
  assert.equal(errs, [
    `metadata.labels: Invalid value: "bad key": ${NAME_PART_MSG}`,
    `metadata.labels: Invalid value: "-bad": ${LABEL_VALUE_MSG}`,
  ]);
  assert.is(validateLabels({ a: 1 }, "metadata.labels")[0].type, "FieldValueTypeInvalid");
  assert.is(validateLabels(["a"], "metadata.labels")[0].type, "FieldValueTypeInvalid");
});

test("annotations: keys checked lower-cased, total size limited", () => {
  assert.equal(
    validateAnnotations({ "Example.COM/Key": "any value at all: ünïcode", A: "" }, "metadata.annotations"),
    [],
  );
  assert.equal(
    validateAnnotations({ "a/b/c": "x" }, "metadata.annotations").map((e) => e.value),
    ["a/b/c"],
  );
  assert.equal(validateAnnotations({ k: "x".repeat(262144 - 1) }, "metadata.annotations"), []);
  const tooBig = validateAnnotations({ k: "x".repeat(262144) }, "metadata.annotations");
  assert.equal(tooBig.map(fieldErrorString), [
    "metadata.annotations: Too long: may not be more than 262144 bytes",
  ]);
  // Bytes, not characters.
  assert.is(validateAnnotations({ k: "ā".repeat(131072) }, "metadata.annotations").length, 1);
});

test("finalizers: qualified names, orphan with foregroundDeletion refused", () => {
  assert.equal(
    validateFinalizers(
      ["kubernetes.io/pvc-protection", "foregroundDeletion", "custom"],
      "metadata.finalizers",
    ),
    [],
  );
  assert.equal(
    validateFinalizers(["a/b/c"], "metadata.finalizers").map((e) => e.field),
    ["metadata.finalizers"],
  );
  const both = validateFinalizers(["orphan", "foregroundDeletion"], "metadata.finalizers");
  assert.equal(both.map((e) => e.detail), ["finalizer orphan and foregroundDeletion cannot be both set"]);
  const builtin = validateFinalizers(["custom", "kubernetes", "example.com/x"], "metadata.finalizers", {
    builtin: true,
  });
  assert.equal(builtin.map(fieldErrorString), [
    `metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified`,
  ]);
  assert.is(validateFinalizers("x", "metadata.finalizers")[0].type, "FieldValueTypeInvalid");
});

test.run();
