/**
 * The node's image catalog: what a container of a given image sees on this host. An entry maps
 * an image name (the reference without registry defaults, tag or digest) to either a multi-call
 * binary (`multicall`: busybox; the node makes a directory of links named after its applets) or
 * host directories (`dirs`), plus the image's PATH inside the container (`path`) and its default
 * `entrypoint` and `cmd`. Nothing is pulled: an image that is not in the catalog is refused with a
 * message saying how to add it. The catalog ships as `node/images.json`; `--image-catalog F`
 * (or KUBEDENO_IMAGE_CATALOG) adds entries.
 */

export interface CatalogEntry {
  /** A multi-call binary whose applets become the image's commands. */
  multicall?: string;
  /** Host directories whose executables become the image's commands. */
  dirs?: string[];
  /** The image's PATH (the directories a command without a slash is looked up in). */
  path?: string[];
  entrypoint?: string[];
  cmd?: string[];
  /** What provides it on the host (shown when it is missing). */
  needs?: string;
}

/** An image as a container runs it. */
export interface ResolvedImage {
  name: string;
  /** Host directories holding the image's commands, searched first. */
  bin: string[];
  /** The image's own PATH directories: an absolute command in one of them is the image's. */
  dirs: string[];
  /** The PATH the container's environment gets: the image's commands, then its PATH. */
  path: string;
  entrypoint: string[];
  cmd: string[];
  /** Stands in for the digest in `imageID`. */
  imageID: string;
}

export class ImagePullError extends Error {}

const DEFAULT_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** `docker.io/library/busybox:1.36@sha256:…` → `busybox`; `registry.k8s.io/pause:3.9` → `registry.k8s.io/pause`. */
export function imageName(ref: string): string {
  let name = ref.trim();
  const at = name.indexOf("@");
  if (at >= 0) name = name.slice(0, at);
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  if (colon > slash) name = name.slice(0, colon);
  for (const prefix of ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]) {
    if (name.startsWith(prefix)) name = name.slice(prefix.length);
  }
  if (name.startsWith("library/")) name = name.slice("library/".length);
  return name;
}

export class ImageCatalog {
  readonly #entries: Record<string, CatalogEntry>;
  readonly #dir: string;
  readonly #prepared = new Map<string, ResolvedImage>();

  /** `dir`: where multi-call link directories are made (under the node's root directory). */
  constructor(entries: Record<string, CatalogEntry>, dir: string) {
    this.#entries = entries;
    this.#dir = dir;
  }

  /** The shipped catalog plus the entries of `extraFile`, if given. */
  static async load(dir: string, extraFile?: string): Promise<ImageCatalog> {
    const shipped = JSON.parse(await Deno.readTextFile(new URL("../images.json", import.meta.url)));
    const extra = extraFile ? JSON.parse(await Deno.readTextFile(extraFile)) : {};
    return new ImageCatalog({ ...shipped, ...extra }, dir);
  }

  /** The image `ref` names, ready to run; throws ImagePullError when the node cannot provide it. */
  async resolve(ref: string): Promise<ResolvedImage> {
    const name = imageName(ref);
    const known = this.#prepared.get(name);
    if (known) return known;
    const entry = this.#entries[name];
    if (!entry) {
      throw new ImagePullError(
        `image "${ref}" is not in this node's image catalog; add an entry for "${name}" to node/images.json ` +
          `(or to the file given with --image-catalog) saying which host binaries it provides`,
      );
    }
    let bin: string[];
    if (entry.multicall) bin = [await this.#linkApplets(name, entry)];
    else bin = entry.dirs ?? [];
    const image: ResolvedImage = {
      name,
      bin,
      dirs: entry.path ?? DEFAULT_PATH,
      path: [...bin, ...(entry.path ?? DEFAULT_PATH)].join(":"),
      entrypoint: entry.entrypoint ?? [],
      cmd: entry.cmd ?? [],
      imageID: `kubedeno.io/catalog/${name}`,
    };
    this.#prepared.set(name, image);
    return image;
  }

  /** A directory with one link per applet of the entry's multi-call binary. */
  async #linkApplets(name: string, entry: CatalogEntry): Promise<string> {
    const binary = entry.multicall!;
    try {
      await Deno.stat(binary);
    } catch {
      throw new ImagePullError(
        `image "${name}" needs ${binary}${
          entry.needs ? ` (${entry.needs})` : ""
        }, which this host does not have`,
      );
    }
    const dir = `${this.#dir}/${name.replaceAll("/", "_")}/bin`;
    const list = await new Deno.Command(binary, { args: ["--list"], stdout: "piped", stderr: "null" })
      .output();
    const applets = new TextDecoder().decode(list.stdout).split("\n").filter((a) => /^[\w.\[-]+$/.test(a));
    await Deno.mkdir(dir, { recursive: true });
    for (const applet of applets) {
      try {
        await Deno.symlink(binary, `${dir}/${applet}`);
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
    }
    return dir;
  }
}
