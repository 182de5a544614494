/**
 * Starts the API server process: opens the store, makes or reuses certificates and the admin
 * token, bootstraps the system namespaces, and serves HTTPS (HTTP/2 and HTTP/1.1).
 */

import { openLmdbStore } from "../storage/mod.ts";
import { ensurePki } from "./pki.ts";
import { createApiServer } from "../api/server.ts";
import { loadOpenApi } from "../openapi/serve.ts";
import { NamespaceDeleter } from "../api/registry/namespace_deleter.ts";
import { isStatusError } from "../machinery/status.ts";
import type { Registry } from "../api/registry/mod.ts";
import type { ServerFlags } from "./flags.ts";

/** The namespaces every cluster starts with. */
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** Creates the system namespaces that are missing. */
export async function bootstrapNamespaces(registry: Registry): Promise<void> {
  const namespaces = registry.mustGet("", "namespaces");
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await namespaces.create("", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    } catch (err) {
      if (!isStatusError(err, "AlreadyExists")) throw err;
    }
  }
}

function kubeconfigHost(bind: string): string {
  if (bind === "0.0.0.0" || bind === "" || bind === "::") return "127.0.0.1";
  return bind;
}

/** Runs until SIGINT or SIGTERM. */
export async function runApiServer(flags: ServerFlags): Promise<void> {
  const started = performance.now();
  await Deno.mkdir(flags.dataDir, { recursive: true });
  const [store, openapi] = await Promise.all([
    openLmdbStore({ path: `${flags.dataDir}/db` }),
    loadOpenApi(),
  ]);
  const host = kubeconfigHost(flags.bind);
  const extraSans = host === "127.0.0.1" || host === "localhost" ? [] : [host];
  let ready = false;
  let port = flags.port;
  const pki = await ensurePki({ dataDir: flags.dataDir, host, port, extraSans });
  const server = createApiServer({
    store,
    token: pki.token,
    openapi,
    serverAddress: `${host}:${port}`,
    isReady: () => ready,
  });
  await bootstrapNamespaces(server.registry);
  const deleter = new NamespaceDeleter(server.registry);
  await deleter.start();

  const abort = new AbortController();
  const httpServer = Deno.serve({
    hostname: flags.bind,
    port,
    cert: pki.certPem,
    key: pki.keyPem,
    signal: abort.signal,
    onListen: (addr) => {
      port = (addr as Deno.NetAddr).port;
    },
  }, server.fetch);
  ready = true;
  const ms = (performance.now() - started).toFixed(0);
  console.error(`kubedeno: serving on https://${host}:${port} (ready in ${ms} ms)`);
  console.log(`export KUBECONFIG=${pki.kubeconfigPath}`);

  const shutdown = async () => {
    ready = false;
    deleter.stop();
    // End watches cleanly so clients reconnect, give the last bytes a moment, then stop.
    server.closeWatches();
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await Promise.race([httpServer.finished.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    await store.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  await httpServer.finished;
}
