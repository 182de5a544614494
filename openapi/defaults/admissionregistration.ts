/**
 * Defaults of admissionregistration.k8s.io: webhook configurations and admission policies with
 * their bindings. The same defaults hold in every version served (v1, v1beta1, v1alpha1), save
 * the v1alpha1 binding's `paramRef` action.
 */

import { child, eachObject, type Obj, setDefault, structChild } from "./util.ts";

export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;
export const DEFAULT_SERVICE_REFERENCE_PORT = 443;

/** A rule applies at every scope ("*") unless it names one. */
export function defaultRule(rule: Obj): void {
  setDefault(rule, "scope", "*");
}

/** A webhook reached through a Service calls its port 443 unless it names one. */
export function defaultServiceReference(service: Obj): void {
  setDefault(service, "port", DEFAULT_SERVICE_REFERENCE_PORT);
}

function defaultWebhookCommon(webhook: Obj): void {
  setDefault(webhook, "failurePolicy", "Fail");
  setDefault(webhook, "matchPolicy", "Equivalent");
  setDefault(webhook, "namespaceSelector", {});
  setDefault(webhook, "objectSelector", {});
  setDefault(webhook, "timeoutSeconds", DEFAULT_WEBHOOK_TIMEOUT_SECONDS);
  const clientConfig = child(webhook, "clientConfig");
  const service = clientConfig && child(clientConfig, "service");
  if (service) defaultServiceReference(service);
  eachObject(webhook, "rules", defaultRule);
}

/** A validating webhook: fails closed, matches equivalent versions, every namespace and object, 10s. */
export function defaultValidatingWebhook(webhook: Obj): void {
  defaultWebhookCommon(webhook);
}

/** A mutating webhook: as a validating one, and not called again after later mutations. */
export function defaultMutatingWebhook(webhook: Obj): void {
  defaultWebhookCommon(webhook);
  setDefault(webhook, "reinvocationPolicy", "Never");
}

export function defaultValidatingWebhookConfiguration(configuration: Obj): void {
  eachObject(configuration, "webhooks", defaultValidatingWebhook);
}

export function defaultMutatingWebhookConfiguration(configuration: Obj): void {
  eachObject(configuration, "webhooks", defaultMutatingWebhook);
}

/** What a policy or binding matches: equivalent versions, every namespace and object. */
export function defaultMatchResources(match: Obj): void {
  setDefault(match, "matchPolicy", "Equivalent");
  setDefault(match, "namespaceSelector", {});
  setDefault(match, "objectSelector", {});
  eachObject(match, "resourceRules", defaultRule);
  eachObject(match, "excludeResourceRules", defaultRule);
}

/** A ValidatingAdmissionPolicy or MutatingAdmissionPolicy: fails closed. */
export function defaultAdmissionPolicy(policy: Obj): void {
  const spec = structChild(policy, "spec");
  if (!spec) return;
  setDefault(spec, "failurePolicy", "Fail");
  const match = child(spec, "matchConstraints");
  if (match) defaultMatchResources(match);
}

/** A policy binding; in v1alpha1 a missing parameter denies unless said otherwise. */
export function defaultAdmissionPolicyBinding(binding: Obj, version: string): void {
  const spec = structChild(binding, "spec");
  if (!spec) return;
  const match = child(spec, "matchResources");
  if (match) defaultMatchResources(match);
  const paramRef = child(spec, "paramRef");
  if (paramRef && version === "v1alpha1") setDefault(paramRef, "parameterNotFoundAction", "Deny");
}
