/**
 * The typed-decoding step of a write: a body (or a patch's result) is checked against its kind's
 * schema — wrong types refused, unknown fields dropped — and its unknown and duplicate fields
 * handled as the request's `fieldValidation` says. Returns the warnings to send.
 */

import {
  cannotBeHandled,
  type FieldValidation,
  jsonFieldProblems,
  pruneUnknownFields,
  typeProblem,
} from "../openapi/field_validation.ts";
import type { Schemas } from "../openapi/schema.ts";
import { type DecodedBody, yamlDuplicateKeys } from "./negotiate.ts";

export interface BodyKind {
  group: string;
  version: string;
  kind: string;
}

type Json = Record<string, unknown>;

function decide(
  kind: BodyKind,
  validation: FieldValidation,
  problems: string[],
  strictText: string,
): string[] {
  if (!problems.length || validation === "Ignore") return [];
  if (validation === "Strict") {
    throw cannotBeHandled(kind.kind, kind.version, `strict decoding error: ${strictText}`);
  }
  return problems;
}

/** Checks a create or update body in place; returns the warnings for `Warn`. */
export function checkObjectBody(
  schemas: Schemas,
  body: DecodedBody,
  kind: BodyKind,
  validation: FieldValidation,
): string[] {
  const root = schemas.refForKind(kind.group, kind.version, kind.kind);
  if (!root) return [];
  const obj = body.object as Json;
  const problem = typeProblem(obj, root, schemas);
  if (problem) throw cannotBeHandled(kind.kind, kind.version, problem);
  if (body.format === "json") {
    const problems = validation === "Ignore" ? [] : jsonFieldProblems(body.text, root, schemas);
    pruneUnknownFields(obj, root, schemas);
    return decide(kind, validation, problems, problems.join(", "));
  }
  const unknown = pruneUnknownFields(obj, root, schemas);
  if (body.format === "yaml") {
    const duplicates = validation === "Ignore" ? [] : yamlDuplicateKeys(body.text);
    const strict = [
      ...(duplicates.length ? [`yaml: unmarshal errors:\n  ${duplicates.join("\n  ")}`] : []),
      ...unknown,
    ];
    return decide(kind, validation, [...duplicates, ...unknown], strict.join(", "));
  }
  return decide(kind, validation, unknown, unknown.join(", "));
}

/**
 * Checks the object a patch produced, in place; `patchProblems` are what the patch text itself
 * showed (repeated fields). Returns the warnings for `Warn`.
 */
export function checkPatchedObject(
  schemas: Schemas,
  obj: Json,
  kind: BodyKind,
  validation: FieldValidation,
  patchProblems: string[],
): string[] {
  const root = schemas.refForKind(kind.group, kind.version, kind.kind);
  if (!root) return decide(kind, validation, patchProblems, patchProblems.join(", "));
  const problem = typeProblem(obj, root, schemas);
  if (problem) throw cannotBeHandled(kind.kind, kind.version, problem);
  const problems = [...patchProblems, ...pruneUnknownFields(obj, root, schemas)];
  return decide(kind, validation, problems, problems.join(", "));
}
