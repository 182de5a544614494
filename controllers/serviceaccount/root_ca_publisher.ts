/**
 * The root CA publisher, as upstream's: every namespace has a ConfigMap `kube-root-ca.crt`
 * whose `ca.crt` is the cluster's CA bundle (so pods can verify the API server), annotated
 * with upstream's description; it is re-created when deleted and put back when changed.
 */

import { isStatusError } from "../../machinery/status.ts";
import { jsonEqual, type KubeObject } from "../../machinery/object_meta.ts";
import type { ResourceClient } from "../../machinery/client.ts";
import type { ControllerContext, ControllerFactory, Runnable } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { Namespace } from "../types.ts";
import { isNamespaceTerminating } from "./serviceaccounts.ts";
import { clone } from "../../machinery/object_meta.ts";

export const ROOT_CA_CONFIG_MAP = "kube-root-ca.crt";
export const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
export const ROOT_CA_DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export interface RootCAPublisherOptions {
  /** The cluster CA bundle (PEM) published as `ca.crt`. */
  rootCA: string;
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Makes the publisher of `rootCA` into every namespace. */
export function newRootCAPublisher(options: RootCAPublisherOptions): ControllerFactory {
  return (ctx) => new RootCAPublisher(ctx, options.rootCA);
}

class RootCAPublisher implements Runnable {
  readonly name = "root-ca-cert-publisher";
  readonly #rootCA: string;
  readonly #namespaces: Informer<Namespace>;
  readonly #configMaps: Informer<ConfigMap>;
  readonly #client: ResourceClient<ConfigMap>;
  readonly #controller: Controller;

  constructor(ctx: ControllerContext, rootCA: string) {
    this.#rootCA = rootCA;
    this.#namespaces = ctx.informers.informer<Namespace>("", "namespaces");
    // Only the one ConfigMap of each namespace is cached.
    this.#configMaps = ctx.informers.informer<ConfigMap>("", "configmaps", {
      fieldSelector: `metadata.name=${ROOT_CA_CONFIG_MAP}`,
    });
    this.#client = ctx.client.resource<ConfigMap>("", "configmaps");
    this.#controller = new Controller({
      name: "root-ca-cert-publisher",
      workers: ctx.options.workers,
      reconcile: (ns) => this.#syncNamespace(ns),
    });
    this.#namespaces.addEventHandler({
      add: (ns) => this.#controller.enqueue(ns.metadata?.name ?? ""),
      update: (_, ns) => {
        if ((ns.status?.phase ?? "Active") === "Active") this.#controller.enqueue(ns.metadata?.name ?? "");
      },
    });
    const enqueue = (cm: ConfigMap) => {
      if (cm.metadata?.name === ROOT_CA_CONFIG_MAP) this.#controller.enqueue(cm.metadata?.namespace ?? "");
    };
    this.#configMaps.addEventHandler({ update: (_, cm) => enqueue(cm), delete: enqueue });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  async #syncNamespace(ns: string): Promise<void> {
    if (!this.#namespaces.cache.get(ns)) return;
    const data = { "ca.crt": this.#rootCA };
    const cm = this.#configMaps.cache.getByName(ns, ROOT_CA_CONFIG_MAP);
    if (!cm) {
      try {
        await this.#client.create(ns, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: ROOT_CA_CONFIG_MAP,
            annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION },
          },
          data,
        });
      } catch (err) {
        // Namespace gone or going: nothing to retry. Already there: the informer will say.
        if (
          isStatusError(err, "NotFound") || isNamespaceTerminating(err) || isStatusError(err, "AlreadyExists")
        ) {
          return;
        }
        throw err;
      }
      return;
    }
    if (jsonEqual(cm.data ?? {}, data) && cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION]) return;
    const fixed: ConfigMap = clone(cm);
    fixed.data = data;
    fixed.metadata!.annotations = {
      ...fixed.metadata!.annotations,
      [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION,
    };
    await this.#client.update(ns, fixed);
  }
}
