/**
 * Name, label, annotation and finalizer rules with kube-apiserver's wording. The `is…` checks
 * return the problems of one value (empty when it is fine); the `validate…` ones turn those
 * problems into FieldErrors, one per problem, as upstream does.
 */

import { field, type FieldError } from "./status.ts";

/** How a kind's object names are checked. */
export type NameRule = "subdomain" | "label" | "dns1035" | "path-segment";

/**
 * The name rule of each kind that does not use the default, keyed `group/resource`
 * (`/namespaces` for the core group). Kinds not listed use DNS-1123 subdomains.
 */
export const NAME_RULES: Record<string, NameRule> = {
  "/namespaces": "label",
  "/services": "dns1035",
  "rbac.authorization.k8s.io/roles": "path-segment",
  "rbac.authorization.k8s.io/clusterroles": "path-segment",
  "rbac.authorization.k8s.io/rolebindings": "path-segment",
  "rbac.authorization.k8s.io/clusterrolebindings": "path-segment",
};

/** The name rule of a kind: its NAME_RULES entry, else `subdomain`. */
export function nameRuleOf(group: string, resource: string): NameRule {
  return NAME_RULES[`${group}/${resource}`] ?? "subdomain";
}

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;

const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** The longest DNS-1123 label (and DNS-1035 label, label value, name part of a key). */
export const DNS1123_LABEL_MAX_LENGTH = 63;
/** The longest DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
/** The most bytes all annotations of one object may take together (256 KiB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

const anchored = (fmt: string) => new RegExp(`^(?:${fmt})$`);
const DNS1123_LABEL_RE = anchored(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN_RE = anchored(DNS1123_SUBDOMAIN_FMT);
const DNS1035_LABEL_RE = anchored(DNS1035_LABEL_FMT);
const QUALIFIED_NAME_RE = anchored(QUALIFIED_NAME_FMT);
const LABEL_VALUE_RE = anchored(LABEL_VALUE_FMT);

const encoder = new TextEncoder();

/** Length in UTF-8 bytes, as Go's `len` counts a string. */
export function byteLength(s: string): number {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : encoder.encode(s).length;
}

/** `must be no more than N characters`. */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** `must be non-empty`. */
export const EMPTY_ERROR = "must be non-empty";

/** A pattern failure: `<msg> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')`. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  const shown = examples.map((e) => `'${e}', `).join(" or ");
  return `${msg} (e.g. ${shown}regex used for validation is '${fmt}')`;
}

/** Problems of a DNS-1123 label (`my-name`): at most 63 characters, no dots. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (byteLength(v) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL_RE.test(v)) {
    if (DNS1123_SUBDOMAIN_RE.test(v)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

/** Problems of a DNS-1123 subdomain (`example.com`): at most 253 characters. */
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (byteLength(v) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN_RE.test(v)) {
    errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errs;
}

/** Problems of a DNS-1035 label (`my-name`, starting with a letter): at most 63 characters. */
export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (byteLength(v) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL_RE.test(v)) {
    errs.push(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  }
  return errs;
}

/**
 * Problems of a qualified name (label and annotation keys, finalizers): `[prefix/]name`,
 * the prefix a DNS-1123 subdomain, the name at most 63 characters.
 */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push(`prefix part ${EMPTY_ERROR}`);
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${
        regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
      }` +
      " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push(`name part ${EMPTY_ERROR}`);
  else if (byteLength(name) > DNS1123_LABEL_MAX_LENGTH) {
    errs.push(`name part ${maxLenError(DNS1123_LABEL_MAX_LENGTH)}`);
  }
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(
      `name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errs;
}

/** Problems of a label value: empty, or a qualified name part of at most 63 characters. */
export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (byteLength(v) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!LABEL_VALUE_RE.test(v)) {
    errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  }
  return errs;
}

/**
 * Problems of a name used as one URL path segment (RBAC objects): not `.` or `..`, no `/` or
 * `%`. A prefix (generateName) is only checked for the characters.
 */
