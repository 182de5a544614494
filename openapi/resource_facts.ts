/**
 * What discovery says about resources that the OpenAPI documents do not: short names and
 * categories, as a stock v1.33 cluster lists them in `kubectl api-resources`.
 */

/** Discovery facts of one resource, merged into the generated table by `gen.ts`. */
export interface ResourceFacts {
  shortNames?: string[];
  categories?: string[];
  /** Only where it is not the lower-case kind (no served resource needs it today). */
  singularName?: string;
}

const ALL = ["all"];
const API_EXTENSIONS = ["api-extensions"];

/** Keyed by `group/resource` (`/pods` for the core group); applies to every version of the group. */
export const RESOURCE_FACTS: Record<string, ResourceFacts> = {
  "/componentstatuses": { shortNames: ["cs"] },
  "/configmaps": { shortNames: ["cm"] },
  "/endpoints": { shortNames: ["ep"] },
  "/events": { shortNames: ["ev"] },
  "/limitranges": { shortNames: ["limits"] },
  "/namespaces": { shortNames: ["ns"] },
  "/nodes": { shortNames: ["no"] },
  "/persistentvolumeclaims": { shortNames: ["pvc"] },
  "/persistentvolumes": { shortNames: ["pv"] },
  "/pods": { shortNames: ["po"], categories: ALL },
  "/replicationcontrollers": { shortNames: ["rc"], categories: ALL },
  "/resourcequotas": { shortNames: ["quota"] },
  "/serviceaccounts": { shortNames: ["sa"] },
  "/services": { shortNames: ["svc"], categories: ALL },
  "admissionregistration.k8s.io/mutatingwebhookconfigurations": { categories: API_EXTENSIONS },
  "admissionregistration.k8s.io/validatingwebhookconfigurations": { categories: API_EXTENSIONS },
  "admissionregistration.k8s.io/validatingadmissionpolicies": { categories: API_EXTENSIONS },
  "admissionregistration.k8s.io/validatingadmissionpolicybindings": { categories: API_EXTENSIONS },
  "apiextensions.k8s.io/customresourcedefinitions": {
    shortNames: ["crd", "crds"],
    categories: API_EXTENSIONS,
  },
  "apiregistration.k8s.io/apiservices": { categories: API_EXTENSIONS },
  "apps/daemonsets": { shortNames: ["ds"], categories: ALL },
  "apps/deployments": { shortNames: ["deploy"], categories: ALL },
  "apps/replicasets": { shortNames: ["rs"], categories: ALL },
  "apps/statefulsets": { shortNames: ["sts"], categories: ALL },
  "autoscaling/horizontalpodautoscalers": { shortNames: ["hpa"], categories: ALL },
  "batch/cronjobs": { shortNames: ["cj"], categories: ALL },
  "batch/jobs": { categories: ALL },
  "certificates.k8s.io/certificatesigningrequests": { shortNames: ["csr"] },
  "events.k8s.io/events": { shortNames: ["ev"] },
  "networking.k8s.io/ipaddresses": { shortNames: ["ip"] },
  "networking.k8s.io/ingresses": { shortNames: ["ing"] },
  "networking.k8s.io/networkpolicies": { shortNames: ["netpol"] },
  "policy/poddisruptionbudgets": { shortNames: ["pdb"] },
  "scheduling.k8s.io/priorityclasses": { shortNames: ["pc"] },
  "storage.k8s.io/storageclasses": { shortNames: ["sc"] },
};
