import { test } from "uvu";
import * as assert from "uvu/assert";
import { claimClass } from "./volumes.ts";

test("a claim's class: the beta annotation wins over spec.storageClassName, as upstream reads it", () => {
  const both = {
    metadata: { annotations: { "volume.beta.kubernetes.io/storage-class": "slow" } },
    spec: { storageClassName: "fast" },
  };
  assert.is(claimClass(both), "slow");
  assert.is(claimClass({ spec: { storageClassName: "fast" } }), "fast");
  assert.is(claimClass({ spec: { storageClassName: "" } }), "");
  assert.is(claimClass({ spec: {} }), "");
});

test.run();
