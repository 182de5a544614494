/**
 * Which owners to look at again when something they may own changes, as upstream's workload
 * controllers route pod and revision events: an object with a controller reference concerns
 * only that owner (when the cache holds it with that uid); an orphan concerns every owner of its
 * namespace whose selector takes it, so one of them may adopt it. Handlers stay key mappers.
 */

import {
  type LabelSelector,
  type LabelSelectorObject,
  matchesLabels,
  selectorFromLabelSelector,
} from "../../machinery/labels.ts";
import { jsonEqual, type KubeObject } from "../../machinery/object_meta.ts";
import type { Cache } from "../framework/cache.ts";
import { controllerRef } from "../pods.ts";

/**
 * A workload's selector, or null when it selects nothing usable: absent, invalid, or empty (an
 * empty selector would take every pod of the namespace, which upstream refuses).
 */
export function workloadSelector(ls: LabelSelectorObject | null | undefined): LabelSelector | null {
  try {
    const sel = selectorFromLabelSelector(ls);
    return sel && sel.requirements.length ? sel : null;
  } catch {
    return null;
  }
}

export class OwnerLookup<O extends KubeObject> {
  readonly #owners: Cache<O>;
  readonly #kind: string;
  readonly #selectorOf: (owner: O) => LabelSelector | null;

  /** `selectorOf` answers null for an owner that selects nothing (absent, invalid or empty). */
  constructor(owners: Cache<O>, kind: string, selectorOf: (owner: O) => LabelSelector | null) {
    this.#owners = owners;
    this.#kind = kind;
    this.#selectorOf = selectorOf;
  }

  /** The owner `obj`'s controller reference names, if cached with that uid and of this kind. */
  resolve(obj: KubeObject): O | undefined {
    const ref = controllerRef(obj);
    if (!ref || ref.kind !== this.#kind) return undefined;
    const owner = this.#owners.getByName(obj.metadata?.namespace ?? "", ref.name);
    return owner?.metadata?.uid === ref.uid ? owner : undefined;
  }

  /** Owners of the object's namespace whose selector takes it. */
  selecting(obj: KubeObject): O[] {
    return this.#owners.inNamespace(obj.metadata?.namespace ?? "").filter((o) => {
      const sel = this.#selectorOf(o);
      return sel !== null && matchesLabels(sel, obj.metadata?.labels ?? {});
    });
  }

  /** Who cares that `obj` appeared: its owner, or (an orphan) every owner that might adopt it. */
  added(obj: KubeObject): O[] {
    if (controllerRef(obj)) {
      const owner = this.resolve(obj);
      return owner ? [owner] : [];
    }
    return this.selecting(obj);
  }

  /**
   * Who cares that `obj` changed: a former owner it left, its owner, or — an orphan whose labels
   * or ownership changed — every owner that might adopt it. Nothing when the revision is the same.
   */
  updated(old: KubeObject, obj: KubeObject): O[] {
    if (old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return [];
    const out: O[] = [];
    const oldRef = controllerRef(old);
    const ref = controllerRef(obj);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const former = this.resolve(old);
      if (former) out.push(former);
    }
    if (ref) {
      const owner = this.resolve(obj);
      if (owner) out.push(owner);
    } else if (oldRef || !jsonEqual(old.metadata?.labels, obj.metadata?.labels)) {
      out.push(...this.selecting(obj));
    }
    return out;
  }
}
