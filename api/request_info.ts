/**
 * Reads a request's path and method into what the API server acts on: group, version,
 * namespace, resource, name, subresource and verb — the way kube-apiserver's RequestInfo does.
 */

export type Verb =
  | "get"
  | "list"
  | "watch"
  | "create"
  | "update"
  | "patch"
  | "delete"
  | "deletecollection"
  | "connect";

export interface ResourceRequestInfo {
  isResourceRequest: true;
  /** "api" for the core group, "apis" otherwise. */
  apiPrefix: "api" | "apis";
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  verb: Verb;
  /** The path segments after the subresource (`proxy` paths). */
  parts: string[];
}

export interface NonResourceRequestInfo {
  isResourceRequest: false;
  path: string;
  verb: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

/** Subresources of a namespace, which must not be read as a resource inside it. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

/** The lower-case verb an HTTP method means when no name is given. */
function collectionVerb(method: string, watch: boolean): Verb | undefined {
  switch (method) {
    case "GET":
    case "HEAD":
      return watch ? "watch" : "list";
    case "POST":
      return "create";
    case "DELETE":
      return "deletecollection";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
  }
  return undefined;
}

function memberVerb(method: string, watch: boolean): Verb | undefined {
  switch (method) {
    case "GET":
    case "HEAD":
      return watch ? "watch" : "get";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
  }
  return undefined;
}

/** True for `watch=true`, `watch=1` (any value Go's ParseBool takes as true). */
export function isTrueParam(value: string | null): boolean {
  return value !== null && ["1", "t", "T", "true", "TRUE", "True"].includes(value);
}

/**
 * Parses `pathname` (already split from the query) for `method`. Paths that are not under
 * `/api/v1/…` or `/apis/<group>/<version>/…` with a resource are non-resource requests.
 */
export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const nonResource: NonResourceRequestInfo = {
    isResourceRequest: false,
    path: pathname,
    verb: method.toLowerCase(),
  };
  const trimmed = pathname.replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmed === "") return nonResource;
  const segments = trimmed.split("/");
  // Empty inner segments (`//`) match nothing.
  if (segments.some((s) => s === "")) return nonResource;
  let parts: string[];
  try {
    parts = segments.map(decodeURIComponent);
  } catch {
    return nonResource;
  }

  const apiPrefix = parts[0];
  let rest: string[];
  let group = "";
  let version: string;
  if (apiPrefix === "api") {
    if (parts.length < 3) return nonResource;
    version = parts[1];
    rest = parts.slice(2);
  } else if (apiPrefix === "apis") {
    if (parts.length < 4) return nonResource;
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return nonResource;
  }

  let watch = isTrueParam(query.get("watch"));
  // The deprecated `/watch/` path form.
  if (rest[0] === "watch") {
    watch = true;
    rest = rest.slice(1);
    if (rest.length === 0) return nonResource;
  }

  let namespace = "";
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }

  const [resource, name = "", subresource = "", ...more] = rest;
  const verb = name ? memberVerb(method, watch) : collectionVerb(method, watch);
  if (!verb) return nonResource;
  return {
    isResourceRequest: true,
    apiPrefix,
    group,
    version,
    namespace,
    resource,
    name,
    subresource,
    // A subresource such as exec or portforward is "connect" for any method but watch.
    verb: subresource && ["exec", "attach", "portforward", "proxy"].includes(subresource) ? "connect" : verb,
    parts: more,
  };
}
