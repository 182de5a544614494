/**
 * A client from a kubeconfig file, for the processes that run apart from the API server
 * (`kubedeno controllers|scheduler|simulate --kubeconfig F`): the current context's server, its
 * CA (inline or a file), and a bearer token (inline or a file) or a client certificate.
 */

import { parse } from "yaml";
import { Client } from "../machinery/client.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function named(list: Json[] | undefined, name: string, what: string): Json {
  const item = (list ?? []).find((x) => x?.name === name);
  if (!item) throw new Error(`kubeconfig: no ${what} named "${name}"`);
  return item;
}

async function material(
  inline: string | undefined,
  file: string | undefined,
  base: string,
): Promise<string | undefined> {
  if (inline) return new TextDecoder().decode(Uint8Array.from(atob(inline), (c) => c.charCodeAt(0)));
  if (file) return await Deno.readTextFile(file.startsWith("/") ? file : `${base}/${file}`);
  return undefined;
}

/** A client for the kubeconfig's current context, and that cluster's CA (PEM) when it names one. */
export async function clientFromKubeconfig(
  path: string,
  userAgent = "kubedeno",
): Promise<{ client: Client; ca?: string }> {
  const doc = parse(await Deno.readTextFile(path)) as Json;
  const base = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  const contextName = doc["current-context"];
  const context = named(doc.contexts, contextName, "context").context;
  const cluster = named(doc.clusters, context.cluster, "cluster").cluster;
  const user = named(doc.users, context.user, "user").user ?? {};
  const ca = await material(cluster["certificate-authority-data"], cluster["certificate-authority"], base);
  const cert = await material(user["client-certificate-data"], user["client-certificate"], base);
  const key = await material(user["client-key-data"], user["client-key"], base);
  const token = user.token ?? (user.tokenFile ? (await Deno.readTextFile(user.tokenFile)).trim() : undefined);
  const httpClient = Deno.createHttpClient({
    ...(ca ? { caCerts: [ca] } : {}),
    ...(cert && key ? { cert, key } : {}),
  });
  const client = new Client({
    server: cluster.server,
    token,
    userAgent,
    transport: (request) => fetch(request, { client: httpClient }),
  });
  return { client, ca };
}
