/**
 * What a real node reports about its host: capacity (cpu, memory, pods, ephemeral-storage),
 * addresses and nodeInfo, read from the machine the agent runs on.
 */

const read = (path: string) => Deno.readTextFile(path).then((t) => t.trim(), () => "");

/** Free and total bytes of the filesystem holding `dir` (from df, which every Debian has). */
async function filesystemBytes(dir: string): Promise<number> {
  try {
    const out = await new Deno.Command("df", { args: ["-kP", dir], stdout: "piped", stderr: "null" })
      .output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n")[1] ?? "";
    const kb = Number(line.split(/\s+/)[1]);
    return Number.isFinite(kb) ? kb * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The first non-loopback IPv4 address, else loopback. */
export function internalIP(): string {
  for (const i of Deno.networkInterfaces()) {
    if (i.family === "IPv4" && !i.address.startsWith("127.")) return i.address;
  }
  return "127.0.0.1";
}

export interface HostFacts {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  addresses: Array<{ type: string; address: string }>;
  nodeInfo: Record<string, string>;
}

export async function hostFacts(options: {
  rootDir: string;
  runtime: { name: string; version: string };
  hostname: string;
  address?: string;
  maxPods?: number;
}): Promise<HostFacts> {
  const cpus = navigator.hardwareConcurrency || 1;
  const memKi = Math.floor(Deno.systemMemoryInfo().total / 1024);
  const storage = await filesystemBytes(options.rootDir);
  const capacity = {
    cpu: String(cpus),
    "ephemeral-storage": `${Math.floor(storage / 1024)}Ki`,
    memory: `${memKi}Ki`,
    pods: String(options.maxPods ?? 110),
  };
  // As a kubelet with no reservations but the default hard eviction threshold (memory 100Mi).
  const allocatable = { ...capacity, memory: `${Math.max(0, memKi - 100 * 1024)}Ki` };
  const osRelease = await read("/etc/os-release");
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? "Linux";
  const machineID = await read("/etc/machine-id");
  return {
    capacity,
    allocatable,
    addresses: [
      { type: "InternalIP", address: options.address ?? internalIP() },
      { type: "Hostname", address: options.hostname },
    ],
    nodeInfo: {
      machineID,
      systemUUID: (await read("/sys/class/dmi/id/product_uuid")) || machineID,
      bootID: await read("/proc/sys/kernel/random/boot_id"),
      kernelVersion: Deno.osRelease(),
      osImage: pretty,
      containerRuntimeVersion: `${options.runtime.name}://${options.runtime.version}`,
      kubeletVersion: "v1.33.0",
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: Deno.build.arch === "aarch64" ? "arm64" : "amd64",
    },
  };
}
