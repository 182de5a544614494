/**
 * Encoding of responses: objects and lists as JSON or YAML, as Tables for `kubectl get`, or as
 * PartialObjectMetadata, and `Status` errors.
 */

import YAML from "yaml";
import { type KubeObject } from "../machinery/object_meta.ts";
import { StatusError } from "../machinery/status.ts";
import type { OutputFormat } from "./negotiate.ts";
import { printerFor } from "./tables/mod.ts";
import type { ResourceInfo } from "../openapi/resources.ts";

export const JSON_CONTENT_TYPE = "application/json";
export const YAML_CONTENT_TYPE = "application/yaml";

/** A response carrying `body` as JSON. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_CONTENT_TYPE, ...headers },
  });
}

/** The Status response for an error; a suggested retry delay also goes out as `Retry-After`. */
export function statusResponse(err: StatusError): Response {
  const retryAfter = err.details?.retryAfterSeconds;
  const headers: Record<string, string> = retryAfter && retryAfter > 0
    ? { "retry-after": String(retryAfter) }
    : {};
  return jsonResponse(err.toStatus(), err.code, headers);
}

/** A body in the negotiated format (JSON or YAML; Tables are built before this). */
export function encodeResponse(body: unknown, format: OutputFormat, status = 200): Response {
  if (format.kind === "yaml") {
    return new Response(YAML.stringify(body), { status, headers: { "content-type": YAML_CONTENT_TYPE } });
  }
  return jsonResponse(body, status);
}

/** The `metadata` of a row object and of PartialObjectMetadata. */
export function partialObjectMetadata(obj: KubeObject, version: string): KubeObject {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export interface TableOptions {
  version: "v1" | "v1beta1";
  /** `includeObject`: None, Metadata (default) or Object. */
  includeObject?: string;
  /** Leave out columnDefinitions (watch events after the first). */
  noHeaders?: boolean;
  now?: number;
}

/** A `meta.k8s.io` Table of `items`, with the columns kube-apiserver prints for the kind. */
export function toTable(
  info: ResourceInfo,
  items: KubeObject[],
  listMeta: Record<string, unknown>,
  options: TableOptions,
): Record<string, unknown> {
  const printer = printerFor(info.group, info.resource);
  const now = options.now ?? Date.now();
  const include = options.includeObject ?? "Metadata";
  const rows = items.map((obj) => {
    const row: Record<string, unknown> = { cells: printer.row(obj, now) };
    if (include === "Object") row.object = obj;
    else if (include !== "None") row.object = partialObjectMetadata(obj, options.version);
    return row;
  });
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata: listMeta,
    columnDefinitions: options.noHeaders ? null : printer.columns,
    rows,
  };
}
