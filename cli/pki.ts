/**
 * Certificates, admin token and kubeconfig: made on first start under `<dataDir>/pki/`,
 * reused on every restart.
 */

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import YAML from "yaml";

export interface Pki {
  caCertPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
  token: string;
  kubeconfigPath: string;
}

export interface PkiOptions {
  dataDir: string;
  /** The address written into the kubeconfig. */
  host: string;
  port: number;
  extraSans?: string[];
}

const ALG: EcKeyGenParams & EcdsaParams = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 24 * 3600 * 1000;

x509.cryptoProvider.set(crypto);

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

function fromPem(pem: string): ArrayBuffer {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function writeSecret(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function isIp(s: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s) || s.includes(":");
}

/** The subject alternative names the serving certificate must carry. */
export function wantedSans(extra: string[] = []): string[] {
  let hostname = "";
  try {
    hostname = Deno.hostname();
  } catch { /* no hostname permission */ }
  const names = [
    "127.0.0.1",
    "::1",
    "localhost",
    hostname,
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "10.96.0.1",
    ...extra,
  ];
  return [...new Set(names.filter((n) => n))];
}

async function makeCa(): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=kubedeno-ca",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function makeServing(
  ca: x509.X509Certificate,
  caKey: CryptoKey,
  sans: string[],
): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: "CN=kube-apiserver",
    issuer: ca.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        sans.map((n) => ({ type: isIp(n) ? "ip" as const : "dns" as const, value: n })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return { cert, keys };
}

function coversSans(cert: x509.X509Certificate, sans: string[]): boolean {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return false;
  const have = new Set(ext.names.items.map((n) => n.value));
  return sans.every((s) => have.has(s));
}

/** The kubeconfig text for the admin user. */
export function kubeconfigYaml(server: string, caPem: string, token: string): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "kubedeno", cluster: { server, "certificate-authority-data": btoa(caPem) } }],
    users: [{ name: "admin", user: { token } }],
    contexts: [{ name: "kubedeno", context: { cluster: "kubedeno", user: "admin" } }],
    "current-context": "kubedeno",
    preferences: {},
  });
}

/** Makes what is missing (CA, serving cert, token, kubeconfig) and returns all of it. */
export async function ensurePki(options: PkiOptions): Promise<Pki> {
  const dataDir = options.dataDir.startsWith("/") ? options.dataDir : `${Deno.cwd()}/${options.dataDir}`;
  const dir = `${dataDir}/pki`;
  await Deno.mkdir(dir, { recursive: true });
  const paths = {
    caCert: `${dir}/ca.crt`,
    caKey: `${dir}/ca.key`,
    cert: `${dir}/server.crt`,
    key: `${dir}/server.key`,
    token: `${dir}/token`,
    kubeconfig: `${dataDir}/kubeconfig`,
  };
  let [caCertPem, caKeyPem, certPem, keyPem, token] = await Promise.all([
    readText(paths.caCert),
    readText(paths.caKey),
    readText(paths.cert),
    readText(paths.key),
    readText(paths.token),
  ]);

  let caCert: x509.X509Certificate;
  let caKey: CryptoKey | undefined;
  if (!caCertPem || !caKeyPem) {
    const ca = await makeCa();
    caCert = ca.cert;
    caKey = ca.keys.privateKey;
    caCertPem = caCert.toString("pem") + "\n";
    caKeyPem = toPem(await crypto.subtle.exportKey("pkcs8", ca.keys.privateKey), "PRIVATE KEY");
    await Deno.writeTextFile(paths.caCert, caCertPem);
    await writeSecret(paths.caKey, caKeyPem);
    certPem = undefined;
  } else {
    caCert = new x509.X509Certificate(caCertPem);
  }

  const sans = wantedSans(options.extraSans);
  let reissue = !certPem || !keyPem;
  if (!reissue) {
    const cert = new x509.X509Certificate(certPem!);
    reissue = cert.notAfter.getTime() - Date.now() < 30 * DAY_MS || !coversSans(cert, sans);
  }
  if (reissue) {
    caKey ??= await crypto.subtle.importKey("pkcs8", fromPem(caKeyPem), ALG, true, ["sign"]);
    const serving = await makeServing(caCert, caKey, sans);
    certPem = serving.cert.toString("pem") + "\n";
    keyPem = toPem(await crypto.subtle.exportKey("pkcs8", serving.keys.privateKey), "PRIVATE KEY");
    await Deno.writeTextFile(paths.cert, certPem);
    await writeSecret(paths.key, keyPem);
  }

  if (!token?.trim()) {
    token = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
    await writeSecret(paths.token, token + "\n");
  }
  token = token.trim();

  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const wanted = kubeconfigYaml(`https://${host}:${options.port}`, caCertPem, token);
  if ((await readText(paths.kubeconfig)) !== wanted) await writeSecret(paths.kubeconfig, wanted);

  return { caCertPem, caKeyPem, certPem: certPem!, keyPem: keyPem!, token, kubeconfigPath: paths.kubeconfig };
}
