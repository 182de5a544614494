/**
 * `Status` errors worded as kube-apiserver words them: clients print `message`, scripts match
 * `reason` and `code`.
 */

/** One field problem, as `details.causes[]` carries it. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The `meta/v1` Status object. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An error that the HTTP layer turns into a `Status` response with its `code`. */
export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details?: StatusDetails;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = "StatusError";
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` object sent to the client. */
  toStatus(): Status {
    const status: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** True if `err` is a StatusError (optionally with the given reason). */
export function isStatusError(err: unknown, reason?: string): err is StatusError {
  return err instanceof StatusError && (reason === undefined || err.reason === reason);
}

/** A group/resource pair printed as upstream prints it: `pods`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** `deployments.apps`, or `pods` for the core group. */
export function qualifiedResource({ group, resource }: GroupResource): string {
  return group ? `${resource}.${group}` : resource;
}

/** `Deployment.apps`, or `Pod` for the core group. */
export function qualifiedKind(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

/** 404 `pods "x" not found`. */
export function notFound(gr: GroupResource, name: string): StatusError {
  const what = qualifiedResource(gr);
  return new StatusError(404, "NotFound", name ? `${what} "${name}" not found` : `${what} not found`, {
    name: name || undefined,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** 409 `configmaps "c1" already exists`. */
export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualifiedResource(gr)} "${name}" already exists`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** The conflict message for a stale resourceVersion. */
export const OBJECT_MODIFIED =
  "the object has been modified; please apply your changes to the latest version and try again";

/** 409 `Operation cannot be fulfilled on configmaps "c1": <why>`. */
export function conflict(gr: GroupResource, name: string, why: string = OBJECT_MODIFIED): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
    { name, group: gr.group || undefined, kind: gr.resource },
  );
}

/** The kinds of field error, with the `reason` each carries in `details.causes`. */
export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError"
  | "FieldValueTypeInvalid";

/** One invalid field: `metadata.name: Invalid value: "Bad_Name": <detail>`. */
export interface FieldError {
  type: FieldErrorType;
  /** The field path, e.g. `spec.containers[0].name`. */
  field: string;
  /** The offending value, when the error type shows one. */
  value?: unknown;
  detail?: string;
  /** Whether to print the value (Invalid, Duplicate, NotSupported, NotFound do). */
  omitValue?: boolean;
}

/** A value shown in a message as Go prints it (`map[string]string{"app":"web"}`). */
export class GoValue {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Go's `%#v` of a string map: `map[string]string{"a":"1", "b":"2"}`, keys sorted. */
export function goStringMap(m: Record<string, unknown> | undefined | null): GoValue {
  if (!m) return new GoValue("map[string]string(nil)");
  const entries = Object.keys(m).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`);
  return new GoValue(`map[string]string{${entries.join(", ")}}`);
}

function formatValue(value: unknown): string {
  if (value instanceof GoValue) return value.text;
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  return JSON.stringify(value);
}

const FIELD_ERROR_LABEL: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
};

const SHOWS_VALUE = new Set<FieldErrorType>([
  "FieldValueNotFound",
  "FieldValueDuplicate",
  "FieldValueInvalid",
  "FieldValueNotSupported",
  "FieldValueTypeInvalid",
]);

/** The part of a field error after `field: `, e.g. `Invalid value: "x": detail`. */
export function fieldErrorBody(e: FieldError): string {
  let body = FIELD_ERROR_LABEL[e.type];
  if (SHOWS_VALUE.has(e.type) && !e.omitValue) body += `: ${formatValue(e.value)}`;
  if (e.detail) body += `: ${e.detail}`;
  return body;
}

/** `field: body`, as upstream prints one field error. */
export function fieldErrorString(e: FieldError): string {
  return e.field ? `${e.field}: ${fieldErrorBody(e)}` : fieldErrorBody(e);
}

/** Constructors for field errors, named as upstream's `field.Invalid`, `field.Required`, … */
export const field = {
  invalid: (path: string, value: unknown, detail: string): FieldError => ({
    type: "FieldValueInvalid",
    field: path,
    value,
    detail,
  }),
  required: (path: string, detail = ""): FieldError => ({ type: "FieldValueRequired", field: path, detail }),
  duplicate: (path: string, value: unknown): FieldError => ({ type: "FieldValueDuplicate", field: path, value }),
  notFound: (path: string, value: unknown): FieldError => ({ type: "FieldValueNotFound", field: path, value }),
  forbidden: (path: string, detail: string): FieldError => ({ type: "FieldValueForbidden", field: path, detail }),
  notSupported: (path: string, value: unknown, supported: string[]): FieldError => ({
    type: "FieldValueNotSupported",
    field: path,
    value,
    detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}` : "",
  }),
  tooLong: (path: string, maxLength: number): FieldError => ({
    type: "FieldValueTooLong",
    field: path,
    detail: `may not be more than ${maxLength} bytes`,
  }),
  typeInvalid: (path: string, value: unknown, detail: string): FieldError => ({
    type: "FieldValueTypeInvalid",
    field: path,
    value,
    detail,
  }),
};

