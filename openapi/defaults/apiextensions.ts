/** Defaults of CustomResourceDefinitions (apiextensions.k8s.io/v1). */

import { defaultServiceReference } from "./admissionregistration.ts";
import {
  child,
  eachObject,
  type Obj,
  setDefault,
  setDefaultArray,
  setDefaultString,
  structChild,
} from "./util.ts";

/**
 * The names: singular is the lower-cased kind, the list kind is the kind + "List".
 */
export function defaultCustomResourceDefinitionNames(names: Obj): void {
  const kind = names.kind;
  if (typeof kind !== "string" || kind === "") return;
  setDefaultString(names, "singular", kind.toLowerCase());
  setDefaultString(names, "listKind", `${kind}List`);
}

/**
 * A CustomResourceDefinition: its names, no conversion between versions unless a webhook is
 * named (which calls port 443 by default), and the storage version recorded as stored.
 */
export function defaultCustomResourceDefinition(crd: Obj): void {
  const spec = structChild(crd, "spec");
  if (!spec) return;
  const names = structChild(spec, "names");
  if (names) defaultCustomResourceDefinitionNames(names);
  setDefault(spec, "conversion", { strategy: "None" });
  const conversion = child(spec, "conversion");
  const webhook = conversion && child(conversion, "webhook");
  const clientConfig = webhook && child(webhook, "clientConfig");
  const service = clientConfig && child(clientConfig, "service");
  if (service) defaultServiceReference(service);
  defaultStoredVersions(crd, spec);
}

/** With no stored version recorded yet, the first version marked for storage is. */
function defaultStoredVersions(crd: Obj, spec: Obj): void {
  let storageVersion: string | undefined;
  eachObject(spec, "versions", (version) => {
    if (storageVersion === undefined && version.storage === true && typeof version.name === "string") {
      storageVersion = version.name;
    }
  });
  if (storageVersion === undefined) return;
  const status = structChild(crd, "status");
  if (status) setDefaultArray(status, "storedVersions", [storageVersion]);
}
