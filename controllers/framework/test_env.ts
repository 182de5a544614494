/**
 * For controller tests: an in-process API server and a client whose transport is the server's
 * own fetch handler, plus helpers to wait for the world to converge.
 */

import { startTestServer, TEST_TOKEN, type TestServer } from "../../api/test_server.ts";
import { Client } from "../../machinery/client.ts";
import {
  type ControllerContext,
  type ControllerFactory,
  newControllerContext,
  runControllers,
} from "./mod.ts";
import type { ControllerOptions } from "./mod.ts";

export interface ControllerTestEnv {
  server: TestServer;
  client: Client;
  ctx: ControllerContext;
  /** Stops the controllers and the server. */
  close(): Promise<void>;
}

export function testClient(server: TestServer): Client {
  return new Client({
    server: "https://kubedeno.test",
    token: TEST_TOKEN,
    transport: (r) => server.server.fetch(r),
  });
}

/** Starts a server and runs `factories` against it. */
export async function startControllers(
  factories: ControllerFactory[],
  options: Partial<ControllerOptions> = {},
): Promise<ControllerTestEnv> {
  const server = await startTestServer();
  const client = testClient(server);
  const abort = new AbortController();
  const ctx = newControllerContext(client, abort.signal, options);
  await runControllers(ctx, factories);
  return {
    server,
    client,
    ctx,
    async close() {
      abort.abort();
      await ctx.events.flush();
      server.server.closeWatches?.();
      await new Promise((r) => setTimeout(r, 20));
      await server.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
