/**
 * Which EndpointSlice versions this controller wrote, per Service, so that its own writes do
 * not trigger another sync, and a sync refuses to act on a cache that has not caught up with
 * them (it would otherwise create a slice twice). Upstream tracks generations; resource
 * versions serve the same purpose here and work on servers that do not bump a slice's
 * generation.
 */

import type { EndpointSlice } from "./endpoints.ts";
import { LABEL_SERVICE_NAME } from "./endpoints.ts";

const DELETION_EXPECTED = "-1";

function serviceKeyOf(slice: EndpointSlice): string | undefined {
  const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name ? `${slice.metadata?.namespace}/${name}` : undefined;
}

/** a older than b (numeric resource versions; otherwise only "different"). */
function older(a: string | undefined, b: string): boolean {
  if (!a) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) < BigInt(b);
  return a !== b;
}

export class EndpointSliceTracker {
  /** service key → slice uid → resourceVersion written (or deletion expected) */
  readonly #byService = new Map<string, Map<string, string>>();

  #versions(slice: EndpointSlice, create = false): Map<string, string> | undefined {
    const key = serviceKeyOf(slice);
    if (!key) return undefined;
    let m = this.#byService.get(key);
    if (!m && create) this.#byService.set(key, m = new Map());
    return m;
  }

  /** Records a slice as written (created or updated). */
  update(slice: EndpointSlice): void {
    const uid = slice.metadata?.uid;
    if (uid) this.#versions(slice, true)!.set(uid, slice.metadata?.resourceVersion ?? "");
  }

  expectDeletion(slice: EndpointSlice): void {
    const uid = slice.metadata?.uid;
    if (uid) this.#versions(slice, true)!.set(uid, DELETION_EXPECTED);
  }

  has(slice: EndpointSlice): boolean {
    return this.#versions(slice)?.has(slice.metadata?.uid ?? "") ?? false;
  }

  /** A slice event worth a sync: not one of this controller's own writes. */
  shouldSync(slice: EndpointSlice): boolean {
    const written = this.#versions(slice)?.get(slice.metadata?.uid ?? "");
    if (written === undefined || written === DELETION_EXPECTED) return true;
    return older(written, slice.metadata?.resourceVersion ?? "");
  }

  /** Forgets a deleted slice; false when the deletion was not this controller's. */
  handleDeletion(slice: EndpointSlice): boolean {
    const m = this.#versions(slice);
    const uid = slice.metadata?.uid ?? "";
    const written = m?.get(uid);
    m?.delete(uid);
    return written === DELETION_EXPECTED;
  }

  /** The cached slices lag behind what was written (older, missing, or not yet deleted). */
  staleSlices(serviceKey: string, slices: EndpointSlice[]): boolean {
    const m = this.#byService.get(serviceKey);
    if (!m) return false;
    const seen = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata?.uid ?? "";
      seen.add(uid);
      const written = m.get(uid);
      if (written === undefined) continue;
      if (written === DELETION_EXPECTED || older(s.metadata?.resourceVersion, written)) return true;
    }
    for (const [uid, written] of m) if (written !== DELETION_EXPECTED && !seen.has(uid)) return true;
    return false;
  }

  deleteService(serviceKey: string): void {
    this.#byService.delete(serviceKey);
  }
}
