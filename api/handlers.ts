/**
 * The verb handlers: turn one resource request into calls on the resource's store and encode
 * the answer. Routing has already split the path (`ResourceRequestInfo`).
 */

import { handlePodLog } from "./pod_log.ts";
import { handlePodExec } from "./pod_exec.ts";
import { badRequest, methodNotSupported, notFound, StatusError } from "../machinery/status.ts";
import { type KubeObject, metaOf } from "../machinery/object_meta.ts";
import type { ResourceRequestInfo } from "./request_info.ts";
import type { Registry } from "./registry/mod.ts";
import type { DeleteOptionsBody, ListParams, ResourceStore } from "./registry/resource_store.ts";
import {
  decodeObjectBody,
  decodeObjectBodyWithSource,
  negotiateOutput,
  type OutputFormat,
  parseMediaTypes,
  readBody,
  yamlDuplicateKeys,
} from "./negotiate.ts";
import { encodeResponse, jsonResponse, partialObjectMetadata, toTable } from "./encode.ts";
import { buildFilter } from "./filter.ts";
import { serveWatch } from "./watch.ts";
import { reviewFor } from "./reviews.ts";
import { getScale, writeScale } from "./scale.ts";
import { bindPod } from "./pod_binding.ts";
import { evictPod } from "./pod_eviction.ts";
import { type BodyKind, checkObjectBody, checkPatchedObject } from "./typed_body.ts";
import { fieldValidationOf, warningHeader } from "../openapi/field_validation.ts";
import { loadSchemas } from "../openapi/schema.ts";
import { checkName, ignoreManagedFieldsTimestamps } from "./fieldmanager/mod.ts";
import { updateTracker, writeContext } from "./field_tracking.ts";
import { decodeApplyConfiguration, PATCH_TYPES, patchFunction } from "./patch_types.ts";

/** Resources whose delete answers with the object rather than a Status, as upstream's do. */
const RETURNS_DELETED_OBJECT = new Set([
  "/pods",
  "/serviceaccounts",
  "/namespaces",
  "storage.k8s.io/storageclasses",
  "apiextensions.k8s.io/customresourcedefinitions",
]);

/** The 404 kube-apiserver gives for a path that names no resource. */
export function resourceNotFound(): StatusError {
  return new StatusError(404, "NotFound", "the server could not find the requested resource", {});
}

export interface HandlerContext {
  registry: Registry;
  /** The admin token, for token reviews. */
  token?: string;
  /** Closers of the open watch streams, so shutdown can end them cleanly. */
  watches?: Set<() => void>;
}

function listParams(url: URL): ListParams & { labelSelector?: string; fieldSelector?: string } {
  const q = url.searchParams;
  const limit = q.get("limit");
  let parsedLimit: number | undefined;
  if (limit !== null && limit !== "") {
    parsedLimit = Number(limit);
    if (!Number.isInteger(parsedLimit) || parsedLimit < 0) throw badRequest(`invalid limit: ${limit}`);
  }
  return {
    limit: parsedLimit,
    continue: q.get("continue") || undefined,
    resourceVersion: q.get("resourceVersion") ?? undefined,
    resourceVersionMatch: q.get("resourceVersionMatch") || undefined,
  };
}

function isDryRun(url: URL): boolean {
  const values = url.searchParams.getAll("dryRun");
  for (const v of values) {
    if (v !== "All" && v !== "") {
      throw badRequest(`Invalid dry run value: ${JSON.stringify(v)}: valid values are "All"`);
    }
  }
  return values.includes("All");
}

function encodeObject(
  store: ResourceStore,
  obj: KubeObject,
  format: OutputFormat,
  url: URL,
  status = 200,
): Response {
  if (format.kind === "table") {
    const table = toTable(store.info, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? "" }, {
      version: format.version,
      includeObject: url.searchParams.get("includeObject") ?? undefined,
    });
    return jsonResponse(table, status);
  }
  if (format.kind === "metadata") return jsonResponse(partialObjectMetadata(obj, format.version), status);
  return encodeResponse(obj, format, status);
}

/** The response with `Warning` headers for `warnings`, if any. */
function withWarnings(res: Response, warnings: string[]): Response {
  if (warnings.length) res.headers.set("warning", warningHeader(warnings));
  return res;
}

