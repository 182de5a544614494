/**
 * NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods that tolerate the
 * `node.kubernetes.io/unschedulable:NoSchedule` taint.
 */

import type { Plugin } from "../interface.ts";
import { Code, newStatus } from "../status.ts";
import { type Taint, TAINT_NODE_UNSCHEDULABLE } from "../types.ts";
import { tolerationsTolerateTaint } from "./helper.ts";

export const NAME = "NodeUnschedulable";
export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" };
const REJECTED = newStatus(Code.UnschedulableAndUnresolvable, NAME, ERR_REASON_UNSCHEDULABLE);

export const nodeUnschedulable: Plugin = {
  name: NAME,
  filter(ctx, _state, node) {
    if (!node.unschedulable) return null;
    const tolerations = ctx.pod.spec?.tolerations ?? [];
    return tolerationsTolerateTaint(tolerations, UNSCHEDULABLE_TAINT) ? null : REJECTED;
  },
};
