/** The API shapes the Deployment controller reads and writes. */

import type { Schema } from "../../openapi/generated/types.ts";

export type { Deployment, Pod, PodTemplateSpec, ReplicaSet } from "../types.ts";
export type DeploymentStatus = Schema<"io.k8s.api.apps.v1.DeploymentStatus">;
export type DeploymentCondition = Schema<"io.k8s.api.apps.v1.DeploymentCondition">;
export type ReplicaSetCondition = Schema<"io.k8s.api.apps.v1.ReplicaSetCondition">;