/** Dispatches one resource request. */
export async function handleResource(
  req: Request,
  url: URL,
  info: ResourceRequestInfo,
  ctx: HandlerContext,
): Promise<Response> {
  const store = ctx.registry.lookup(info.group, info.version, info.resource);
  if (!store) throw resourceNotFound();
  const ri = store.info;
  if (info.namespace && !ri.namespaced && !(info.resource === "namespaces" && info.name === info.namespace)) {
    throw resourceNotFound();
  }
  const gr = { group: ri.group, resource: ri.resource };
  const subresource = info.subresource;
  let verbs = ri.verbs;
  if (subresource) {
    const sub = ri.subresources.find((s) => s.name === subresource);
    if (!sub) throw resourceNotFound();
    verbs = sub.verbs;
    if (
      (subresource === "exec" || subresource === "attach" || subresource === "portforward") &&
      ri.group === "" && ri.resource === "pods" &&
      info.namespace
    ) {
      return await handlePodExec(
        req,
        url,
        ctx.registry,
        info.namespace,
        info.name,
        ctx.token ?? "",
        subresource,
      );
    }
    if (!["status", "finalize", "scale", "binding", "eviction", "log"].includes(subresource)) {
      throw new StatusError(
        404,
        "NotFound",
        `the server could not find the requested resource (${info.verb} ${info.resource} ${subresource})`,
        {},
      );
    }
  }
  if (ri.namespaced && !info.namespace && !["list", "watch", "deletecollection"].includes(info.verb)) {
    throw resourceNotFound();
  }
  const verb = info.verb;
  if (!verbs.includes(verb === "watch" && info.name ? "watch" : verb)) {
    throw methodNotSupported(gr, verb === "create" ? "create" : verb);
  }
  const ns = ri.namespaced ? info.namespace : "";
  const bodyKind: BodyKind = { group: ri.group, version: ri.version, kind: ri.kind };

  const review = reviewFor(ri.group, ri.resource);
  if (review && verb === "create") {
    const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
    const body = await decodeObjectBody(req.headers.get("content-type"), await readBody(req)) as KubeObject;
    store.checkTypeMeta(body);
    return encodeResponse(review(body, ctx.token ?? ""), format, 201);
  }

  if (subresource === "scale") return await handleScale(req, url, store, ns, info.name, verb);
  if (subresource === "log" && ri.group === "" && ri.resource === "pods") {
    return await handlePodLog(url, ctx.registry, ns, info.name, ctx.token ?? "");
  }
  if (subresource === "binding" || subresource === "eviction") {
    return await handlePodAction(req, url, ctx.registry, store, ns, info.name, subresource);
  }
  if (ri.group === "" && ri.resource === "bindings" && verb === "create") {
    const pods = ctx.registry.mustGet("", "pods");
    return await handlePodAction(req, url, ctx.registry, pods, ns, undefined, "binding");
  }

  switch (verb) {
    case "get": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: true });
      return encodeObject(store, await store.get(ns, info.name), format, url);
    }
    case "list": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: true });
      const params = listParams(url);
      params.filter = buildFilter(
        ri,
        url.searchParams.get("labelSelector"),
        url.searchParams.get("fieldSelector"),
      );
      const result = await store.list(ns, params);
      const listMeta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
      if (result.continue) listMeta.continue = result.continue;
      if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
      if (format.kind === "table") {
        return jsonResponse(toTable(ri, result.items, listMeta, {
          version: format.version,
          includeObject: url.searchParams.get("includeObject") ?? undefined,
        }));
      }
      if (format.kind === "metadata") {
        return jsonResponse({
          kind: "PartialObjectMetadataList",
          apiVersion: `meta.k8s.io/${format.version}`,
          metadata: listMeta,
          items: result.items.map((o) => partialObjectMetadata(o, format.version)),
        });
      }
      for (const item of result.items) {
        delete item.apiVersion;
        delete item.kind;
      }
      return encodeResponse({
        kind: `${ri.kind}List`,
        apiVersion: store.apiVersion,
        metadata: listMeta,
        items: result.items,
      }, format);
    }
    case "watch": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: true });
      return serveWatch(req, url, store, ns, info.name, format, ctx.watches);
    }
    case "create": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
      const validation = fieldValidationOf(url.searchParams);
      const body = await decodeObjectBodyWithSource(req.headers.get("content-type"), await readBody(req));
      store.checkTypeMeta(body.object as KubeObject);
      const w = await writeContext(req, url, store, "create", "");
      const warnings = checkObjectBody(await loadSchemas(), body, bodyKind, validation);
      const created = await store.create(ns, body.object as KubeObject, {
        dryRun: isDryRun(url),
        tracker: updateTracker(w),
      });
      return withWarnings(encodeObject(store, created, format, url, 201), warnings);
    }
    case "update": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
      const validation = fieldValidationOf(url.searchParams);
      const body = await decodeObjectBodyWithSource(req.headers.get("content-type"), await readBody(req));
      store.checkTypeMeta(body.object as KubeObject);
      const w = await writeContext(req, url, store, "update", subresource);
      const warnings = checkObjectBody(await loadSchemas(), body, bodyKind, validation);
      const { object, created } = await store.update(ns, info.name, body.object as KubeObject, {
        dryRun: isDryRun(url),
        subresource,
        tracker: updateTracker(w),
      });
      return withWarnings(encodeObject(store, object, format, url, created ? 201 : 200), warnings);
    }
    case "patch": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
      const validation = fieldValidationOf(url.searchParams);
      const schemas = await loadSchemas();
      const contentType = parseMediaTypes(req.headers.get("content-type"))[0]?.type ?? "";
      const text = new TextDecoder().decode(await readBody(req));
      if (contentType === PATCH_TYPES.apply) {
        const w = await writeContext(req, url, store, "apply", subresource);
        const config = decodeApplyConfiguration(text);
        const named = checkName(config, info.name, ns);
        if (named) throw named;
        // Keys repeated in the configuration, by line as the YAML decoder reports them.
        const duplicates = validation === "Ignore" ? [] : yamlDuplicateKeys(text);
        const warnings = checkPatchedObject(schemas, config, bodyKind, validation, duplicates);
        const force = url.searchParams.get("force") === "true";
        const { object, created } = await store.patch(
          ns,
          info.name,
          (current) => w.fm.apply(current, config, { ...w.target, manager: w.manager, force }),
          {
            dryRun: isDryRun(url),
            subresource,
            allowCreate: !subresource,
            tracker: { record: (obj) => obj, settle: ignoreManagedFieldsTimestamps },
          },
        );
        return withWarnings(encodeObject(store, object, format, url, created ? 201 : 200), warnings);
      }
      const w = await writeContext(req, url, store, "patch", subresource);
      const patch = patchFunction(contentType, text, validation, schemas, bodyKind);
      let warnings: string[] = [];
      const { object: patched } = await store.patch(ns, info.name, (current) => {
        const next = patch.apply(current!);
        if (next && typeof next === "object" && !Array.isArray(next)) {
          warnings = checkPatchedObject(schemas, next, bodyKind, validation, patch.problems);
        }
        return next;
      }, { dryRun: isDryRun(url), subresource, tracker: updateTracker(w) });
      return withWarnings(encodeObject(store, patched, format, url), warnings);
    }
    case "delete": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
      const options = await deleteOptions(req, url);
      const { object, deleted } = await store.delete(ns, info.name, options);
      if (!deleted || RETURNS_DELETED_OBJECT.has(`${ri.group}/${ri.resource}`)) {
        return encodeObject(store, object, format, url);
      }
      const meta = metaOf(object);
      return encodeResponse({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name: meta.name, group: ri.group || undefined, kind: ri.resource, uid: meta.uid },
      }, format);
    }
    case "deletecollection": {
      const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
      const options = await deleteOptions(req, url);
      const params = listParams(url);
      params.filter = buildFilter(
        ri,
        url.searchParams.get("labelSelector"),
        url.searchParams.get("fieldSelector"),
      );
      const items = await store.deleteCollection(ns, params, options);
      for (const item of items) {
        delete item.apiVersion;
        delete item.kind;
      }
      return encodeResponse({
        kind: `${ri.kind}List`,
        apiVersion: store.apiVersion,
        metadata: { resourceVersion: "" },
        items,
      }, format);
    }
  }
  throw notFound(gr, info.name);
}

