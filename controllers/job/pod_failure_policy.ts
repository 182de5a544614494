/**
 * A Job's pod failure policy applied to one failed pod, as upstream applies it: the first rule
 * whose exit codes (of a terminated container, non-zero) or pod conditions match decides —
 * FailJob (with the message the Job's condition carries), FailIndex, Count, or Ignore (the
 * failure does not count toward the backoff limits). No matching rule: the failure counts.
 */

import type { Pod } from "../types.ts";
import type { Schema } from "../../openapi/generated/types.ts";

export type PodFailurePolicy = Schema<"io.k8s.api.batch.v1.PodFailurePolicy">;
type ExitCodesRequirement = Schema<"io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement">;
type ConditionPattern = Schema<"io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern">;
type ContainerStatus = Schema<"io.k8s.api.core.v1.ContainerStatus">;

export type PodFailurePolicyAction = "FailJob" | "FailIndex" | "Count" | "Ignore";

export interface PodFailurePolicyMatch {
  /** Set when a FailJob rule matched: why the Job fails. */
  failJobMessage?: string;
  /** False when an Ignore rule matched. */
  countFailed: boolean;
  /** The action of the matching rule, if any matched. */
  action?: PodFailurePolicyAction;
}

export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PodFailurePolicyMatch {
  if (!policy) return { countFailed: true };
  const where = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let failJobMessage: () => string;
    if (rule.onExitCodes) {
      const container = matchOnExitCodes(pod, rule.onExitCodes);
      if (!container) continue;
      failJobMessage = () =>
        `Container ${container.name} for pod ${where} failed with exit code ${container.state?.terminated?.exitCode} matching FailJob rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const condition = matchOnPodConditions(pod, rule.onPodConditions);
      if (!condition) continue;
      failJobMessage = () =>
        `Pod ${where} has condition ${condition} matching FailJob rule at index ${index}`;
    } else {
      continue;
    }
    switch (rule.action) {
      case "Ignore":
        return { countFailed: false, action: "Ignore" };
      case "FailIndex":
        return { countFailed: true, action: "FailIndex" };
      case "Count":
        return { countFailed: true, action: "Count" };
      case "FailJob":
        return { failJobMessage: failJobMessage(), countFailed: true, action: "FailJob" };
    }
  }
  return { countFailed: true };
}

/** The first terminated container (then init container) whose non-zero exit code matches. */
function matchOnExitCodes(pod: Pod, requirement: ExitCodesRequirement): ContainerStatus | undefined {
  return matchingContainer(pod.status?.containerStatuses, requirement) ??
    matchingContainer(pod.status?.initContainerStatuses, requirement);
}

function matchingContainer(
  statuses: ContainerStatus[] | undefined,
  requirement: ExitCodesRequirement,
): ContainerStatus | undefined {
  for (const status of statuses ?? []) {
    const terminated = status.state?.terminated;
    if (!terminated) continue;
    if (requirement.containerName && requirement.containerName !== status.name) continue;
    if (terminated.exitCode === 0) continue;
    const listed = (requirement.values ?? []).includes(terminated.exitCode);
    if (requirement.operator === "In" ? listed : requirement.operator === "NotIn" ? !listed : false) {
      return status;
    }
  }
  return undefined;
}

/** The type of the first pod condition matching a pattern. */
function matchOnPodConditions(pod: Pod, patterns: ConditionPattern[]): string | undefined {
  for (const condition of pod.status?.conditions ?? []) {
    for (const pattern of patterns) {
      if (condition.type === pattern.type && condition.status === (pattern.status || "True")) {
        return condition.type;
      }
    }
  }
  return undefined;
}
