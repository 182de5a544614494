/**
 * VolumeBinding, the basics: every PersistentVolumeClaim the pod mounts (directly or as a
 * generic ephemeral volume) must exist; a bound claim's PersistentVolume must exist and its
 * node affinity must match the node; an unbound claim is fine when its class binds on first
 * consumer (WaitForFirstConsumer) and can be provisioned in the node's topology — or, for
 * `kubernetes.io/no-provisioner` classes, an available PV fits there; an unbound claim of an
 * Immediate class rejects the pod. PreFilter narrows the search to the hostnames a bound local
 * PV is pinned to. Lookups go through the cycle's listers, so the plugin stays pure.
 */

import { quantityValue } from "../pod_info.ts";
import type { CycleContext, Plugin } from "../interface.ts";
import type { NodeInfo } from "../node_info.ts";
import { Code, newStatus, type Status } from "../status.ts";
import {
  LABEL_HOSTNAME,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
} from "../types.ts";
import { type CompiledTerm, compileNodeSelector, nodeSelectorMatches } from "./helper.ts";

export const NAME = "VolumeBinding";
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = "node(s) didn't match PersistentVolume's node affinity";
export const ERR_REASON_PV_NOT_EXIST =
  "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
export const ERR_REASON_UNBOUND_IMMEDIATE_PVC = "pod has unbound immediate PersistentVolumeClaims";

const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
const NO_PROVISIONER = "kubernetes.io/no-provisioner";
const SKIP_STATUS = newStatus(Code.Skip, NAME);

/** PreFilter state. */
export interface VolumeBindingState {
  boundClaims: PersistentVolumeClaim[];
  /** Unbound claims of WaitForFirstConsumer classes. */
  claimsToBind: PersistentVolumeClaim[];
}

import { claimClass } from "../../../machinery/volumes.ts";
export { claimClass };

/**
 * Whether a claim is bound. Upstream requires the bind-completed annotation; a claim whose
 * status says Bound counts too, for PV controllers that do not set it.
 */
function isBound(pvc: PersistentVolumeClaim): boolean {
  if (!pvc.spec?.volumeName) return false;
  return !!pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] || pvc.status?.phase === "Bound";
}

const affinityCache = new WeakMap<PersistentVolume, CompiledTerm[] | null>();

function pvNodeAffinity(pv: PersistentVolume): CompiledTerm[] | null {
  let terms = affinityCache.get(pv);
  if (terms === undefined) {
    const req = pv.spec?.nodeAffinity?.required;
    terms = req ? compileNodeSelector(req) : null;
    affinityCache.set(pv, terms);
  }
  return terms;
}

/** The hostnames a PV's node affinity pins it to (`kubernetes.io/hostname In`), if any. */
export function localPersistentVolumeNodeNames(pv: PersistentVolume): string[] {
  const result = new Set<string>();
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    let nodes: Set<string> | undefined;
    for (const e of term.matchExpressions ?? []) {
      if (e.key !== LABEL_HOSTNAME || e.operator !== "In") continue;
      const vals = new Set(e.values ?? []);
      nodes = nodes ? new Set([...nodes].filter((n) => vals.has(n))) : vals;
    }
    for (const n of nodes ?? []) result.add(n);
  }
  return [...result].sort();
}

function topologyMatches(sc: StorageClass, labels: Record<string, string>): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  return terms.some((t) =>
    (t.matchLabelExpressions ?? []).every((e) => {
      const v = labels[e.key];
      return v !== undefined && e.values.includes(v);
    })
  );
}

/** Whether `pv` is free for `pvc` and fits it (class, size, access modes, node). */
function pvFits(pv: PersistentVolume, pvc: PersistentVolumeClaim, node: NodeInfo): boolean {
  const ref = pv.spec?.claimRef;
  if (ref && (ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace)) return false;
  if (pv.metadata?.deletionTimestamp || pv.status?.phase === "Released" || pv.status?.phase === "Failed") {
    return false;
  }
  if ((pv.spec?.storageClassName ?? "") !== claimClass(pvc)) return false;
  if ((pv.spec?.volumeMode ?? "Filesystem") !== (pvc.spec?.volumeMode ?? "Filesystem")) return false;
  const want = quantityValue("storage", pvc.spec?.resources?.requests?.storage);
  const have = quantityValue("storage", pv.spec?.capacity?.storage);
  if (have < want) return false;
  const modes = pv.spec?.accessModes ?? [];
  if (!(pvc.spec?.accessModes ?? []).every((m) => modes.includes(m))) return false;
  const terms = pvNodeAffinity(pv);
  return !terms || nodeSelectorMatches(terms, node.name, node.labels);
}

