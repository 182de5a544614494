/**
 * Certificates, the admin token and the admin kubeconfig.
 *
 * The first start makes, under `<dataDir>/pki/`, a CA, a serving certificate signed by it and an
 * admin bearer token, and writes `<dataDir>/kubeconfig` for kubectl. Later starts only read these
 * files back; the serving certificate is reissued when it no longer names every address the server
 * answers on or expires within 30 days, and the kubeconfig is rewritten when its content would change
 * (for example a new port).
 *
 * Layout:
 * - `pki/ca.crt`, `pki/ca.key` — the CA (ECDSA P-256, ten years)
 * - `pki/server.crt`, `pki/server.key` — the serving pair (ECDSA P-256, one year)
 * - `pki/token` — the admin bearer token (64 hex digits)
 * - `kubeconfig` — cluster, user and context all named after the project
 *
 * Keys, the token and the kubeconfig (which holds the token) are written with mode 0600.
 */

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import YAML from "yaml";

x509.cryptoProvider.set(crypto);

/** Everything a server needs to serve TLS and check the admin token, plus where the kubeconfig is. */
export interface Pki {
  /** The CA certificate, PEM. */
  caCertPem: string;
  /** The CA private key, PKCS#8 PEM. */
  caKeyPem: string;
  /** The serving certificate, PEM. */
  certPem: string;
  /** The serving private key, PKCS#8 PEM ("PRIVATE KEY"), as `Deno.serve` takes it. */
  keyPem: string;
  /** The admin bearer token. */
  token: string;
  /** The absolute path of the admin kubeconfig. */
  kubeconfigPath: string;
}

/** Options of {@linkcode ensurePki}. */
export interface EnsurePkiOptions {
  /** The data directory; `pki/` and `kubeconfig` go under it. */
  dataDir: string;
  /** The address written into the kubeconfig's server URL. */
  host: string;
  /** The port written into the kubeconfig's server URL. */
  port: number;
  /** More names or addresses the serving certificate must carry (e.g. a non-loopback bind address). */
  extraSans?: string[];
}

/** The name of the cluster, the context and the CA in what is generated here. */
export const CLUSTER_NAME = "kubedeno";
/** The user name of the admin in the kubeconfig. */
export const ADMIN_USER = "admin";
/** The address the `kubernetes` service will get. */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";

const KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING_ALGORITHM: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_LIFETIME_DAYS = 3650;
const SERVING_LIFETIME_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
/** Certificates start a little in the past so clocks that lag a bit still accept them. */
const BACKDATE_MS = 60 * 60 * 1000;

/** Where each file lives under a data directory. */
export function pkiPaths(dataDir: string): {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
  token: string;
  kubeconfig: string;
} {
  const root = absolute(dataDir);
  const dir = `${root}/pki`;
  return {
    dir,
    caCert: `${dir}/ca.crt`,
    caKey: `${dir}/ca.key`,
    cert: `${dir}/server.crt`,
    key: `${dir}/server.key`,
    token: `${dir}/token`,
    kubeconfig: `${root}/kubeconfig`,
  };
}

/**
 * The names and addresses the serving certificate must carry: loopback, this machine's host name,
 * the in-cluster names of the `kubernetes` service and its address, then `extra`.
 */
export function servingSans(extra: string[] = []): string[] {
  const names = [
    "127.0.0.1",
    "::1",
    "localhost",
    machineHostname(),
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    KUBERNETES_SERVICE_IP,
    ...extra,
  ];
  return [...new Set(names.filter((n) => n).map(normalizeSan))];
}