/** GET, PUT and PATCH of a `scale` subresource. */
async function handleScale(
  req: Request,
  url: URL,
  store: ResourceStore,
  ns: string,
  name: string,
  verb: string,
): Promise<Response> {
  const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
  const scaleKind: BodyKind = { group: "autoscaling", version: "v1", kind: "Scale" };
  const validation = fieldValidationOf(url.searchParams);
  const schemas = await loadSchemas();
  const dryRun = isDryRun(url);
  if (verb === "get") return encodeResponse(await getScale(store, ns, name), format);
  const w = await writeContext(req, url, store, verb === "update" ? "update" : "patch", "scale");
  const tracker = updateTracker(w);
  if (verb === "update") {
    const body = await decodeObjectBodyWithSource(req.headers.get("content-type"), await readBody(req));
    const scale = body.object as KubeObject;
    store.checkTypeMeta(scale, { kind: "Scale", apiVersion: "autoscaling/v1" });
    const warnings = checkObjectBody(schemas, body, scaleKind, validation);
    return withWarnings(
      encodeResponse(await writeScale(store, ns, name, () => scale, { dryRun, tracker }), format),
      warnings,
    );
  }
  const contentType = parseMediaTypes(req.headers.get("content-type"))[0]?.type ?? "";
  const text = new TextDecoder().decode(await readBody(req));
  const patchScale = patchFunction(contentType, text, validation, schemas, scaleKind);
  let warnings: string[] = [];
  const scale = await writeScale(store, ns, name, (current) => {
    const next = patchScale.apply(current);
    if (next && typeof next === "object" && !Array.isArray(next)) {
      warnings = checkPatchedObject(schemas, next, scaleKind, validation, patchScale.problems);
    }
    return next;
  }, { dryRun, tracker });
  return withWarnings(encodeResponse(scale, format), warnings);
}

