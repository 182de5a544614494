import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  defaultGarbageCollectionPolicy,
  finalizersForGarbageCollection,
  validatePropagation,
} from "./propagation.ts";

test("finalizersForGarbageCollection follows the request first", () => {
  assert.equal(
    finalizersForGarbageCollection(undefined, { propagationPolicy: "Foreground" }, "DeleteDependents"),
    [
      "foregroundDeletion",
    ],
  );
  assert.equal(finalizersForGarbageCollection(["a"], { propagationPolicy: "Orphan" }, "DeleteDependents"), [
    "a",
    "orphan",
  ]);
  assert.is(
    finalizersForGarbageCollection(["a"], { propagationPolicy: "Background" }, "OrphanDependents"),
    undefined,
  );
  assert.equal(
    finalizersForGarbageCollection(["orphan"], { propagationPolicy: "Background" }, "DeleteDependents"),
    [],
  );
  assert.equal(
    finalizersForGarbageCollection(["foregroundDeletion"], { orphanDependents: true }, "DeleteDependents"),
    [
      "orphan",
    ],
  );
});

test("finalizersForGarbageCollection: then existing finalizers, then the kind's default", () => {
  assert.is(finalizersForGarbageCollection(["foregroundDeletion"], {}, "OrphanDependents"), undefined);
  assert.equal(finalizersForGarbageCollection([], {}, "OrphanDependents"), ["orphan"]);
  assert.is(finalizersForGarbageCollection([], {}, "DeleteDependents"), undefined);
  assert.is(
    finalizersForGarbageCollection([], { propagationPolicy: "Foreground" }, "Unsupported"),
    undefined,
  );
});

test("defaultGarbageCollectionPolicy as upstream's strategies", () => {
  assert.is(defaultGarbageCollectionPolicy("", "v1", "replicationcontrollers"), "OrphanDependents");
  assert.is(defaultGarbageCollectionPolicy("apps", "v1", "replicasets"), "DeleteDependents");
  assert.is(defaultGarbageCollectionPolicy("", "v1", "events"), "Unsupported");
  assert.is(defaultGarbageCollectionPolicy("events.k8s.io", "v1", "events"), "Unsupported");
});

test("validatePropagation refuses orphanDependents with propagationPolicy", () => {
  assert.is(validatePropagation({ propagationPolicy: "Orphan" }), undefined);
  const err = validatePropagation({ propagationPolicy: "Foreground", orphanDependents: false });
  assert.is(err?.code, 422);
  assert.match(err!.message, /orphanDependents and deletionPropagation cannot be both set/);
});

test.run();
