/**
 * The patch types a PATCH may carry (JSON patch, merge patch, strategic merge patch, apply),
 * each prepared from the request's text into a function of the current object.
 */

import { badRequest, StatusError, unsupportedMediaType } from "../machinery/status.ts";
import type { KubeObject } from "../machinery/object_meta.ts";
import { applyJsonPatch, JsonPatchError } from "../machinery/patch/json_patch.ts";
import { applyMergePatch } from "../machinery/patch/merge_patch.ts";
import { applyStrategicMergePatch, StrategicMergePatchError } from "../machinery/patch/strategic.ts";
import { decodeJsonObject, decodeYamlObject } from "./negotiate.ts";
import type { BodyKind } from "./typed_body.ts";
import {
  type FieldValidation,
  jsonFieldProblems,
  jsonPatchFieldProblems,
} from "../openapi/field_validation.ts";
import type { Schemas } from "../openapi/schema.ts";

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** The body of an apply patch: one YAML (or JSON) object. */
export function decodeApplyConfiguration(text: string): KubeObject {
  try {
    return decodeYamlObject(text) as KubeObject;
  } catch (err) {
    if (err instanceof StatusError) {
      throw badRequest(`error decoding patch: ${err.message.replace(/^error decoding YAML: /, "")}`);
    }
    throw err;
  }
}

/** A patch of one of the accepted types, ready to apply, with what its text itself showed. */
export interface PreparedPatch {
  apply(current: KubeObject): KubeObject;
  /** Repeated fields (and, for JSON patch, unknown operation fields) in the patch text. */
  problems: string[];
}

export function patchFunction(
  contentType: string,
  text: string,
  validation: FieldValidation,
  schemas: Schemas,
  kind: BodyKind,
): PreparedPatch {
  const schemaRef = schemas.refForKind(kind.group, kind.version, kind.kind);
  if (contentType === PATCH_TYPES.merge) {
    const patch = decodeJsonObject(text);
    return {
      apply: (current) => applyMergePatch(current, patch) as KubeObject,
      problems: validation === "Ignore"
        ? []
        : jsonFieldProblems(text, undefined, schemas, { duplicatesOnly: true }),
    };
  }
  if (contentType === PATCH_TYPES.json) {
    let ops: unknown;
    try {
      ops = JSON.parse(text);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    if (!Array.isArray(ops)) {
      throw badRequest("error decoding patch: a JSON patch must be a list of operations");
    }
    return {
      apply: (current) => {
        try {
          return applyJsonPatch(current, ops) as KubeObject;
        } catch (err) {
          if (err instanceof JsonPatchError) throw new StatusError(422, "Invalid", err.message, {});
          throw err;
        }
      },
      problems: validation === "Ignore" ? [] : jsonPatchFieldProblems(text, schemas),
    };
  }
  if (contentType === PATCH_TYPES.strategic && schemaRef) {
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    return {
      apply: (current) => {
        try {
          return applyStrategicMergePatch(current, patch, schemaRef, schemas) as KubeObject;
        } catch (err) {
          if (err instanceof StrategicMergePatchError) throw err.toStatusError();
          throw err;
        }
      },
      problems: validation === "Ignore"
        ? []
        : jsonFieldProblems(text, undefined, schemas, { duplicatesOnly: true }),
    };
  }
  const accepted = [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
  if (schemaRef) accepted.push(PATCH_TYPES.strategic);
  throw unsupportedMediaType(contentType, accepted);
}
