/**
 * A pod's volumes on the node: each becomes a host directory, which the runtime mounts at the
 * containers' `mountPath`s. emptyDir (a tmpfs for medium Memory when root), configMap, secret,
 * downwardAPI and projected (their keys as files, refreshed while the pod runs), hostPath, and
 * persistentVolumeClaim (the bound volume's local or hostPath directory).
 */

// deno-lint-ignore no-explicit-any
type Json = any;

export interface VolumeContext {
  /** `<pod dir>/volumes`. */
  dir: string;
  lookup(
    kind: "configmaps" | "secrets" | "persistentvolumeclaims" | "persistentvolumes",
    namespace: string,
    name: string,
  ): Promise<Json | undefined>;
  /** A downward API field of the pod (`metadata.name`, `metadata.labels`, …). */
  field(path: string): string | undefined;
}

export class VolumeError extends Error {}

/** One key of a source written as a file. */
interface FileSpec {
  path: string;
  content: Uint8Array;
  mode: number;
}

const text = (s: string) => new TextEncoder().encode(s);

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** The files a configMap or secret source gives (all keys, or `items`), or why it cannot. */
async function keyFiles(
  kind: "configmaps" | "secrets",
  source: Json,
  namespace: string,
  ctx: VolumeContext,
  defaultMode: number,
): Promise<FileSpec[]> {
  const name = kind === "configmaps" ? source.name : source.secretName ?? source.name;
  const object = await ctx.lookup(kind, namespace, name);
  if (!object) {
    if (source.optional) return [];
    throw new VolumeError(`${kind === "configmaps" ? "configmap" : "secret"} "${name}" not found`);
  }
  const values = new Map<string, Uint8Array>();
  if (kind === "configmaps") {
    for (const [k, v] of Object.entries(object.data ?? {})) values.set(k, text(String(v)));
    for (const [k, v] of Object.entries(object.binaryData ?? {})) values.set(k, fromBase64(String(v)));
  } else {
    for (const [k, v] of Object.entries(object.data ?? {})) values.set(k, fromBase64(String(v)));
  }
  const items = (source.items ?? []) as Array<{ key: string; path: string; mode?: number }>;
  if (items.length === 0) {
    return [...values].map(([k, content]) => ({ path: k, content, mode: defaultMode }));
  }
  return items.map((item) => {
    const content = values.get(item.key);
    if (!content) throw new VolumeError(`configmap references non-existent config key: ${item.key}`);
    return { path: item.path, content, mode: item.mode ?? defaultMode };
  });
}

function downwardFiles(source: Json, ctx: VolumeContext, defaultMode: number): FileSpec[] {
  return ((source.items ?? []) as Json[]).map((item) => {
    let value = "";
    if (item.fieldRef) value = ctx.field(item.fieldRef.fieldPath) ?? "";
    else if (item.resourceFieldRef) value = ctx.field(`resource:${item.resourceFieldRef.resource}`) ?? "";
    return { path: item.path, content: text(value), mode: item.mode ?? defaultMode };
  });
}

