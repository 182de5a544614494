/** Defaults of the apps group's workloads; each also defaults its pod template. */

import { defaultPodTemplateSpec } from "./pod.ts";
import { child, eachObject, type Obj, setDefault, setDefaultString, structChild } from "./util.ts";
import { defaultPersistentVolumeClaimTemplate } from "./volumes.ts";

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

function defaultTemplateOf(spec: Obj): void {
  const template = structChild(spec, "template");
  if (template) defaultPodTemplateSpec(template);
}

/**
 * A Deployment: one replica, rolling updates of 25% surge and 25% unavailable, ten old
 * ReplicaSets kept, ten minutes to make progress.
 */
export function defaultDeployment(deployment: Obj): void {
  const spec = structChild(deployment, "spec");
  if (!spec) return;
  setDefault(spec, "replicas", 1);
  const strategy = structChild(spec, "strategy");
  if (strategy) {
    setDefaultString(strategy, "type", "RollingUpdate");
    if (strategy.type === "RollingUpdate") {
      const rollingUpdate = structChild(strategy, "rollingUpdate");
      if (rollingUpdate) {
        setDefault(rollingUpdate, "maxUnavailable", "25%");
        setDefault(rollingUpdate, "maxSurge", "25%");
      }
    }
  }
  setDefault(spec, "revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT);
  setDefault(spec, "progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS);
  defaultTemplateOf(spec);
}

/** A DaemonSet: rolling updates one node at a time without surge; ten old revisions kept. */
export function defaultDaemonSet(daemonSet: Obj): void {
  const spec = structChild(daemonSet, "spec");
  if (!spec) return;
  const strategy = structChild(spec, "updateStrategy");
  if (strategy) {
    setDefaultString(strategy, "type", "RollingUpdate");
    if (strategy.type === "RollingUpdate") {
      const rollingUpdate = structChild(strategy, "rollingUpdate");
      if (rollingUpdate) {
        setDefault(rollingUpdate, "maxUnavailable", 1);
        setDefault(rollingUpdate, "maxSurge", 0);
      }
    }
  }
  setDefault(spec, "revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT);
  defaultTemplateOf(spec);
}

/**
 * A StatefulSet: pods made in order, rolling updates from partition 0 (the partition only when
 * a rolling update is configured or the strategy was unset), claims retained on delete and on
 * scale down, one replica, ten old revisions kept; each claim template gets a claim's defaults.
 */
export function defaultStatefulSet(statefulSet: Obj): void {
  const spec = structChild(statefulSet, "spec");
  if (!spec) return;
  setDefaultString(spec, "podManagementPolicy", "OrderedReady");
  const strategy = structChild(spec, "updateStrategy");
  if (strategy) {
    if (strategy.type === undefined || strategy.type === null || strategy.type === "") {
      strategy.type = "RollingUpdate";
      setDefault(strategy, "rollingUpdate", {});
    }
    const rollingUpdate = child(strategy, "rollingUpdate");
    if (strategy.type === "RollingUpdate" && rollingUpdate) setDefault(rollingUpdate, "partition", 0);
  }
  const retention = structChild(spec, "persistentVolumeClaimRetentionPolicy");
  if (retention) {
    setDefaultString(retention, "whenDeleted", "Retain");
    setDefaultString(retention, "whenScaled", "Retain");
  }
  setDefault(spec, "replicas", 1);
  setDefault(spec, "revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT);
  defaultTemplateOf(spec);
  eachObject(spec, "volumeClaimTemplates", defaultPersistentVolumeClaimTemplate);
}

/** A ReplicaSet: one replica. */
export function defaultReplicaSet(replicaSet: Obj): void {
  const spec = structChild(replicaSet, "spec");
  if (!spec) return;
  setDefault(spec, "replicas", 1);
  defaultTemplateOf(spec);
}
