/**
 * Discovery documents, aggregated (apidiscovery.k8s.io v2 and v2beta1) and legacy
 * (APIVersions, APIGroupList, APIGroup, APIResourceList), all read from the registry.
 */

import type { Registry } from "./registry/mod.ts";
import type { ResourceInfo } from "../openapi/resources.ts";
import { parseMediaTypes } from "./negotiate.ts";

const AGGREGATED_AS = "APIGroupDiscoveryList";

/** The aggregated discovery version a request's Accept asks for, if any. */
export function aggregatedVersionWanted(accept: string | null): "v2" | "v2beta1" | undefined {
  for (const m of parseMediaTypes(accept)) {
    if (
      m.type === "application/json" && m.params.g === "apidiscovery.k8s.io" && m.params.as === AGGREGATED_AS
    ) {
      if (m.params.v === "v2" || m.params.v === "v2beta1") return m.params.v;
    }
    if (m.type === "application/json" && !m.params.as) return undefined;
  }
  return undefined;
}

/** The Content-Type of an aggregated answer; kubectl requires exactly this. */
export function aggregatedContentType(version: "v2" | "v2beta1"): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=${AGGREGATED_AS}`;
}

function aggregatedResource(info: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: info.resource,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? "Namespaced" : "Cluster",
    singularResource: info.singularName,
    verbs: info.verbs,
  };
  if (info.shortNames?.length) out.shortNames = info.shortNames;
  if (info.categories?.length) out.categories = info.categories;
  if (info.subresources.length) {
    out.subresources = info.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? info.group, version: s.version ?? info.version, kind: s.kind },
      verbs: s.verbs,
    }));
  }
  return out;
}

function legacyResources(info: ResourceInfo): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: info.resource,
    singularName: info.singularName,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: info.verbs,
  };
  if (info.shortNames?.length) main.shortNames = info.shortNames;
  if (info.categories?.length) main.categories = info.categories;
  const subs = info.subresources.map((s) => {
    const sub: Record<string, unknown> = {
      name: `${info.resource}/${s.name}`,
      singularName: "",
      namespaced: info.namespaced,
      kind: s.kind,
      verbs: s.verbs,
    };
    if (s.group !== undefined) sub.group = s.group;
    if (s.version !== undefined) sub.version = s.version;
    return sub;
  });
  return [main, ...subs];
}

/** Prebuilt discovery bodies for one registry. */
export class Discovery {
  readonly #registry: Registry;
  readonly #cache = new Map<string, string>();

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  #cached(key: string, build: () => unknown): string {
    let body = this.#cache.get(key);
    if (body === undefined) {
      body = JSON.stringify(build());
      this.#cache.set(key, body);
    }
    return body;
  }

  /** `/api` or `/apis` as an APIGroupDiscoveryList. */
  aggregated(prefix: "api" | "apis", version: "v2" | "v2beta1"): string {
    return this.#cached(`agg:${prefix}:${version}`, () => {
      const groups = this.#registry.groups().filter((g) => (prefix === "api") === (g.group === ""));
      return {
        kind: AGGREGATED_AS,
        apiVersion: `apidiscovery.k8s.io/${version}`,
        metadata: {},
        items: groups.map((g) => ({
          metadata: { name: g.group, creationTimestamp: null },
          versions: g.versions.map((v) => ({
            version: v,
            resources: this.#registry.resourcesOf(g.group, v).map(aggregatedResource),
            freshness: "Current",
          })),
        })),
      };
    });
  }

  /** `/api` as APIVersions. */
  apiVersions(serverAddress: string): string {
    return JSON.stringify({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
    });
  }

  #group(group: string) {
    const g = this.#registry.groups().find((x) => x.group === group);
    if (!g) return undefined;
    const versions = g.versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { name: group, versions, preferredVersion: versions[0] };
  }

  /** `/apis` as APIGroupList. */
  apiGroupList(): string {
    return this.#cached("groups", () => ({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: this.#registry.groups().filter((g) => g.group !== "").map((g) => this.#group(g.group)),
    }));
  }

  /** `/apis/<group>` as APIGroup, or undefined when not served. */
  apiGroup(group: string): string | undefined {
    const g = this.#group(group);
    if (!g || group === "") return undefined;
    return this.#cached(`group:${group}`, () => ({ kind: "APIGroup", apiVersion: "v1", ...g }));
  }

  /** `/api/v1` or `/apis/<g>/<v>` as APIResourceList, or undefined when not served. */
  apiResourceList(group: string, version: string): string | undefined {
    const resources = this.#registry.resourcesOf(group, version);
    if (resources.length === 0) return undefined;
    return this.#cached(`resources:${group}/${version}`, () => ({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources: resources.flatMap(legacyResources),
    }));
  }
}