function error(message: string): { status: Status } {
  return { status: newStatus(Code.Error, NAME, message) };
}

export const volumeBinding: Plugin<VolumeBindingState> = {
  name: NAME,
  preFilter(ctx) {
    const pod = ctx.pod;
    const ns = ctx.podInfo.namespace;
    const claims: PersistentVolumeClaim[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      let claimName: string;
      let ephemeral = false;
      if (v.persistentVolumeClaim) claimName = v.persistentVolumeClaim.claimName;
      else if (v.ephemeral) {
        claimName = `${ctx.podInfo.name}-${v.name}`;
        ephemeral = true;
      } else continue;
      const pvc = ctx.inputs.pvcs?.get(`${ns}/${claimName}`);
      if (!pvc) {
        return {
          status: newStatus(
            Code.UnschedulableAndUnresolvable,
            NAME,
            `persistentvolumeclaim "${claimName}" not found`,
          ),
        };
      }
      if (pvc.metadata?.deletionTimestamp) {
        return error(`persistentvolumeclaim "${claimName}" is being deleted`);
      }
      if (ephemeral) {
        const owner = pvc.metadata?.ownerReferences?.find((r) => r.controller);
        if (!owner || owner.uid !== pod.metadata?.uid) {
          return error(
            `PVC ${ns}/${claimName} was not created for pod ${ns}/${ctx.podInfo.name} (pod is not owner)`,
          );
        }
      }
      claims.push(pvc);
    }
    if (claims.length === 0) return { status: SKIP_STATUS };
    const state: VolumeBindingState = { boundClaims: [], claimsToBind: [] };
    let immediate = 0;
    for (const pvc of claims) {
      if (isBound(pvc)) {
        state.boundClaims.push(pvc);
        continue;
      }
      const className = claimClass(pvc);
      let delay = false;
      if (className !== "") {
        if (!ctx.inputs.storageClasses) delay = true; // unknown classes: assume late binding
        else {
          const sc = ctx.inputs.storageClasses.get(className);
          if (!sc) return error(`storageclass.storage.k8s.io "${className}" not found`);
          delay = sc.volumeBindingMode === "WaitForFirstConsumer";
        }
      }
      // A claim naming its volume but not yet bound counts as immediate.
      if (delay && !pvc.spec?.volumeName) state.claimsToBind.push(pvc);
      else immediate++;
    }
    if (immediate > 0) {
      return { status: newStatus(Code.UnschedulableAndUnresolvable, NAME, ERR_REASON_UNBOUND_IMMEDIATE_PVC) };
    }
    let eligible: Set<string> | undefined;
    for (const pvc of state.boundClaims) {
      const pv = ctx.inputs.pvs?.get(pvc.spec!.volumeName!);
      if (!pv) continue;
      const names = localPersistentVolumeNodeNames(pv);
      if (names.length === 0) continue;
      eligible = eligible ? new Set(names.filter((n) => eligible!.has(n))) : new Set(names);
    }
    return { state, nodeNames: eligible };
  },
  filter(ctx, s, node) {
    return findPodVolumes(ctx, s, node);
  },
};

/** The node's verdict for the pod's claims: null, or every conflict found. */
function findPodVolumes(ctx: CycleContext, s: VolumeBindingState, node: NodeInfo): Status | null {
  let boundSatisfied = true, unboundSatisfied = true, pvsFound = true;
  for (const pvc of s.boundClaims) {
    const pv = ctx.inputs.pvs?.get(pvc.spec!.volumeName!);
    if (!pv) {
      pvsFound = false;
      continue;
    }
    const terms = pvNodeAffinity(pv);
    if (terms && !nodeSelectorMatches(terms, node.name, node.labels)) boundSatisfied = false;
  }
  for (const pvc of s.claimsToBind) {
    const sc = ctx.inputs.storageClasses?.get(claimClass(pvc));
    if (!sc) continue;
    const hasPV = () => (ctx.inputs.pvs?.list() ?? []).some((pv) => pvFits(pv, pvc, node));
    if (sc.provisioner === NO_PROVISIONER ? !hasPV() : !topologyMatches(sc, node.labels) && !hasPV()) {
      unboundSatisfied = false;
    }
  }
  if (boundSatisfied && unboundSatisfied && pvsFound) return null;
  const reasons: string[] = [];
  if (!boundSatisfied) reasons.push(ERR_REASON_NODE_CONFLICT);
  if (!unboundSatisfied) reasons.push(ERR_REASON_BIND_CONFLICT);
  if (!pvsFound) reasons.push(ERR_REASON_PV_NOT_EXIST);
  return newStatus(Code.UnschedulableAndUnresolvable, NAME, ...reasons);
}
