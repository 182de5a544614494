/**
 * The DefaultStorageClass admission plugin, as upstream's: a new PersistentVolumeClaim that
 * names no class (the field absent, not "") gets the cluster's default StorageClass — the one
 * annotated `storageclass.kubernetes.io/is-default-class: "true"`, the newest if several are.
 * With no default class the claim is left as it is.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import type { AdmissionPlugin } from "./mod.ts";

const IS_DEFAULT = "storageclass.kubernetes.io/is-default-class";
const IS_DEFAULT_BETA = "storageclass.beta.kubernetes.io/is-default-class";
const BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class";

/** The default class's name among `classes`, or undefined. */
export function defaultClassName(classes: KubeObject[]): string | undefined {
  const defaults = classes.filter((c) => {
    const a = c.metadata?.annotations ?? {};
    return a[IS_DEFAULT] === "true" || a[IS_DEFAULT_BETA] === "true";
  });
  defaults.sort((a, b) => {
    const ta = a.metadata?.creationTimestamp ?? "";
    const tb = b.metadata?.creationTimestamp ?? "";
    return tb.localeCompare(ta) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  });
  return defaults[0]?.metadata?.name;
}

export function defaultStorageClass(listClasses: () => Promise<KubeObject[]>): AdmissionPlugin {
  return {
    name: "DefaultStorageClass",
    async admit(request) {
      if (request.info.group !== "" || request.info.resource !== "persistentvolumeclaims") return;
      if (request.subresource) return;
      const spec = request.object.spec as Record<string, unknown> | undefined;
      if (!spec || typeof spec !== "object") return;
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      if (request.object.metadata?.annotations?.[BETA_CLASS_ANNOTATION] !== undefined) return;
      const name = defaultClassName(await listClasses());
      if (name) spec.storageClassName = name;
    },
  };
}
