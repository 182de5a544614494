/**
 * Status errors the API layer needs beyond `machinery/status.ts`: those upstream answers without
 * a reason (a plain Go error reaching the handler, a failed Status a REST call returns).
 */

import { type Status, type StatusDetails, StatusError } from "../machinery/status.ts";

/** A failure whose Status has no `reason` (upstream's StatusReasonUnknown), only code and message. */
export class ReasonlessStatusError extends StatusError {
  constructor(code: number, message: string, details?: StatusDetails) {
    super(code, "", message, details);
  }

  override toStatus(): Status {
    const status = super.toStatus();
    delete status.reason;
    return status;
  }
}

/** 429 TooManyRequests, with a suggested retry delay when `retryAfterSeconds` is positive. */
export function tooManyRequests(
  message: string,
  retryAfterSeconds: number,
  details: StatusDetails = {},
): StatusError {
  return new StatusError(429, "TooManyRequests", message, {
    ...details,
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
  });
}
