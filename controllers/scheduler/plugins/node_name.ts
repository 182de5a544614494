/**
 * NodeName: a pod that names a node (`spec.nodeName`) fits only that node.
 */

import type { Plugin } from "../interface.ts";
import { Code, newStatus } from "../status.ts";

export const NAME = "NodeName";
export const ERR_REASON = "node(s) didn't match the requested node name";

const REJECTED = newStatus(Code.UnschedulableAndUnresolvable, NAME, ERR_REASON);

export const nodeName: Plugin = {
  name: NAME,
  filter(ctx, _state, node) {
    const wanted = ctx.pod.spec?.nodeName;
    return !wanted || wanted === node.name ? null : REJECTED;
  },
};
