/**
 * An Indexed Job's success policy: the Job has succeeded once any rule is met — all of its
 * `succeededIndexes` (or `succeededCount` of them) succeeded, or, with only `succeededCount`,
 * that many indexes of any kind. The message names the first rule met.
 */

import type { Schema } from "../../openapi/generated/types.ts";
import { countIndexes, type Intervals, parseIndexes } from "./indexes.ts";

export type SuccessPolicy = Schema<"io.k8s.api.batch.v1.SuccessPolicy">;

/** The SuccessCriteriaMet message when a rule is met, else undefined. */
export function matchSuccessPolicy(
  policy: SuccessPolicy | undefined,
  completions: number,
  succeeded: Intervals,
): string | undefined {
  if (!policy || succeeded.length === 0) return undefined;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.length === 0) continue;
      if (matchesSucceededIndexes(required, succeeded, rule.succeededCount)) {
        return `Matched rules at index ${index}`;
      }
    } else if (rule.succeededCount !== undefined && countIndexes(succeeded) >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

/** Every required index succeeded, or at least `count` of them did. */
function matchesSucceededIndexes(required: Intervals, succeeded: Intervals, count?: number): boolean {
  let overlap = 0;
  let r = 0;
  let s = 0;
  while (r < required.length && s < succeeded.length) {
    const n = Math.min(required[r].last, succeeded[s].last) -
      Math.max(required[r].first, succeeded[s].first) + 1;
    if (n > 0) overlap += n;
    if (succeeded[s].last < required[r].last) s++;
    else if (succeeded[s].last > required[r].last) r++;
    else {
      s++;
      r++;
    }
  }
  return overlap === countIndexes(required) || (count !== undefined && overlap >= count);
}