/** The Status a successful binding or eviction answers with (201 Created). */
const CREATED_STATUS = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };

/**
 * POST of a Binding (`pods/{name}/binding`, or `bindings` when `name` is undefined) or an
 * Eviction (`pods/{name}/eviction`): both answer 201 with a Success Status.
 */
async function handlePodAction(
  req: Request,
  url: URL,
  registry: Registry,
  pods: ResourceStore,
  ns: string,
  name: string | undefined,
  action: "binding" | "eviction",
): Promise<Response> {
  const format = negotiateOutput(req.headers.get("accept"), { allowTable: false });
  const validation = fieldValidationOf(url.searchParams);
  const body = await decodeObjectBodyWithSource(req.headers.get("content-type"), await readBody(req));
  const object = body.object as KubeObject;
  const dryRun = isDryRun(url);
  const schemas = await loadSchemas();
  let warnings: string[];
  if (action === "binding") {
    warnings = checkObjectBody(schemas, body, { group: "", version: "v1", kind: "Binding" }, validation);
    await bindPod(pods, ns, object, { dryRun, urlName: name });
  } else {
    // Bodies of policy/v1beta1 (not a served schema) are taken as they come.
    const version = object.apiVersion === "policy/v1beta1" ? "v1beta1" : "v1";
    warnings = checkObjectBody(schemas, body, { group: "policy", version, kind: "Eviction" }, validation);
    await evictPod(
      { pods, podDisruptionBudgets: registry.mustGet("policy", "poddisruptionbudgets") },
      ns,
      name!,
      object,
      dryRun,
    );
  }
  return withWarnings(encodeResponse(CREATED_STATUS, format, 201), warnings);
}

/** DeleteOptions from the body (JSON/YAML/protobuf) and the query, query winning where both say. */
async function deleteOptions(req: Request, url: URL): Promise<DeleteOptionsBody> {
  const bytes = await readBody(req);
  let options: DeleteOptionsBody = {};
  if (bytes.byteLength > 0) {
    const body = await decodeObjectBody(req.headers.get("content-type"), bytes) as DeleteOptionsBody & {
      kind?: string;
    };
    if (body.kind !== undefined && body.kind !== "DeleteOptions") {
      throw badRequest(
        `the kind in the data (${body.kind}) does not match the expected kind (DeleteOptions)`,
      );
    }
    options = body;
  }
  const q = url.searchParams;
  const grace = q.get("gracePeriodSeconds");
  if (grace !== null) {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
    options.gracePeriodSeconds = n;
  }
  const policy = q.get("propagationPolicy");
  if (policy) options.propagationPolicy = policy;
  if (
    options.propagationPolicy && !["Orphan", "Background", "Foreground"].includes(options.propagationPolicy)
  ) {
    throw new StatusError(
      422,
      "Invalid",
      `propagationPolicy: Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
      {},
    );
  }
  if (isDryRun(url)) options.dryRun = ["All"];
  return options;
}
