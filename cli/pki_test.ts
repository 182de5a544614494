import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as x509 from "@peculiar/x509";
import YAML from "yaml";
import { ensurePki, loadPki, type Pki, pkiPaths, serverUrl, servingSans } from "./pki.ts";

const VERSION = { major: "1", minor: "33", gitVersion: "v1.33.0", platform: "linux/amd64" };

async function withDataDir(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "kubedeno-pki-" });
  try {
    await fn(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Serves `/version` over TLS with the pki's serving pair; answers 401 without the admin token. */
async function withServer(pki: Pki, fn: (port: number) => Promise<void>): Promise<void> {
  const abort = new AbortController();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: pki.certPem,
      key: pki.keyPem,
      signal: abort.signal,
      onListen() {},
    },
    (req) => {
      if (req.headers.get("authorization") !== `Bearer ${pki.token}`) {
        return new Response("", { status: 401 });
      }
      return new URL(req.url).pathname === "/version"
        ? Response.json(VERSION)
        : new Response("", { status: 404 });
    },
  );
  try {
    await fn(server.addr.port);
  } finally {
    abort.abort();
    await server.finished;
  }
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function mtimes(dataDir: string): Promise<number[]> {
  const p = pkiPaths(dataDir);
  const paths = [p.caCert, p.caKey, p.cert, p.key, p.token, p.kubeconfig];
  return await Promise.all(paths.map(async (path) => (await Deno.stat(path)).mtime!.getTime()));
}

async function installed(bin: string): Promise<boolean> {
  try {
    await new Deno.Command(bin, { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

function sanValues(certPem: string): string[] {
  const cert = new x509.X509Certificate(certPem);
  return cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value);
}

test("first start makes the CA, serving pair, token and kubeconfig with private modes", async () => {
  await withDataDir(async (dataDir) => {
    assert.is(await loadPki(dataDir), undefined);
    const pki = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    const paths = pkiPaths(dataDir);
    assert.is(pki.kubeconfigPath, `${dataDir}/kubeconfig`);
    assert.match(pki.caCertPem, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(pki.certPem, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(pki.caKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(pki.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(pki.token, /^[0-9a-f]{64}$/);
    assert.is(await Deno.readTextFile(paths.caCert), pki.caCertPem);
    assert.is((await Deno.readTextFile(paths.token)).trim(), pki.token);
    for (const path of [paths.caKey, paths.key, paths.token, paths.kubeconfig]) {
      assert.is(await mode(path), 0o600, path);
    }
    assert.equal(await loadPki(dataDir), pki);
  });
});

test("the certificates carry the extensions Go's TLS stack checks", async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki({
      dataDir,
      host: "127.0.0.1",
      port: 6443,
      extraSans: ["192.0.2.7", "Api.Example"],
    });
    const ca = new x509.X509Certificate(pki.caCertPem);
    const serving = new x509.X509Certificate(pki.certPem);
    assert.ok(await ca.isSelfSigned());
    assert.is(ca.getExtension(x509.BasicConstraintsExtension)!.ca, true);
    assert.ok(ca.getExtension(x509.KeyUsagesExtension)!.usages & x509.KeyUsageFlags.keyCertSign);
    assert.ok(ca.notAfter.getTime() - Date.now() > 9 * 365 * 24 * 3600 * 1000);

    assert.ok(await serving.verify({ publicKey: ca.publicKey, signatureOnly: true }));
    assert.is(serving.issuer, ca.subject);
    assert.is(serving.getExtension(x509.BasicConstraintsExtension)!.ca, false);
    const usages = serving.getExtension(x509.KeyUsagesExtension)!.usages;
    assert.ok(usages & x509.KeyUsageFlags.digitalSignature);
    assert.ok(usages & x509.KeyUsageFlags.keyEncipherment);
    assert.equal(
      Array.from(serving.getExtension(x509.ExtendedKeyUsageExtension)!.usages, (u) => String(u)),
      [x509.ExtendedKeyUsage.serverAuth],
    );
    const sans = sanValues(pki.certPem);
    for (
      const name of [
        "127.0.0.1",
        "localhost",
        Deno.hostname(),
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "10.96.0.1",
        "192.0.2.7",
        "api.example",
      ]
    ) assert.ok(sans.includes(name), `missing SAN ${name} in ${sans}`);
    assert.ok(sans.some((s) => s === "::1" || s === "0:0:0:0:0:0:0:1"), `missing SAN ::1 in ${sans}`);
  });
});

test("a restart reuses everything and only reads files", async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443, extraSans: ["::1", "10.1.2.3"] });
    const before = await mtimes(dataDir);
    await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    const again = await ensurePki({
      dataDir,
      host: "127.0.0.1",
      port: 6443,
      extraSans: ["0:0::1", "10.1.2.3"],
    });
    const ms = performance.now() - started;
    assert.equal(again, first);
    assert.equal(await mtimes(dataDir), before);
    assert.ok(ms < 200, `restart took ${ms.toFixed(1)} ms`);
  });
});

test("a new port rewrites only the kubeconfig; a new SAN reissues only the serving pair", async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    const moved = await ensurePki({ dataDir, host: "127.0.0.1", port: 7443 });
    assert.equal(moved, first);
    const kubeconfig = YAML.parse(await Deno.readTextFile(first.kubeconfigPath));
    assert.is(kubeconfig.clusters[0].cluster.server, "https://127.0.0.1:7443");

    const widened = await ensurePki({ dataDir, host: "192.0.2.9", port: 7443, extraSans: ["192.0.2.9"] });
    assert.is(widened.caCertPem, first.caCertPem);
    assert.is(widened.token, first.token);
    assert.is.not(widened.certPem, first.certPem);
    assert.is.not(widened.keyPem, first.keyPem);
    assert.ok(sanValues(widened.certPem).includes("192.0.2.9"));
  });
});

