/**
 * What every controller gets, and the manager that runs a set of them: each controller is
 * made (registering its informers and handlers), then the shared informers start, and once
 * every cache has synced the workers run.
 */

import type { Client } from "../../machinery/client.ts";
import { EventSink } from "./events.ts";
import { InformerFactory } from "./informers.ts";

export { Controller, type Reconciler, type ReconcileResult } from "./controller.ts";
export { Cache, keyOf, splitKey } from "./cache.ts";
export type { EventRecorder, EventType } from "./events.ts";
export { Informer } from "./informer.ts";
export { InformerFactory } from "./informers.ts";
export { WorkQueue } from "./queue.ts";

/** Tunables of the controllers, with upstream's defaults. */
export interface ControllerOptions {
  /** How long a node's Lease may go unrenewed before the node is NotReady (Unknown). */
  nodeMonitorGracePeriodMs: number;
  /** How often node health is checked. */
  nodeMonitorPeriodMs: number;
  /** Workers per controller. */
  workers: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  nodeMonitorGracePeriodMs: 40_000,
  nodeMonitorPeriodMs: 5_000,
  workers: 4,
};

export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  events: EventSink;
  options: ControllerOptions;
  /** Aborts when the controllers should stop. */
  signal: AbortSignal;
}

/** A started controller: runs after the caches sync; stops with the manager. */
export interface Runnable {
  readonly name: string;
  run(): void;
  stop(): Promise<void> | void;
}

/** Makes a controller: registers informers and handlers on the context, runs nothing yet. */
export type ControllerFactory = (ctx: ControllerContext) => Runnable;

export function newControllerContext(
  client: Client,
  signal: AbortSignal,
  options: Partial<ControllerOptions> = {},
): ControllerContext {
  return {
    client,
    informers: new InformerFactory(client, { onError: (err) => logInformerError(err) }),
    events: new EventSink(client),
    options: { ...DEFAULT_CONTROLLER_OPTIONS, ...options },
    signal,
  };
}

function logInformerError(err: unknown): void {
  console.error(`kubedeno: informer: ${(err as Error)?.message ?? err}`);
}

/** Makes every controller, starts the informers, waits for them to sync, runs the controllers. */
export async function runControllers(
  ctx: ControllerContext,
  factories: ControllerFactory[],
): Promise<Runnable[]> {
  const runnables = factories.map((f) => f(ctx));
  await ctx.informers.start();
  for (const r of runnables) r.run();
  ctx.signal.addEventListener("abort", () => {
    for (const r of runnables) r.stop();
    ctx.informers.stop();
  }, { once: true });
  return runnables;
}