/** Writes `files` into `dir`, replacing changed ones atomically and removing ones no longer there. */
async function syncFiles(dir: string, files: FileSpec[]): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const wanted = new Set<string>();
  for (const f of files) {
    if (f.path.split("/").some((p) => p === ".." || p === "")) {
      throw new VolumeError(`invalid path ${f.path}`);
    }
    wanted.add(f.path.split("/")[0]);
    const target = `${dir}/${f.path}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    const current = await Deno.readFile(target).catch(() => undefined);
    if (current && current.length === f.content.length && current.every((b, i) => b === f.content[i])) {
      continue;
    }
    const tmp = `${target}.kubedeno-tmp`;
    await Deno.writeFile(tmp, f.content, { mode: f.mode });
    await Deno.chmod(tmp, f.mode);
    await Deno.rename(tmp, target);
  }
  for await (const entry of Deno.readDir(dir)) {
    if (!wanted.has(entry.name)) await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
  }
}

/**
 * Makes (or refreshes) each volume of `pod` under `ctx.dir`; returns the host directory of each.
 * `fresh`: the first time, when emptyDir tmpfs mounts are made.
 */
export async function prepareVolumes(
  pod: Json,
  ctx: VolumeContext,
  fresh: boolean,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ns = pod.metadata?.namespace ?? "default";
  for (const v of (pod.spec?.volumes ?? []) as Json[]) {
    const dir = `${ctx.dir}/${v.name}`;
    const mode = (source: Json) => source?.defaultMode ?? 0o644;
    if (v.emptyDir) {
      await Deno.mkdir(dir, { recursive: true });
      if (fresh && v.emptyDir.medium === "Memory" && Deno.uid() === 0) {
        const size = v.emptyDir.sizeLimit
          ? [`-o`, `size=${String(v.emptyDir.sizeLimit).replace(/i$/, "")}`]
          : [];
        await new Deno.Command("mount", { args: ["-t", "tmpfs", ...size, "tmpfs", dir] }).output();
      }
      out.set(v.name, dir);
    } else if (v.configMap) {
      await syncFiles(dir, await keyFiles("configmaps", v.configMap, ns, ctx, mode(v.configMap)));
      out.set(v.name, dir);
    } else if (v.secret) {
      await syncFiles(
        dir,
        await keyFiles("secrets", v.secret, ns, ctx, mode(v.secret) === 0o644 ? 0o644 : mode(v.secret)),
      );
      out.set(v.name, dir);
    } else if (v.downwardAPI) {
      await syncFiles(dir, downwardFiles(v.downwardAPI, ctx, mode(v.downwardAPI)));
      out.set(v.name, dir);
    } else if (v.projected) {
      const files: FileSpec[] = [];
      for (const s of (v.projected.sources ?? []) as Json[]) {
        if (s.configMap) files.push(...await keyFiles("configmaps", s.configMap, ns, ctx, mode(v.projected)));
        else if (s.secret) files.push(...await keyFiles("secrets", s.secret, ns, ctx, mode(v.projected)));
        else if (s.downwardAPI) files.push(...downwardFiles(s.downwardAPI, ctx, mode(v.projected)));
      }
      await syncFiles(dir, files);
      out.set(v.name, dir);
    } else if (v.hostPath) {
      const path = String(v.hostPath.path);
      if (v.hostPath.type === "DirectoryOrCreate") await Deno.mkdir(path, { recursive: true });
      out.set(v.name, path);
    } else if (v.persistentVolumeClaim) {
      const claim = await ctx.lookup("persistentvolumeclaims", ns, v.persistentVolumeClaim.claimName);
      if (!claim?.spec?.volumeName) {
        throw new VolumeError(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" is not bound`);
      }
      const pv = await ctx.lookup("persistentvolumes", "", claim.spec.volumeName);
      const path = pv?.spec?.local?.path ?? pv?.spec?.hostPath?.path;
      if (!path) {
        throw new VolumeError(
          `persistentvolume "${claim.spec.volumeName}" has no local or hostPath directory`,
        );
      }
      await Deno.mkdir(path, { recursive: true });
      out.set(v.name, path);
    }
    // Other volume kinds (cloud disks, NFS, CSI, …) are not available on this node.
  }
  return out;
}

/** Unmounts emptyDir tmpfs mounts of a pod (before its directory goes). */
export async function releaseVolumes(pod: Json, dir: string): Promise<void> {
  for (const v of (pod.spec?.volumes ?? []) as Json[]) {
    if (v.emptyDir?.medium === "Memory" && Deno.uid() === 0) {
      await new Deno.Command("umount", { args: [`${dir}/${v.name}`], stderr: "null" }).output().catch(
        () => {},
      );
    }
  }
}

/** A container's mounts: host directory (with subPath) → mountPath. */
export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export function containerMounts(spec: Json, volumes: Map<string, string>): Mount[] {
  return ((spec.volumeMounts ?? []) as Json[]).flatMap((m) => {
    const dir = volumes.get(m.name);
    if (!dir) return [];
    return [{
      source: m.subPath ? `${dir}/${m.subPath}` : dir,
      target: String(m.mountPath),
      readOnly: !!m.readOnly,
    }];
  });
}

/**
 * The command prefix that gives a container its own mount and UTS namespaces: `mounts` in place and
 * the pod's host name (root only; without root there is none, and the README says so).
 */
export function mountPrefix(mounts: Mount[], hostname: string): string[] {
  if (Deno.uid() !== 0) return [];
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const lines = mounts.flatMap((m) => [
    `[ -e ${q(m.source)} ] || mkdir -p ${q(m.source)}`,
    `[ -d ${q(m.source)} ] && mkdir -p ${q(m.target)} || { mkdir -p "$(dirname ${q(m.target)})"; touch ${
      q(m.target)
    }; }`,
    `mount --bind ${q(m.source)} ${q(m.target)}`,
    ...(m.readOnly ? [`mount -o remount,bind,ro ${q(m.target)}`] : []),
  ]);
  lines.push(`hostname ${q(hostname)}`);
  return [
    "/usr/bin/unshare",
    "-m",
    "-u",
    "--propagation",
    "private",
    "/bin/sh",
    "-ec",
    `${lines.join("\n")}\nexec "$@"`,
    "kubedeno-mounts",
  ];
}
