/**
 * The ceiling for create throughput: a bare Hono handler over the same TLS that reads the body
 * and does one durable LMDB transaction per request with the same bytes. Nothing else.
 *
 * Usage: deno run -A bench/ceiling_server.ts <port> <certFile> <keyFile> <dbDir>
 */

import { Hono } from "hono";
import { open } from "lmdb";

const [port, certFile, keyFile, dbDir] = Deno.args;
const db = open({ path: dbDir, compression: false });
let revision = 0;
const app = new Hono();
app.post("*", async (c) => {
  const body = await c.req.json();
  const rev = ++revision;
  await db.transaction(() => {
    db.put(`/registry/${rev}`, body);
    db.put(`/log/${rev}`, body);
  });
  await db.flushed;
  return c.json(body, 201);
});
Deno.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  cert: await Deno.readTextFile(certFile),
  key: await Deno.readTextFile(keyFile),
  onListen: () => console.log("ready"),
}, app.fetch);
