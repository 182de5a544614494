/** Facts about persistent volume claims shared by the API server and the controllers. */

/** The pre-GA way to name a claim's class; it wins over `spec.storageClassName`. */
export const ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";
/** The node a WaitForFirstConsumer claim's pod was scheduled to (set by the scheduler). */
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";

interface ClaimLike {
  metadata?: { annotations?: Record<string, string> };
  spec?: unknown;
}

/** The claim's class as upstream reads it: the beta annotation, else `spec.storageClassName`; "" for none. */
export function claimClass(claim: ClaimLike): string {
  const annotated = claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (annotated !== undefined) return annotated;
  const name = (claim.spec as { storageClassName?: unknown } | undefined)?.storageClassName;
  return typeof name === "string" ? name : "";
}
