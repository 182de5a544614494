/**
 * Finishes namespace deletion: once a namespace is Terminating, deletes everything in it and
 * then clears its `kubernetes` finalizer so it goes away. It stands in for the namespace
 * controller until controllers run against the API.
 */

import type { KubeObject } from "../../machinery/object_meta.ts";
import type { Registry } from "./mod.ts";
import type { Watcher } from "../../storage/store.ts";

const RETRY_MS = 1000;

export class NamespaceDeleter {
  readonly #registry: Registry;
  readonly #running = new Set<string>();
  #watcher?: Watcher;
  #stopped = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** Starts watching namespaces; terminating ones already there are finished too. */
  async start(): Promise<void> {
    const namespaces = this.#registry.mustGet("", "namespaces");
    this.#watcher = await namespaces.watch("", {}, {
      event: (_type, ns: KubeObject) => {
        if (ns.metadata?.deletionTimestamp && ns.metadata.name) this.#schedule(ns.metadata.name, 0);
      },
      error: () => {
        if (!this.#stopped) this.#timers.add(setTimeout(() => this.start(), RETRY_MS));
      },
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.stop();
    for (const t of this.#timers) clearTimeout(t);
  }

  #schedule(name: string, delay: number): void {
    if (this.#running.has(name) || this.#stopped) return;
    this.#running.add(name);
    const timer = setTimeout(async () => {
      this.#timers.delete(timer);
      let again = false;
      try {
        again = !(await this.#finish(name));
      } catch (err) {
        console.error(`Namespace ${name}: deleting content failed:`, (err as Error).message);
        again = true;
      }
      this.#running.delete(name);
      if (again) this.#schedule(name, RETRY_MS);
    }, delay);
    this.#timers.add(timer);
  }

  /** Deletes the namespace's content; true when it is empty and the namespace was finalized. */
  async #finish(name: string): Promise<boolean> {
    const namespaces = this.#registry.mustGet("", "namespaces");
    let ns: KubeObject;
    try {
      ns = await namespaces.get("", name);
    } catch {
      return true;
    }
    if (!ns.metadata?.deletionTimestamp) return true;
    let remaining = 0;
    for (const store of this.#registry.preferredStores({ namespacedOnly: true })) {
      if (!store.info.verbs.includes("list")) continue;
      // Background, as upstream's namespace controller asks: no kind's default may orphan.
      await store.deleteCollection(name, {}, { propagationPolicy: "Background" });
      remaining += await store.count(name);
    }
    if (remaining > 0) return false;
    const spec = (ns.spec ?? {}) as Record<string, unknown>;
    await namespaces.update("", name, { ...ns, spec: { ...spec, finalizers: [] } }, {
      subresource: "finalize",
    });
    return true;
  }
}
