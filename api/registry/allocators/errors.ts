/**
 * Why an allocator refused. The messages are the ones kube-apiserver puts after
 * `failed to allocate IP <ip>: ` or into a field error, so callers show them as they are.
 */

export type AllocationErrorCode =
  /** The value is taken. */
  | "Allocated"
  /** The value lies outside the range (the message names the range). */
  | "NotInRange"
  /** The value lies in no range this allocator serves (an IP outside every service CIDR). */
  | "Mismatched"
  /** Nothing is left. */
  | "Full";

export class AllocationError extends Error {
  readonly code: AllocationErrorCode;

  constructor(code: AllocationErrorCode, message: string) {
    super(message);
    this.name = "AllocationError";
    this.code = code;
  }
}

export function isAllocationError(err: unknown, code?: AllocationErrorCode): err is AllocationError {
  return err instanceof AllocationError && (code === undefined || err.code === code);
}

/** Where dynamic allocation starts inside a range of `size` values: `min(max(min, size/step), max)`. */
export function dynamicOffset(size: number, min: number, max: number, step: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(min, Math.floor(size / step)), max);
}
