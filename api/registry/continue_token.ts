/**
 * List continue tokens: opaque to clients, versioned, and pinned to the revision of the
 * list's first page so that every page reads the same snapshot.
 */

import { badRequest } from "../../machinery/status.ts";

const TOKEN_VERSION = "meta.k8s.io/v1";

export interface ContinueToken {
  /** The revision every page is read at. */
  rv: number;
  /** The key (relative to the listed prefix) the next page starts at. */
  start: string;
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(token: string): string {
  const b64 = token.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Encodes a token for the next page. */
export function encodeContinue(token: ContinueToken): string {
  return toBase64Url(JSON.stringify({ v: TOKEN_VERSION, rv: token.rv, start: token.start }));
}

/** Decodes a token; a malformed one is a 400 `continue key is not valid`. */
export function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(token));
  } catch (err) {
    throw badRequest(`continue key is not valid: ${(err as Error).message}`);
  }
  const t = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (!t || typeof t !== "object" || t.v !== TOKEN_VERSION) {
    throw badRequest(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
  if (typeof t.rv !== "number" || !Number.isSafeInteger(t.rv) || t.rv <= 0) {
    throw badRequest(
      `continue key is not valid: incorrect encoded start resourceVersion (version ${TOKEN_VERSION})`,
    );
  }
  if (typeof t.start !== "string" || t.start.includes("..") || t.start.startsWith("/")) {
    throw badRequest("continue key is not valid: encoded start key is invalid");
  }
  return { rv: t.rv, start: t.start };
}
