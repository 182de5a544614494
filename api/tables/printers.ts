/**
 * The Table printer of every built-in resource, by `group/resource`.
 *
 * @module
 */

import { ageColumn, type Column, namedPrinter, type TablePrinter } from "./columns.ts";
import * as cluster from "./cluster.ts";
import * as core from "./core.ts";
import { eventPrinter } from "./events.ts";
import { podPrinter } from "./pod.ts";
import * as workloads from "./workloads.ts";

/** The printers by `group/resource` (core resources have an empty group: `/pods`). */
export const PRINTERS: Readonly<Record<string, TablePrinter>> = {
  "/pods": podPrinter,
  "/podtemplates": core.podTemplatePrinter,
  "/replicationcontrollers": core.replicationControllerPrinter,
  "/services": core.servicePrinter,
  "/endpoints": core.endpointsPrinter,
  "/nodes": core.nodePrinter,
  "/namespaces": core.namespacePrinter,
  "/events": eventPrinter,
  "/configmaps": core.configMapPrinter,
  "/secrets": core.secretPrinter,
  "/serviceaccounts": core.serviceAccountPrinter,
  "/persistentvolumes": core.persistentVolumePrinter,
  "/persistentvolumeclaims": core.persistentVolumeClaimPrinter,
  "/resourcequotas": core.resourceQuotaPrinter,
  "/limitranges": core.createdAtPrinter,
  "/componentstatuses": core.componentStatusPrinter,

  "apps/deployments": workloads.deploymentPrinter,
  "apps/replicasets": workloads.replicaSetPrinter,
  "apps/statefulsets": workloads.statefulSetPrinter,
  "apps/daemonsets": workloads.daemonSetPrinter,
  "apps/controllerrevisions": workloads.controllerRevisionPrinter,
  "batch/jobs": workloads.jobPrinter,
  "batch/cronjobs": workloads.cronJobPrinter,
  "autoscaling/horizontalpodautoscalers": workloads.horizontalPodAutoscalerPrinter,
  "policy/poddisruptionbudgets": workloads.podDisruptionBudgetPrinter,

  "events.k8s.io/events": eventPrinter,
  "storage.k8s.io/storageclasses": cluster.storageClassPrinter,
  "storage.k8s.io/volumeattributesclasses": cluster.volumeAttributesClassPrinter,
  "storage.k8s.io/csidrivers": cluster.csiDriverPrinter,
  "storage.k8s.io/csinodes": cluster.csiNodePrinter,
  "storage.k8s.io/csistoragecapacities": cluster.csiStorageCapacityPrinter,
  "storage.k8s.io/volumeattachments": cluster.volumeAttachmentPrinter,
  "networking.k8s.io/ingresses": cluster.ingressPrinter,
  "networking.k8s.io/ingressclasses": cluster.ingressClassPrinter,
  "networking.k8s.io/networkpolicies": cluster.networkPolicyPrinter,
  "networking.k8s.io/ipaddresses": cluster.ipAddressPrinter,
  "networking.k8s.io/servicecidrs": cluster.serviceCIDRPrinter,
  "discovery.k8s.io/endpointslices": cluster.endpointSlicePrinter,
  "rbac.authorization.k8s.io/roles": core.createdAtPrinter,
  "rbac.authorization.k8s.io/clusterroles": core.createdAtPrinter,
  "rbac.authorization.k8s.io/rolebindings": cluster.roleBindingPrinter,
  "rbac.authorization.k8s.io/clusterrolebindings": cluster.roleBindingPrinter,
  "certificates.k8s.io/certificatesigningrequests": cluster.certificateSigningRequestPrinter,
  "certificates.k8s.io/clustertrustbundles": cluster.clusterTrustBundlePrinter,
  "scheduling.k8s.io/priorityclasses": cluster.priorityClassPrinter,
  "node.k8s.io/runtimeclasses": cluster.runtimeClassPrinter,
  "coordination.k8s.io/leases": cluster.leasePrinter,
  "admissionregistration.k8s.io/validatingwebhookconfigurations": cluster.webhookConfigurationPrinter,
  "admissionregistration.k8s.io/mutatingwebhookconfigurations": cluster.webhookConfigurationPrinter,
  "admissionregistration.k8s.io/validatingadmissionpolicies": cluster.validatingAdmissionPolicyPrinter,
  "admissionregistration.k8s.io/validatingadmissionpolicybindings":
    cluster.validatingAdmissionPolicyBindingPrinter,
  "flowcontrol.apiserver.k8s.io/flowschemas": cluster.flowSchemaPrinter,
  "flowcontrol.apiserver.k8s.io/prioritylevelconfigurations": cluster.priorityLevelConfigurationPrinter,
  "apiextensions.k8s.io/customresourcedefinitions": core.createdAtPrinter,
  "apiregistration.k8s.io/apiservices": cluster.apiServicePrinter,
};

const defaultAge: Column = { ...ageColumn, type: "date" };

/** NAME and AGE, for kinds without a printer of their own (as for custom resources without columns). */
export const DEFAULT_PRINTER: TablePrinter = namedPrinter(defaultAge);