/** The `https://host:port` URL for a host name, IPv4 or IPv6 address. */
export function serverUrl(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, "");
  return `https://${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
}

/** The admin kubeconfig as YAML. */
export function kubeconfigYaml(options: { server: string; caCertPem: string; token: string }): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{
      name: CLUSTER_NAME,
      cluster: { server: options.server, "certificate-authority-data": base64(options.caCertPem) },
    }],
    users: [{ name: ADMIN_USER, user: { token: options.token } }],
    contexts: [{ name: CLUSTER_NAME, context: { cluster: CLUSTER_NAME, user: ADMIN_USER } }],
    "current-context": CLUSTER_NAME,
    preferences: {},
  });
}

/**
 * Reads what an earlier start left under `dataDir`, without checking or changing anything;
 * `undefined` when any piece is missing.
 */
export async function loadPki(dataDir: string): Promise<Pki | undefined> {
  const paths = pkiPaths(dataDir);
  const [caCertPem, caKeyPem, certPem, keyPem, token] = await Promise.all(
    [paths.caCert, paths.caKey, paths.cert, paths.key, paths.token].map(readIfPresent),
  );
  if (!caCertPem || !caKeyPem || !certPem || !keyPem || !token?.trim()) return undefined;
  return { caCertPem, caKeyPem, certPem, keyPem, token: token.trim(), kubeconfigPath: paths.kubeconfig };
}

/**
 * Makes whatever is missing or stale (CA, serving certificate, token, kubeconfig) and returns all of
 * it. A restart with the same options only reads files.
 */
export async function ensurePki(options: EnsurePkiOptions): Promise<Pki> {
  const paths = pkiPaths(options.dataDir);
  await Deno.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const [caCertText, caKeyText, certText, keyText, tokenText] = await Promise.all(
    [paths.caCert, paths.caKey, paths.cert, paths.key, paths.token].map(readIfPresent),
  );
  const now = new Date();

  let ca = caCertText && caKeyText ? loadCa(caCertText, caKeyText, now) : undefined;
  if (!ca) {
    ca = await createCa(now);
    await writeFileAtomic(paths.caCert, ca.certPem, 0o644);
    await writeFileAtomic(paths.caKey, ca.keyPem, 0o600);
  }

  const sans = servingSans(options.extraSans);
  let serving = certText && keyText ? { certPem: certText, keyPem: keyText } : undefined;
  if (!serving || needsReissue(serving.certPem, { ca: ca.cert, sans, now })) {
    serving = await createServing(ca, { sans, now });
    await writeFileAtomic(paths.cert, serving.certPem, 0o644);
    await writeFileAtomic(paths.key, serving.keyPem, 0o600);
  }

  let token = tokenText?.trim();
  if (!token) {
    token = newToken();
    await writeFileAtomic(paths.token, `${token}\n`, 0o600);
  }

  const kubeconfig = kubeconfigYaml({
    server: serverUrl(options.host, options.port),
    caCertPem: ca.certPem,
    token,
  });
  if ((await readIfPresent(paths.kubeconfig)) !== kubeconfig) {
    await writeFileAtomic(paths.kubeconfig, kubeconfig, 0o600);
  }

  return {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    token,
    kubeconfigPath: paths.kubeconfig,
  };
}

interface Ca {
  cert: x509.X509Certificate;
  certPem: string;
  keyPem: string;
  /** Present when just made; imported from `keyPem` only when a serving cert must be signed. */
  key?: CryptoKey;
}

function loadCa(certPem: string, keyPem: string, now: Date): Ca | undefined {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    return undefined;
  }
  if (cert.notAfter <= now) return undefined;
  return { cert, certPem, keyPem };
}

async function createCa(now: Date): Promise<Ca> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: `CN=${CLUSTER_NAME}-ca`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
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
  return {
    cert,
    certPem: certToPem(cert),
    keyPem: await privateKeyToPem(keys.privateKey),
    key: keys.privateKey,
  };
}

async function createServing(
  ca: Ca,
  options: { sans: string[]; now: Date },
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const signingKey = ca.key ?? await crypto.subtle.importKey(
    "pkcs8",
    pemToDer(ca.keyPem),
    KEY_ALGORITHM,
    false,
    ["sign"],
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: "CN=kube-apiserver",
    issuer: ca.cert.subject,
    notBefore: new Date(options.now.getTime() - BACKDATE_MS),
    notAfter: new Date(options.now.getTime() + SERVING_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      ...servingExtensions(options.sans),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: certToPem(cert), keyPem: await privateKeyToPem(keys.privateKey) };
}

/** What a serving certificate is for, and the names it answers to. */
function servingExtensions(sans: string[]): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(sans.map(toGeneralName)),
  ];
}

/**
 * A self-signed serving pair, as kubelet makes for itself when it has no certificate from the
 * cluster (`CN=<node>@<unix time>`); the API server does not verify kubelet serving certificates
 * by default.
 */
export async function selfSignedServing(
  node: string,
  sans: string[],
  now = new Date(),
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: `CN=${node}@${Math.floor(now.getTime() / 1000)}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + SERVING_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: servingExtensions(sans),
  });
  return { certPem: certToPem(cert), keyPem: await privateKeyToPem(keys.privateKey) };
}

/**
 * Whether a serving certificate must be replaced: unreadable, issued by another CA, expiring within
 * 30 days, or missing one of `sans`.
 */
function needsReissue(
  certPem: string,
  options: { ca: x509.X509Certificate; sans: string[]; now: Date },
): boolean {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    return true;
  }
  if (cert.issuer !== options.ca.subject || !sameKeyIdentifier(cert, options.ca)) return true;
  if (cert.notAfter.getTime() - options.now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return true;
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const have = new Set(names.map((n) => normalizeSan(n.value)));
  return options.sans.some((san) => !have.has(san));
}

/** Whether the certificate's authority key identifier names the CA's subject key identifier. */
function sameKeyIdentifier(cert: x509.X509Certificate, ca: x509.X509Certificate): boolean {
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return aki === undefined || ski === undefined || aki === ski;
}

function toGeneralName(san: string): x509.JsonGeneralName {
  return { type: isIpAddress(san) ? "ip" : "dns", value: san };
}

function isIpAddress(value: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(value) || value.includes(":");
}

/** Lower-cases DNS names and writes IPv6 addresses the way a URL would. */
function normalizeSan(value: string): string {
  if (value.includes(":")) {
    try {
      return new URL(`http://[${value.replace(/^\[|\]$/g, "")}]/`).hostname.slice(1, -1);
    } catch {
      return value;
    }
  }
  return value.toLowerCase();
}

function machineHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
}

/** A random positive 128-bit serial number, as hex. */
function newSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return toHex(bytes);
}

/** 32 random bytes as 64 hex digits. */
function newToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function certToPem(cert: x509.X509Certificate): string {
  return derToPem(cert.rawData, "CERTIFICATE");
}

async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return derToPem(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function derToPem(der: ArrayBuffer, label: string): string {
  const lines = base64Bytes(new Uint8Array(der)).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----(BEGIN|END)[^-]*-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

function base64(text: string): string {
  return base64Bytes(new TextEncoder().encode(text));
}

function base64Bytes(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function absolute(path: string): string {
  const joined = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return joined.replace(/\/+$/, "").replace(/\/(\.\/)+/g, "/") || "/";
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a key behind. */
async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${toHex(crypto.getRandomValues(new Uint8Array(4)))}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text, { mode });
    await Deno.chmod(temporary, mode);
    await Deno.rename(temporary, path);
  } catch (err) {
    await Deno.remove(temporary).catch(() => {});
    throw err;
  }
}
