/**
 * The facts about every served resource: one table read by routing, discovery, OpenAPI and
 * `kubectl api-resources`. The data is generated (`deno task gen`) into
 * `openapi/generated/resources.ts`; this file holds its shape.
 */

/** A subresource such as `status`, `scale`, `binding`, `eviction`, `log`. */
export interface SubresourceInfo {
  /** `status`, `scale`, … */
  name: string;
  /** The kind the subresource takes and returns (`Pod` for pods/status, `Scale` for scale). */
  kind: string;
  /** Group and version of that kind when they differ from the parent's (`autoscaling`/`v1` for Scale). */
  group?: string;
  version?: string;
  /** Verbs served, named as discovery names them: get, update, patch, create, … */
  verbs: string[];
}

/** One resource of one group-version, as discovery describes it. */
export interface ResourceInfo {
  /** "" for the core group. */
  group: string;
  version: string;
  /** The plural, lower-case resource name (`pods`, `deployments`). */
  resource: string;
  kind: string;
  /** Lower-case singular (`pod`, `deployment`). */
  singularName: string;
  namespaced: boolean;
  /** Verbs served: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources: SubresourceInfo[];
}
