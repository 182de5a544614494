/**
 * The service-account controller, as upstream's: every active namespace has a ServiceAccount
 * named `default`; it is created with the namespace and again whenever it is deleted.
 */

import { isStatusError } from "../../machinery/status.ts";
import type { ResourceClient } from "../../machinery/client.ts";
import type { ControllerContext, Runnable } from "../framework/mod.ts";
import { Controller } from "../framework/controller.ts";
import type { Informer } from "../framework/informer.ts";
import type { Namespace } from "../types.ts";
import type { Schema } from "../../openapi/generated/types.ts";

export type ServiceAccount = Schema<"io.k8s.api.core.v1.ServiceAccount">;

/** The service accounts every namespace gets. */
export const SERVICE_ACCOUNTS_TO_ENSURE = ["default"];

export function newServiceAccountController(ctx: ControllerContext): Runnable {
  return new ServiceAccountsController(ctx);
}

/** A create refused because the namespace is going away: nothing to retry. */
export function isNamespaceTerminating(err: unknown): boolean {
  return isStatusError(err) &&
    (err.details?.causes?.some((c) => c.reason === "NamespaceTerminating") ||
      err.message.includes("because it is being terminated"));
}

class ServiceAccountsController implements Runnable {
  readonly name = "serviceaccount";
  readonly #namespaces: Informer<Namespace>;
  readonly #accounts: Informer<ServiceAccount>;
  readonly #client: ResourceClient<ServiceAccount>;
  readonly #controller: Controller;

  constructor(ctx: ControllerContext) {
    this.#namespaces = ctx.informers.informer<Namespace>("", "namespaces");
    this.#accounts = ctx.informers.informer<ServiceAccount>("", "serviceaccounts");
    this.#client = ctx.client.resource<ServiceAccount>("", "serviceaccounts");
    this.#controller = new Controller({
      name: "serviceaccount",
      workers: ctx.options.workers,
      reconcile: (ns) => this.#syncNamespace(ns),
    });
    const enqueue = (ns: Namespace) => this.#controller.enqueue(ns.metadata?.name ?? "");
    this.#namespaces.addEventHandler({ add: enqueue, update: (_, ns) => enqueue(ns) });
    this.#accounts.addEventHandler({
      delete: (sa) => {
        if (SERVICE_ACCOUNTS_TO_ENSURE.includes(sa.metadata?.name ?? "")) {
          this.#controller.enqueue(sa.metadata?.namespace ?? "");
        }
      },
    });
  }

  run(): void {
    this.#controller.run();
  }

  stop(): Promise<void> {
    return this.#controller.stop();
  }

  async #syncNamespace(name: string): Promise<void> {
    const ns = this.#namespaces.cache.get(name);
    if (!ns || (ns.status?.phase ?? "Active") !== "Active" || ns.metadata?.deletionTimestamp) return;
    const failures: string[] = [];
    for (const account of SERVICE_ACCOUNTS_TO_ENSURE) {
      if (this.#accounts.cache.getByName(name, account)) continue;
      try {
        await this.#client.create(name, {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: account },
        });
      } catch (err) {
        if (isStatusError(err, "AlreadyExists") || isNamespaceTerminating(err)) continue;
        failures.push((err as Error).message);
      }
    }
    if (failures.length) throw new Error(failures.join("; "));
  }
}
