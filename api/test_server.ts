/**
 * An in-process API server over a temporary LMDB store, for the API tests: requests go
 * straight to its fetch handler with the admin token.
 */

import { createApiServer } from "./server.ts";
import { openLmdbStore } from "../storage/mod.ts";
import { bootstrapNamespaces } from "../cli/up.ts";
import type { Store } from "../storage/store.ts";

export const TEST_TOKEN = "test-token";

export interface TestServer {
  store: Store;
  dir: string;
  server: ReturnType<typeof createApiServer>;
  /** Sends a request; a body that is not a string or bytes is sent as JSON. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "kubedeno-api-" });
  const store = await openLmdbStore({ path: dir, compactionIntervalMs: 0 });
  const server = createApiServer({ store, token: TEST_TOKEN });
  await bootstrapNamespaces(server.registry);
  return {
    store,
    dir,
    server,
    call(method, path, body, headers = {}) {
      const init: RequestInit = {
        method,
        headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json", ...headers },
      };
      if (body !== undefined) {
        init.body = typeof body === "string" || body instanceof Uint8Array
          ? body as BodyInit
          : JSON.stringify(body);
      }
      return server.fetch(new Request(`https://kubedeno.test${path}`, init));
    },
    async close() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
