/**
 * Admission: named plugins that see a write after the kind's own rules and before storage, in
 * kube-apiserver's two phases. `admit` (mutating) runs on creates before the strategy prepares
 * the object; `validate` runs on creates and updates after validation, just before the object is
 * stored (inside the update's retry loop, so on the latest stored object). A plugin refuses by
 * throwing a StatusError. Namespaces that hold nothing a plugin cares about must cost it next to
 * nothing: plugins answer from per-namespace caches and return without awaiting.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";

export type AdmissionOperation = "CREATE" | "UPDATE";

/** What a plugin knows about one write (upstream's `admission.Attributes`). */
export interface AdmissionRequest {
  operation: AdmissionOperation;
  /** The resource written (its group, resource, kind). */
  info: ResourceInfo;
  /** "" for the main resource. */
  subresource: string;
  /** "" for cluster-scoped resources. */
  namespace: string;
  /**
   * The name errors print: the object's name, else its generateName (names are generated after
   * admission upstream), else "Unknown".
   */
  name: string;
  /** The object to be stored; `admit` may change it. */
  object: KubeObject;
  /** The stored object, for updates. */
  oldObject?: KubeObject;
  dryRun: boolean;
  /**
   * For creates: whether an object of that name is stored already, so the create will fail with
   * AlreadyExists (asked only by plugins that charge for a create, at the cost of a read).
   */
  exists?(): Promise<boolean>;
}

/** One admission plugin; both phases are optional. */
export interface AdmissionPlugin {
  readonly name: string;
  admit?(request: AdmissionRequest): void | Promise<void>;
  validate?(request: AdmissionRequest): void | Promise<void>;
}

/** Plugins run in order, each phase through all plugins. */
export class AdmissionChain {
  readonly #mutating: AdmissionPlugin[];
  readonly #validating: AdmissionPlugin[];

  constructor(readonly plugins: AdmissionPlugin[]) {
    this.#mutating = plugins.filter((p) => p.admit);
    this.#validating = plugins.filter((p) => p.validate);
  }

  /** The mutating phase; resolves at once when no plugin has work to await. */
  async admit(request: AdmissionRequest): Promise<void> {
    for (const plugin of this.#mutating) {
      const pending = plugin.admit!(request);
      if (pending) await pending;
    }
  }

  /** The validating phase. */
  async validate(request: AdmissionRequest): Promise<void> {
    for (const plugin of this.#validating) {
      const pending = plugin.validate!(request);
      if (pending) await pending;
    }
  }
}

/** The name upstream's admission errors use for an object not yet named. */
export function admissionName(obj: KubeObject): string {
  const meta = obj.metadata;
  return meta?.name || meta?.generateName || "Unknown";
}