export function isValidPathSegmentName(v: string, options: { prefix?: boolean } = {}): string[] {
  if (!options.prefix && (v === "." || v === "..")) return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const bad of ["/", "%"]) if (v.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/**
 * A generateName prefix is checked as if a suffix followed it: a trailing dash is masked
 * (upstream replaces the last two characters with one `a`).
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? name.slice(0, -2) + "a" : name;
}

/** The problems of `name` under `rule`; with `prefix`, as a generateName. */
export function nameProblems(rule: NameRule, name: string, options: { prefix?: boolean } = {}): string[] {
  if (rule === "path-segment") return isValidPathSegmentName(name, options);
  const checked = options.prefix ? maskTrailingDash(name) : name;
  switch (rule) {
    case "label":
      return isDNS1123Label(checked);
    case "dns1035":
      return isDNS1035Label(checked);
    default:
      return isDNS1123Subdomain(checked);
  }
}

/**
 * Checks an object's name (or, with `prefix`, its generateName) by its kind's rule: one
 * `Invalid value` error at `path` per problem.
 */
export function validateObjectMetaName(
  rule: NameRule,
  name: string,
  path: string,
  options: { prefix?: boolean } = {},
): FieldError[] {
  return nameProblems(rule, name, options).map((p) => field.invalid(path, name, p));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Checks `metadata.labels`: keys are qualified names, values valid label values. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === null || labels === undefined) return [];
  if (!isPlainObject(labels)) {
    return [field.typeInvalid(path, labels, "must be a map of string keys to string values")];
  }
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const p of isQualifiedName(k)) errors.push(field.invalid(path, k, p));
    if (typeof v !== "string") {
      errors.push(field.typeInvalid(`${path}[${k}]`, v, "must be a string"));
      continue;
    }
    for (const p of isValidLabelValue(v)) errors.push(field.invalid(path, v, p));
  }
  return errors;
}

/**
 * Checks `metadata.annotations`: keys are qualified names (case does not matter), and keys
 * plus values take at most 256 KiB.
 */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (annotations === null || annotations === undefined) return [];
  if (!isPlainObject(annotations)) {
    return [field.typeInvalid(path, annotations, "must be a map of string keys to string values")];
  }
  const errors: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const p of isQualifiedName(k.toLowerCase())) errors.push(field.invalid(path, k, p));
    size += byteLength(k);
    if (typeof v === "string") size += byteLength(v);
    else errors.push(field.typeInvalid(`${path}[${k}]`, v, "must be a string"));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errors.push(field.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errors;
}

/** The finalizer names built-in kinds accept without a `/`. */
export const STANDARD_FINALIZERS: ReadonlySet<string> = new Set([
  "kubernetes",
  "orphan",
  "foregroundDeletion",
]);

/**
 * Checks `metadata.finalizers`: each a qualified name, not both `orphan` and
 * `foregroundDeletion`. With `builtin` (kinds served by kube-apiserver itself, not custom
 * resources), a name without `/` must also be a standard finalizer.
 */
export function validateFinalizers(
  finalizers: unknown,
  path: string,
  options: { builtin?: boolean } = {},
): FieldError[] {
  if (finalizers === null || finalizers === undefined) return [];
  if (!Array.isArray(finalizers)) return [field.typeInvalid(path, finalizers, "must be a list of strings")];
  const errors: FieldError[] = [];
  finalizers.forEach((f, i) => {
    if (typeof f !== "string") {
      errors.push(field.typeInvalid(`${path}[${i}]`, f, "must be a string"));
      return;
    }
    for (const p of isQualifiedName(f)) errors.push(field.invalid(path, f, p));
  });
  if (finalizers.includes("orphan") && finalizers.includes("foregroundDeletion")) {
    errors.push(
      field.invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"),
    );
  }
  if (options.builtin) {
    finalizers.forEach((f, i) => {
      if (typeof f === "string" && !f.includes("/") && !STANDARD_FINALIZERS.has(f)) {
        errors.push(
          field.invalid(
            `${path}[${i}]`,
            f,
            "name is neither a standard finalizer name nor is it fully qualified",
          ),
        );
      }
    });
  }
  return errors;
}
