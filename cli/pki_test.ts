import { test } from "uvu";
import * as assert from "uvu/assert";
import YAML from "yaml";
import { ensurePki } from "./pki.ts";

test("ensurePki makes a CA, a serving cert, a token and a kubeconfig, and reuses them", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kubedeno-pki-" });
  const first = await ensurePki({ dataDir, host: "127.0.0.1", port: 7443 });
  assert.match(first.caCertPem, /BEGIN CERTIFICATE/);
  assert.match(first.keyPem, /BEGIN PRIVATE KEY/);
  assert.is(first.token.length, 64);
  assert.is((await Deno.stat(`${dataDir}/pki/token`)).mode! & 0o777, 0o600);
  const kc = YAML.parse(await Deno.readTextFile(first.kubeconfigPath));
  assert.is(kc["current-context"], "kubedeno");
  assert.is(kc.clusters[0].cluster.server, "https://127.0.0.1:7443");
  assert.is(atob(kc.clusters[0].cluster["certificate-authority-data"]), first.caCertPem);
  assert.is(kc.users[0].user.token, first.token);

  const started = performance.now();
  const again = await ensurePki({ dataDir, host: "127.0.0.1", port: 7443 });
  assert.ok(performance.now() - started < 500);
  assert.is(again.token, first.token);
  assert.is(again.caCertPem, first.caCertPem);
  assert.is(again.certPem, first.certPem);

  // The pair serves TLS that a client trusting the CA accepts, and one that does not refuses.
  const ac = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, cert: first.certPem, key: first.keyPem, signal: ac.signal, onListen() {} }, () => new Response("ok"));
  const port = server.addr.port;
  const client = Deno.createHttpClient({ caCerts: [first.caCertPem] });
  const res = await fetch(`https://localhost:${port}/`, { client });
  assert.is(await res.text(), "ok");
  let refused = false;
  try {
    await (await fetch(`https://127.0.0.1:${port}/`)).text();
  } catch {
    refused = true;
  }
  assert.ok(refused, "an untrusting client connected");
  client.close();
  ac.abort();
  await server.finished;
  await Deno.remove(dataDir, { recursive: true });
});

test.run();
