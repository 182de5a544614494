/**
 * The tag of a container image reference, read the way the API server reads it when it picks a
 * container's (or image volume's) default pull policy: `Always` when the tag is `latest` (also
 * when there is neither tag nor digest, which means `latest`), `IfNotPresent` otherwise —
 * including references it cannot parse, which validation reports separately.
 *
 * Grammar (the container registry reference grammar, normalised to Docker Hub when no registry
 * is named):
 *   reference  := name [":" tag] ["@" digest]
 *   name       := [domain "/"] component ("/" component)*
 *   domain     := host [":" port]        host := dns-name | "[" ipv6 "]"
 *   component  := [a-z0-9]+ (separator [a-z0-9]+)*     separator := [._] | "__" | "-"+
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" hex      (sha256, sha384, sha512 with their exact lengths)
 */

const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const HEX_IDENTIFIER = /^[a-f0-9]{64}$/;
const NAME_MAX_LENGTH = 255;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** What a reference parses to; undefined when it does not parse. */
export interface ImageReference {
  name: string;
  tag: string;
  digest: string;
}

/** Splits off the registry the way Docker Hub short names are read ("busybox" is on docker.io). */
function withDomain(ref: string): { domain: string; remainder: string } {
  const slash = ref.indexOf("/");
  if (slash === -1) return { domain: "docker.io", remainder: ref };
  const first = ref.slice(0, slash);
  const looksLikeHost = /[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first;
  return looksLikeHost
    ? { domain: first, remainder: ref.slice(slash + 1) }
    : { domain: "docker.io", remainder: ref };
}

function validDigest(digest: string): boolean {
  const colon = digest.indexOf(":");
  const hexLength = DIGEST_HEX_LENGTH[digest.slice(0, colon)];
  const hex = digest.slice(colon + 1);
  return hexLength !== undefined && hex.length === hexLength && /^[a-f0-9]+$/.test(hex);
}

/** Parses an image reference; undefined when the API server would fail to parse it. */
export function parseImageReference(image: string): ImageReference | undefined {
  if (image === "" || HEX_IDENTIFIER.test(image)) return undefined;
  const { domain, remainder } = withDomain(image);
  const colon = remainder.indexOf(":");
  const repository = colon === -1 ? remainder : remainder.slice(0, colon);
  if (repository.toLowerCase() !== repository) return undefined;
  const m = REFERENCE.exec(`${domain}/${remainder}`);
  if (!m) return undefined;
  const [, name, tag = "", digest = ""] = m;
  if (name.length > NAME_MAX_LENGTH) return undefined;
  if (digest && !validDigest(digest)) return undefined;
  return { name, tag: tag || (digest ? "" : "latest"), digest };
}

/** The pull policy a container gets when it names none. */
export function defaultPullPolicy(image: unknown): "Always" | "IfNotPresent" {
  const ref = typeof image === "string" ? parseImageReference(image) : undefined;
  return ref?.tag === "latest" ? "Always" : "IfNotPresent";
}
