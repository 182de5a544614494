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
import { Informer } from "./informer.ts";
import type { Pod } from "../types.ts";

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

/**
 * A stand-in for nodes in controller tests: every pod that appears is marked Running and Ready
 * (through `pods/status`), and a pod being deleted is removed at once. Stop it with the signal.
 * `hold` keeps a pod as it is (e.g. to test readiness gates); `fail` ends a pod Failed.
 */
export function fakeKubelet(
  client: Client,
  signal: AbortSignal,
  options: { hold?: (pod: Pod) => boolean; phase?: (pod: Pod) => "Running" | "Succeeded" | "Failed" } = {},
): void {
  const pods = client.resource<Pod>("", "pods");
  const informer = new Informer<Pod>(pods, { initialBackoffMs: 20 });
  const handle = async (pod: Pod) => {
    const { namespace, name } = pod.metadata as { namespace: string; name: string };
    try {
      if (pod.metadata?.deletionTimestamp) {
        await pods.delete(namespace, name, { gracePeriodSeconds: 0 });
        return;
      }
      if (options.hold?.(pod) || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
      const phase = options.phase?.(pod) ?? "Running";
      if (pod.status?.phase === phase) return;
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const ready = phase === "Running" ? "True" : "False";
      const terminated = {
        exitCode: phase === "Succeeded" ? 0 : 1,
        reason: phase === "Succeeded" ? "Completed" : "Error",
        startedAt: now,
        finishedAt: now,
      };
      await pods.patch(namespace, name, "merge", {
        status: {
          phase,
          startTime: now,
          podIP: "10.244.0.10",
          conditions: [
            { type: "Initialized", status: "True", lastTransitionTime: now },
            { type: "Ready", status: ready, lastTransitionTime: now },
            { type: "ContainersReady", status: ready, lastTransitionTime: now },
            { type: "PodScheduled", status: "True", lastTransitionTime: now },
          ],
          containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
            name: c.name,
            image: c.image,
            imageID: "",
            ready: ready === "True",
            restartCount: 0,
            started: phase === "Running",
            state: phase === "Running" ? { running: { startedAt: now } } : { terminated },
          })),
        },
      }, { subresource: "status" });
    } catch {
      // gone or changed meanwhile: the next event brings it back
    }
  };
  informer.addEventHandler({ add: handle, update: (_, p) => handle(p) });
  informer.start();
  signal.addEventListener("abort", () => informer.stop(), { once: true });
}
