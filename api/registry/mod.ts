/**
 * The resource registry: one `ResourceStore` per served resource, built from the generated
 * resource table. Routing, discovery and OpenAPI all read it.
 */

import { applyDefaults } from "../../openapi/defaults/mod.ts";
import { validateObject, validateObjectUpdate } from "../../openapi/validation/mod.ts";
import type { Store } from "../../storage/store.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";
import { RESOURCES } from "../../openapi/generated/resources.ts";
import { forbidden, isStatusError, notFound } from "../../machinery/status.ts";
import { defaultKeyPrefix, type NamespaceAdmission, ResourceStore } from "./resource_store.ts";
import { strategyFor } from "./strategies.ts";
import { converterFor } from "./conversion.ts";
import { createServiceAllocators, type ServiceAllocators } from "./strategies/services.ts";
import { AdmissionChain } from "../admission/mod.ts";
import { NamespaceCache } from "../admission/namespace_cache.ts";
import { limitRanger } from "../admission/limit_ranger.ts";
import { defaultStorageClass } from "../admission/default_storage_class.ts";
import {
  defaultTolerationSeconds,
  type DefaultTolerationSecondsOptions,
} from "../admission/default_toleration_seconds.ts";

/** Tunables of the admission plugins (kube-apiserver's flags). */
export type AdmissionOptions = DefaultTolerationSecondsOptions;
import {
  type NamespaceLister,
  quotaStatusStrategy,
  resourceQuotaAdmission,
} from "../admission/resource_quota.ts";

export interface GroupVersions {
  /** "" for the core group. */
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
}