/** 422 `Kind "name" is invalid: <errors>`; `kind` is `Deployment.apps`-style for named groups. */
export function invalid(group: string, kind: string, name: string, errors: FieldError[]): StatusError {
  const strings = errors.map(fieldErrorString);
  const list = strings.length === 1 ? strings[0] : `[${strings.join(", ")}]`;
  const qk = qualifiedKind(group, kind);
  return new StatusError(422, "Invalid", `${qk} "${name}" is invalid: ${list}`, {
    name,
    group: group || undefined,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

/** 400 BadRequest with the given message. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

/** 401 Unauthorized. */
export function unauthorized(message = "Unauthorized"): StatusError {
  return new StatusError(401, "Unauthorized", message);
}

/** 403 Forbidden with upstream's `<resource> "<name>" is forbidden: <why>` wording. */
export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  const what = qualifiedResource(gr);
  const message = name ? `${what} "${name}" is forbidden: ${why}` : `${what} is forbidden: ${why}`;
  return new StatusError(403, "Forbidden", message, {
    name: name || undefined,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** 405 for a verb the resource does not serve. */
export function methodNotSupported(gr: GroupResource, action: string): StatusError {
  return new StatusError(
    405,
    "MethodNotAllowed",
    `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`,
    { group: gr.group || undefined, kind: gr.resource },
  );
}

/** 406 when no offered media type can be produced. */
export function notAcceptable(accepted: string[]): StatusError {
  return new StatusError(
    406,
    "NotAcceptable",
    `only the following media types are accepted: ${accepted.join(", ")}`,
  );
}

/** 415 for a request body in a media type the endpoint does not take. */
export function unsupportedMediaType(contentType: string, accepted: string[]): StatusError {
  return new StatusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    { causes: [{ reason: "UnexpectedHeader", message: `unsupported media type "${contentType}"`, field: "Content-Type" }] },
  );
}

/** The request body limit kube-apiserver enforces (3 MiB). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/** 413 for a body over the limit. */
export function requestEntityTooLarge(limit = MAX_REQUEST_BODY_BYTES): StatusError {
  return new StatusError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
}

/** 410 `too old resource version: <asked> (<oldest kept>)`. */
export function resourceExpired(requested: number | string, oldest: number | string): StatusError {
  return new StatusError(410, "Expired", `too old resource version: ${requested} (${oldest})`);
}

/** 410 for a continue token below the compaction floor. */
export function continueExpired(): StatusError {
  return new StatusError(
    410,
    "Expired",
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
  );
}

/** 500 `Internal error occurred: <message>`. */
export function internalError(message: string): StatusError {
  return new StatusError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

/** 504 Timeout for a request that ran out of time. */
export function timeout(message: string): StatusError {
  return new StatusError(504, "Timeout", message);
}

/** 429 for any request that reaches a server that has begun to shut down. */
export function shuttingDown(retryAfterSeconds = 5): StatusError {
  return new StatusError(429, "TooManyRequests", "The apiserver is shutting down, please try again later.", {
    retryAfterSeconds,
  });
}

/** 503 ServiceUnavailable. */
export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, "ServiceUnavailable", message);
}
