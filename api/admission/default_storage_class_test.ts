import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultClassName, defaultStorageClass } from "./default_storage_class.ts";
import type { AdmissionRequest } from "./mod.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import type { ResourceInfo } from "../../openapi/resources.ts";

const cls = (name: string, isDefault: boolean, created: string): KubeObject => ({
  metadata: {
    name,
    creationTimestamp: created,
    annotations: isDefault ? { "storageclass.kubernetes.io/is-default-class": "true" } : {},
  },
});

const claim = (spec: Record<string, unknown>): AdmissionRequest => ({
  operation: "CREATE",
  info: {
    group: "",
    version: "v1",
    resource: "persistentvolumeclaims",
    kind: "PersistentVolumeClaim",
  } as ResourceInfo,
  subresource: "",
  namespace: "default",
  name: "c",
  object: { metadata: { name: "c" }, spec } as KubeObject,
  dryRun: false,
});

test("the newest default class wins; none without a default", () => {
  assert.is(
    defaultClassName([
      cls("old", true, "2026-01-01T00:00:00Z"),
      cls("new", true, "2026-02-01T00:00:00Z"),
      cls("plain", false, "2026-03-01T00:00:00Z"),
    ]),
    "new",
  );
  assert.is(defaultClassName([cls("plain", false, "2026-03-01T00:00:00Z")]), undefined);
});

test("a claim without a class gets the default; an explicit class, even empty, is kept", async () => {
  const plugin = defaultStorageClass(() =>
    Promise.resolve([cls("local-path", true, "2026-01-01T00:00:00Z")])
  );
  const unset = claim({});
  await plugin.admit!(unset);
  assert.is((unset.object.spec as Record<string, unknown>).storageClassName, "local-path");
  const empty = claim({ storageClassName: "" });
  await plugin.admit!(empty);
  assert.is((empty.object.spec as Record<string, unknown>).storageClassName, "");
  const named = claim({ storageClassName: "fast" });
  await plugin.admit!(named);
  assert.is((named.object.spec as Record<string, unknown>).storageClassName, "fast");
});

test.run();
