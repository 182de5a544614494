/**
 * Name, label and annotation rules with upstream's wording. The `is…` checks return the
 * problems of one value (empty when fine); the `validate…` ones return FieldErrors.
 */

import { field, type FieldError } from "./status.ts";

export type NameRule = "subdomain" | "label" | "dns1035" | "path-segment";

/** How each kind's names are checked (`group/resource`); unlisted kinds use DNS-1123 subdomains. */
export const NAME_RULES: Record<string, NameRule> = {
  "/namespaces": "label",
  "/services": "dns1035",
  "rbac.authorization.k8s.io/roles": "path-segment",
  "rbac.authorization.k8s.io/clusterroles": "path-segment",
  "rbac.authorization.k8s.io/rolebindings": "path-segment",
  "rbac.authorization.k8s.io/clusterrolebindings": "path-segment",
};

const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;

const full = (re: string) => new RegExp(`^${re}$`);
const reLabel = full(DNS1123_LABEL);
const reSubdomain = full(DNS1123_SUBDOMAIN);
const re1035 = full(DNS1035_LABEL);
const reQualified = full(QUALIFIED_NAME);
const reLabelValue = full(LABEL_VALUE);

function maxLen(n: number): string {
  return `must be no more than ${n} characters`;
}

function regexError(what: string, re: string, examples: string[]): string {
  return `${what} (e.g. ${examples.map((e) => `'${e}'`).join(",  or ")}, regex used for validation is '${re}')`;
}

/** The problems of `v` against a length limit and a pattern, worded as upstream words them. */
function checkFormat(v: string, maxLength: number, re: RegExp, what: string, pattern: string, examples: string[]): string[] {
  const errs: string[] = [];
  if (v.length > maxLength) errs.push(maxLen(maxLength));
  if (!re.test(v)) errs.push(regexError(what, pattern, examples));
  return errs;
}

export function isDNS1123Label(v: string): string[] {
  return checkFormat(
    v,
    63,
    reLabel,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    DNS1123_LABEL,
    ["my-name", "123-abc"],
  );
}

export function isDNS1123Subdomain(v: string): string[] {
  return checkFormat(
    v,
    253,
    reSubdomain,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    DNS1123_SUBDOMAIN,
    ["example.com"],
  );
}

export function isDNS1035Label(v: string): string[] {
  return checkFormat(
    v,
    63,
    re1035,
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
    DNS1035_LABEL,
    ["my-name", "abc-123"],
  );
}

/** Label and annotation keys: `[prefix/]name`, the prefix a DNS subdomain. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split("/");
  let name = v;
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [
      "a qualified name " + regexError(
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        QUALIFIED_NAME,
        ["MyName", "my.name", "123-abc"],
      ) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  if (name.length && !reQualified.test(name)) {
    errs.push("name part " + regexError(
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      QUALIFIED_NAME,
      ["MyName", "my.name", "123-abc"],
    ));
  }
  return errs;
}

export function isValidLabelValue(v: string): string[] {
  return checkFormat(
    v,
    63,
    reLabelValue,
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    LABEL_VALUE,
    ["MyValue", "my_value", "12345"],
  );
}

function pathSegmentProblems(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ["/", "%"]) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** Checks an object's name by its kind's rule. */
export function validateObjectMetaName(rule: NameRule, name: string, path: string): FieldError[] {
  const problems = rule === "label"
    ? isDNS1123Label(name)
    : rule === "dns1035"
    ? isDNS1035Label(name)
    : rule === "path-segment"
    ? pathSegmentProblems(name)
    : isDNS1123Subdomain(name);
  return problems.map((p) => field.invalid(path, name, p));
}

function isStringMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === null || labels === undefined) return [];
  if (!isStringMap(labels)) return [field.typeInvalid(path, labels, "must be a map of string keys to string values")];
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const p of isQualifiedName(k)) errors.push(field.invalid(path, k, p));
    if (typeof v !== "string") errors.push(field.typeInvalid(`${path}`, v, "must be a string"));
    else for (const p of isValidLabelValue(v)) errors.push(field.invalid(path, v, p));
  }
  return errors;
}

/** The most bytes all annotations of one object may take. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (annotations === null || annotations === undefined) return [];
  if (!isStringMap(annotations)) return [field.typeInvalid(path, annotations, "must be a map of string keys to string values")];
  const errors: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const p of isQualifiedName(k.toLowerCase())) errors.push(field.invalid(path, k, p));
    size += k.length + (typeof v === "string" ? v.length : 0);
    if (typeof v !== "string") errors.push(field.typeInvalid(path, v, "must be a string"));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errors.push({ type: "FieldValueTooLong", field: path, detail: `must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  }
  return errors;
}

export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  if (finalizers === null || finalizers === undefined) return [];
  if (!Array.isArray(finalizers)) return [field.typeInvalid(path, finalizers, "must be a list of strings")];
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  finalizers.forEach((f, i) => {
    if (typeof f !== "string") {
      errors.push(field.typeInvalid(`${path}[${i}]`, f, "must be a string"));
      return;
    }
    for (const p of isQualifiedName(f)) errors.push(field.invalid(`${path}[${i}]`, f, p));
    if (seen.has(f)) errors.push(field.duplicate(`${path}[${i}]`, f));
    seen.add(f);
  });
  return errors;
}
