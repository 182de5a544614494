/** Test helper: asserts that `p` rejects with an allocation error of `code` and `message`. */

import * as assert from "uvu/assert";
import { isAllocationError } from "./errors.ts";

export async function rejects(p: Promise<unknown>, code: string, message: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(isAllocationError(err), String(err));
    assert.is((err as Error & { code: string }).code, code);
    assert.is((err as Error).message, message);
    return;
  }
  assert.unreachable("did not reject");
}
