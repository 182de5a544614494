/**
 * The create-only review kinds, answered at once and never stored: access reviews
 * (`kubectl auth can-i`), token reviews and self-subject reviews (`kubectl auth whoami`).
 * For now one identity exists, the admin, and it may do everything.
 */

import { badRequest } from "../machinery/status.ts";
import type { KubeObject } from "../machinery/object_meta.ts";

/** Who the admin token authenticates as. */
export const ADMIN_USER = {
  username: "kubernetes-admin",
  groups: ["system:masters", "system:authenticated"],
};

type Answer = (obj: KubeObject, token: string) => KubeObject;

const allowed: Answer = (obj) => ({
  ...obj,
  status: { allowed: true, reason: "the admin may do everything" },
});

const REVIEWS: Record<string, Answer> = {
  "authorization.k8s.io/selfsubjectaccessreviews": allowed,
  "authorization.k8s.io/subjectaccessreviews": (obj) => {
    const spec = (obj.spec ?? {}) as { user?: string; groups?: string[] };
    const admin = spec.user === ADMIN_USER.username || (spec.groups ?? []).includes("system:masters");
    return {
      ...obj,
      status: admin ? { allowed: true } : { allowed: false, reason: "no RBAC policy matched" },
    };
  },
  "authorization.k8s.io/localsubjectaccessreviews": (obj) =>
    REVIEWS["authorization.k8s.io/subjectaccessreviews"](obj, ""),
  "authorization.k8s.io/selfsubjectrulesreviews": (obj) => ({
    ...obj,
    status: {
      resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
      nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
      incomplete: false,
    },
  }),
  "authentication.k8s.io/selfsubjectreviews": (obj) => ({ ...obj, status: { userInfo: ADMIN_USER } }),
  "authentication.k8s.io/tokenreviews": (obj, token) => {
    const asked = ((obj.spec ?? {}) as { token?: string }).token;
    if (!asked) throw badRequest("spec.token: Required value");
    return {
      ...obj,
      status: asked === token
        ? { authenticated: true, user: ADMIN_USER, audiences: [] }
        : { authenticated: false },
    };
  },
};

/** The answer to a review of `group/resource`, or undefined when it is not a review kind. */
export function reviewFor(group: string, resource: string): Answer | undefined {
  return REVIEWS[`${group}/${resource}`];
}
