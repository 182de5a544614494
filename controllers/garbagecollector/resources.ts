/**
 * What the garbage collector watches and how it reaches an object named by an owner reference:
 * the preferred version of every served resource that can be listed, watched and deleted
 * (events excepted, as upstream ignores them), a mapper from `apiVersion` + `kind` to the
 * resource, and a client that asks only for object metadata (PartialObjectMetadata).
 */

import { Client, type ResourceRef } from "../../machinery/client.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";
import { RESOURCES } from "../../openapi/generated/resources.ts";

/** Resources the collector leaves alone (upstream's default ignored resources). */
const IGNORED = new Set(["/events", "events.k8s.io/events"]);

/** Orders versions as discovery prefers them: GA before beta before alpha, higher first. */
export function compareVersionPriority(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [-1, 0, 0];
    return [m[2] === "alpha" ? 0 : m[2] === "beta" ? 1 : 2, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [sa, ma, na] = rank(a);
  const [sb, mb, nb] = rank(b);
  return sb - sa || mb - ma || nb - na || a.localeCompare(b);
}

function refOf(info: ResourceInfo): ResourceRef {
  return {
    group: info.group,
    version: info.version,
    resource: info.resource,
    namespaced: info.namespaced,
    kind: info.kind,
  };
}

/** The preferred version of each resource supporting delete, list and watch. */
export function deletableResources(resources: ResourceInfo[] = RESOURCES): ResourceRef[] {
  const best = new Map<string, ResourceInfo>();
  for (const info of resources) {
    const gr = `${info.group}/${info.resource}`;
    if (IGNORED.has(gr)) continue;
    if (!["delete", "list", "watch"].every((v) => info.verbs.includes(v))) continue;
    const seen = best.get(gr);
    if (!seen || compareVersionPriority(info.version, seen.version) < 0) best.set(gr, info);
  }
  return [...best.values()].map(refOf);
}

/** Finds the resource of an `apiVersion` and `kind` (both as an owner reference spells them). */
export class RestMapper {
  readonly #byKind = new Map<string, ResourceRef>();

  constructor(resources: ResourceInfo[] = RESOURCES) {
    for (const info of resources) {
      if (info.resource.includes("/")) continue;
      const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
      const key = `${apiVersion}/${info.kind}`;
      if (!this.#byKind.has(key)) this.#byKind.set(key, refOf(info));
    }
  }

  /** The resource, or undefined when that group-version does not serve the kind. */
  mapping(apiVersion: string, kind: string): ResourceRef | undefined {
    return this.#byKind.get(`${apiVersion}/${kind}`);
  }
}

/** The Accept header of a metadata-only client, taken by get, list and watch alike. */
export const METADATA_ACCEPT = [
  "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
  "application/json",
].join(",");

/** A client like `client` whose reads answer only object metadata. */
export function metadataClient(client: Client): Client {
  const transport = client.config.transport;
  return new Client({
    ...client.config,
    transport: (request) => {
      if (request.method === "GET") request.headers.set("accept", METADATA_ACCEPT);
      return transport(request);
    },
  });
}