test("a serving cert close to expiry or from another CA is reissued", async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    const paths = pkiPaths(dataDir);

    // Re-sign the same SANs with the same CA, valid for ten more days only.
    const caKey = await crypto.subtle.importKey(
      "pkcs8",
      x509.PemConverter.decodeFirst(first.caKeyPem),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    );
    const old = new x509.X509Certificate(first.certPem);
    const short = await x509.X509CertificateGenerator.create({
      serialNumber: "01",
      subject: old.subject,
      issuer: old.issuer,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 10 * 24 * 3600_000),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      publicKey: old.publicKey,
      signingKey: caKey,
      extensions: [old.getExtension(x509.SubjectAlternativeNameExtension)!],
    });
    await Deno.writeTextFile(paths.cert, short.toString("pem"));
    const renewed = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    assert.is(renewed.caCertPem, first.caCertPem);
    assert.ok(
      new x509.X509Certificate(renewed.certPem).notAfter.getTime() > Date.now() + 300 * 24 * 3600_000,
    );

    // A lost CA is remade, and the serving pair with it; the token survives.
    await Deno.remove(paths.caCert);
    await Deno.remove(paths.caKey);
    const remade = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    assert.is.not(remade.caCertPem, first.caCertPem);
    assert.is(remade.token, first.token);
    const ca = new x509.X509Certificate(remade.caCertPem);
    assert.ok(
      await new x509.X509Certificate(remade.certPem).verify({ publicKey: ca.publicKey, signatureOnly: true }),
    );
  });
});

test("the kubeconfig parses as YAML and names the cluster, user and context", async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    const config = YAML.parse(await Deno.readTextFile(pki.kubeconfigPath));
    assert.is(config.apiVersion, "v1");
    assert.is(config.kind, "Config");
    assert.is(config["current-context"], "kubedeno");
    assert.equal(config.contexts, [{ name: "kubedeno", context: { cluster: "kubedeno", user: "admin" } }]);
    assert.is(config.clusters.length, 1);
    assert.is(config.clusters[0].name, "kubedeno");
    assert.is(config.clusters[0].cluster.server, "https://127.0.0.1:6443");
    assert.is(atob(config.clusters[0].cluster["certificate-authority-data"]), pki.caCertPem);
    assert.equal(config.users, [{ name: "admin", user: { token: pki.token } }]);
  });
});

test("serverUrl brackets IPv6 addresses; servingSans drops duplicates", () => {
  assert.is(serverUrl("127.0.0.1", 6443), "https://127.0.0.1:6443");
  assert.is(serverUrl("::1", 6443), "https://[::1]:6443");
  assert.is(serverUrl("[fd00::1]", 1), "https://[fd00::1]:1");
  assert.is(serverUrl("example.test", 443), "https://example.test:443");
  const sans = servingSans(["127.0.0.1", "0:0::1", "LOCALHOST", "10.0.0.5"]);
  assert.is(sans.filter((s) => s === "127.0.0.1" || s === "::1" || s === "localhost").length, 3);
  assert.is(sans.at(-1), "10.0.0.5");
});

test("TLS with the serving pair: a client trusting the CA connects, one that does not is refused", async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    await withServer(pki, async (port) => {
      const client = Deno.createHttpClient({ caCerts: [pki.caCertPem] });
      try {
        for (const host of ["127.0.0.1", "localhost"]) {
          const res = await fetch(`https://${host}:${port}/version`, {
            client,
            headers: { authorization: `Bearer ${pki.token}` },
          });
          assert.equal(await res.json(), VERSION);
        }
      } finally {
        client.close();
      }
      let error: unknown;
      try {
        await (await fetch(`https://127.0.0.1:${port}/version`)).body?.cancel();
      } catch (err) {
        error = err;
      }
      assert.ok(error instanceof TypeError, `an untrusting client connected (${error})`);
    });
  });
});

test("curl and kubectl accept the certificate and the kubeconfig unchanged", async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki({ dataDir, host: "127.0.0.1", port: 6443 });
    await withServer(pki, async (port) => {
      await ensurePki({ dataDir, host: "127.0.0.1", port });
      const caFile = `${dataDir}/pki/ca.crt`;
      if (await installed("curl")) {
        const curl = await new Deno.Command("curl", {
          args: [
            "-sS",
            "--cacert",
            caFile,
            "-H",
            `Authorization: Bearer ${pki.token}`,
            `https://localhost:${port}/version`,
          ],
        }).output();
        assert.is(curl.code, 0, new TextDecoder().decode(curl.stderr));
        assert.equal(JSON.parse(new TextDecoder().decode(curl.stdout)), VERSION);
        const refused = await new Deno.Command("curl", { args: ["-sS", `https://127.0.0.1:${port}/version`] })
          .output();
        assert.is.not(refused.code, 0);
      } else console.log("skipping curl: not installed");

      if (await installed("kubectl")) {
        const home = await Deno.makeTempDir({ prefix: "kubedeno-home-" });
        try {
          const kubectl = await new Deno.Command("kubectl", {
            args: ["--kubeconfig", pki.kubeconfigPath, "get", "--raw", "/version"],
            env: { HOME: home },
          }).output();
          assert.is(kubectl.code, 0, new TextDecoder().decode(kubectl.stderr));
          assert.equal(JSON.parse(new TextDecoder().decode(kubectl.stdout)), VERSION);
        } finally {
          await Deno.remove(home, { recursive: true });
        }
      } else console.log("skipping kubectl: not installed");
    });
  });
});

test.run();
