/**
 * One informer per resource (and selector), shared by every controller of a process, so that
 * each resource is listed and watched once.
 */

import type { Client } from "../../machinery/client.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import type { IndexFunc } from "./cache.ts";
import { Informer, type InformerOptions } from "./informer.ts";

export class InformerFactory {
  readonly client: Client;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #defaults: InformerOptions<KubeObject>;
  #started = false;

  constructor(client: Client, defaults: InformerOptions<KubeObject> = {}) {
    this.client = client;
    this.#defaults = defaults;
  }

  /**
   * The shared informer of `group/resource` (with the given selectors), made on first ask.
   * Indexers asked for are added to it.
   */
  informer<T extends KubeObject = KubeObject>(
    group: string,
    resource: string,
    options: { labelSelector?: string; fieldSelector?: string; indexers?: Record<string, IndexFunc<T>> } = {},
  ): Informer<T> {
    const key = `${group}/${resource}?${options.labelSelector ?? ""}&${options.fieldSelector ?? ""}`;
    let informer = this.#informers.get(key) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>(this.client.resource<T>(group, resource), {
        ...(this.#defaults as InformerOptions<T>),
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      });
      this.#informers.set(key, informer as unknown as Informer<KubeObject>);
      if (this.#started) informer.start();
    }
    if (options.indexers) informer.cache.addIndexers(options.indexers);
    return informer;
  }

  /** Starts every informer made so far (and later ones as they are made); resolves when all synced. */
  async start(): Promise<void> {
    this.#started = true;
    await Promise.all([...this.#informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.#informers.values()) i.stop();
  }
}
