/**
 * Who changed what: the field manager of a write (its `fieldManager` or User-Agent), checked as
 * upstream checks the options, and the change tracker that records managed fields.
 */

import {
  FieldManager,
  ignoreManagedFieldsTimestamps,
  managerOrUserAgent,
  validateWriteOptions,
  type WriteVerb,
} from "./fieldmanager/mod.ts";
import type { ChangeTracker, ResourceStore } from "./registry/resource_store.ts";
import { loadSchemas } from "../openapi/schema.ts";

let fieldManagerLoad: Promise<FieldManager> | undefined;

/** The field manager over the built-in schemas, made once. */
export function fieldManager(): Promise<FieldManager> {
  fieldManagerLoad ??= loadSchemas().then((schemas) => new FieldManager(schemas));
  return fieldManagerLoad;
}

/** What a write needs to record managed fields: who writes, which kind, where. */
export interface WriteContext {
  fm: FieldManager;
  manager: string;
  target: { group: string; version: string; kind: string; resource: string; subresource: string };
}

/** Checks `fieldManager` and `force` for the verb and names the manager of this write. */
export async function writeContext(
  req: Request,
  url: URL,
  store: ResourceStore,
  verb: WriteVerb,
  subresource: string,
): Promise<WriteContext> {
  const q = url.searchParams;
  const fieldManagerParam = q.get("fieldManager") ?? undefined;
  const force = q.get("force") ?? undefined;
  const problem = validateWriteOptions(verb, { fieldManager: fieldManagerParam, force });
  if (problem) throw problem;
  const ri = store.info;
  return {
    fm: await fieldManager(),
    manager: managerOrUserAgent(fieldManagerParam, req.headers.get("user-agent")),
    target: { group: ri.group, version: ri.version, kind: ri.kind, resource: ri.resource, subresource },
  };
}

/** The change tracker of a non-apply write: managed fields updated for its manager. */
export function updateTracker(w: WriteContext): ChangeTracker {
  return {
    record: (obj, live) => w.fm.update(live, obj, { ...w.target, manager: w.manager }),
    settle: (obj, live) => ignoreManagedFieldsTimestamps(obj, live),
  };
}