/** Orders Kubernetes versions as upstream prefers them: v2 > v1 > v1beta2 > v1beta1 > v1alpha1. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [-1, 0, 0];
    const stability = m[2] === "alpha" ? 0 : m[2] === "beta" ? 1 : 2;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [sa, ma, na] = parse(a);
  const [sb, mb, nb] = parse(b);
  return sb - sa || mb - ma || nb - na || a.localeCompare(b);
}

export class Registry {
  readonly resources: ResourceInfo[];
  /** Where Services get their cluster IPs and node ports (state kept in the store). */
  readonly serviceAllocators: ServiceAllocators;
  /** The admission plugins every write passes through (DefaultTolerationSeconds, DefaultStorageClass, LimitRanger, ResourceQuota). */
  readonly admission: AdmissionChain;
  readonly #stores = new Map<string, ResourceStore>();
  readonly #groups: GroupVersions[];

  constructor(store: Store, resources: ResourceInfo[] = RESOURCES, admission: AdmissionOptions = {}) {
    this.resources = resources;
    this.serviceAllocators = createServiceAllocators(store);
    const admitNamespace: NamespaceAdmission = async (namespace, info, name) => {
      let ns;
      try {
        ns = await this.mustGet("", "namespaces").get("", namespace);
      } catch (err) {
        if (isStatusError(err, "NotFound")) throw notFound({ group: "", resource: "namespaces" }, namespace);
        throw err;
      }
      if (ns.metadata?.deletionTimestamp) {
        throw forbidden(
          { group: info.group, resource: info.resource },
          name,
          `unable to create new content in namespace ${namespace} because it is being terminated`,
        );
      }
    };
    const pods = {
      nodeExists: async (name: string) =>
        !!(await store.get(`${defaultKeyPrefix({ group: "", resource: "nodes" })}${name}`)),
    };
    // Which namespaces hold quotas and limit ranges, forgotten on every write of those kinds.
    const listOrNone = async (resource: string, ns: string, group = "") =>
      (await this.preferredStore(group, resource)?.list(ns))?.items ?? [];
    const quotaCache = new NamespaceCache((ns) => listOrNone("resourcequotas", ns));
    const limitRangeCache = new NamespaceCache((ns) => listOrNone("limitranges", ns));
    this.admission = new AdmissionChain([
      defaultTolerationSeconds(admission),
      defaultStorageClass(() => listOrNone("storageclasses", "", "storage.k8s.io")),
      limitRanger(limitRangeCache),
      resourceQuotaAdmission({ quotas: () => this.mustGet("", "resourcequotas"), cache: quotaCache }),
    ]);
    const listInNamespace: NamespaceLister = async (group, resource, namespace) => {
      const served = this.preferredStore(group, resource);
      return served ? (await served.list(namespace)).items : undefined;
    };
    const preferred = new Map<string, string>();
    for (const info of resources) {
      const gr = `${info.group}/${info.resource}`;
      const best = preferred.get(gr);
      if (!best || compareVersions(info.version, best) < 0) preferred.set(gr, info.version);
    }
    for (const info of resources) {
      const gr = `${info.group}/${info.resource}`;
      // A version served from another's storage converts on the way; any other non-preferred
      // version keeps objects of its own.
      const converter = converterFor(info.group, info.version, info.resource);
      const keyPrefix = converter
        ? defaultKeyPrefix(converter.storage)
        : preferred.get(gr) === info.version
        ? defaultKeyPrefix(info)
        : `/registry/${info.group}/${info.version}/${info.resource}/`;
      this.#stores.set(
        `${info.group}/${info.version}/${info.resource}`,
        new ResourceStore({
          info,
          strategy: gr === "/resourcequotas"
            ? quotaStatusStrategy(strategyFor(info.group, info.resource, pods), listInNamespace)
            : strategyFor(info.group, info.resource, pods, this.serviceAllocators),
          admission: this.admission,
          store,
          keyPrefix,
          admitNamespace,
          converter,
          defaulter: (obj) => applyDefaults(info.group, info.version, info.kind, obj),
          validator: {
            validate: (obj) => validateObject(info.group, info.kind, obj),
            validateUpdate: (obj, old) => validateObjectUpdate(info.group, info.kind, obj, old),
          },
        }),
      );
    }
    const byGroup = new Map<string, Set<string>>();
    for (const info of resources) {
      if (!byGroup.has(info.group)) byGroup.set(info.group, new Set());
      byGroup.get(info.group)!.add(info.version);
    }
    this.#groups = [...byGroup].map(([group, versions]) => ({
      group,
      versions: [...versions].sort(compareVersions),
    }));
    this.preferredStore("", "resourcequotas")?.onChange((ns) => quotaCache.invalidate(ns));
    this.preferredStore("", "limitranges")?.onChange((ns) => limitRangeCache.invalidate(ns));
  }

  /** The store of one resource of one group-version. */
  lookup(group: string, version: string, resource: string): ResourceStore | undefined {
    return this.#stores.get(`${group}/${version}/${resource}`);
  }

  /** The store of a resource in its preferred version; throws if it is not served. */
  mustGet(group: string, resource: string): ResourceStore {
    const store = this.preferredStore(group, resource);
    if (!store) throw new Error(`Resource ${resource} of group "${group}" is not served`);
    return store;
  }

  /** The store of a resource in its preferred version, if it is served. */
  preferredStore(group: string, resource: string): ResourceStore | undefined {
    const versions = this.#groups.find((g) => g.group === group)?.versions ?? [];
    for (const v of versions) {
      const s = this.lookup(group, v, resource);
      if (s) return s;
    }
    return undefined;
  }

  /** Served groups (core first) with their versions, preferred first. */
  groups(): GroupVersions[] {
    return this.#groups;
  }

  /** The resources of one group-version. */
  resourcesOf(group: string, version: string): ResourceInfo[] {
    return this.resources.filter((r) => r.group === group && r.version === version);
  }

  /** Every store in its preferred version, namespaced kinds only when asked. */
  preferredStores(options: { namespacedOnly?: boolean } = {}): ResourceStore[] {
    const out: ResourceStore[] = [];
    const seen = new Set<string>();
    for (const g of this.#groups) {
      for (const v of g.versions) {
        for (const info of this.resourcesOf(g.group, v)) {
          const gr = `${info.group}/${info.resource}`;
          if (seen.has(gr) || (options.namespacedOnly && !info.namespaced)) continue;
          seen.add(gr);
          out.push(this.lookup(info.group, v, info.resource)!);
        }
      }
    }
    return out;
  }
}
