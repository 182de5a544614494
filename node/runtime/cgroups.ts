/**
 * Container resource limits through cgroups, where the host allows it: cgroup v1 with the memory,
 * cpu and pids controllers mounted under /sys/fs/cgroup and a root process (as on this project's
 * machines). Each container gets `kubedeno/<pod uid>/<container>` in each controller: memory limit,
 * CFS quota from the CPU limit and shares from the CPU request. A container killed by the OOM
 * killer is told apart by the memory cgroup's `oom_kill` count. Elsewhere (cgroup v2 without
 * delegated controllers, no root) limits are not applied: `detect()` says so once.
 */

import { parseQuantity } from "../../machinery/quantity.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["memory", "cpu", "pids"];

export interface ContainerCgroup {
  /** The files a process writes its pid to, to join. */
  procs: string[];
  /** Whether the OOM killer ended something in it. */
  oomKilled(): Promise<boolean>;
  remove(): Promise<void>;
}

export class Cgroups {
  /** Cgroups v1 usable here, or undefined with why not. */
  static async detect(): Promise<{ cgroups?: Cgroups; why?: string }> {
    if (Deno.uid() !== 0) return { why: "not root" };
    for (const c of CONTROLLERS) {
      const ok = await Deno.stat(`${ROOT}/${c}/cgroup.procs`).then(() => true, () => false);
      if (!ok) return { why: `no cgroup v1 ${c} controller at ${ROOT}/${c}` };
    }
    return { cgroups: new Cgroups() };
  }

  /** Makes the container's cgroups with the limits of `resources`. */
  async create(podUid: string, container: string, resources: Json): Promise<ContainerCgroup> {
    const dirs = CONTROLLERS.map((c) => `${ROOT}/${c}/kubedeno/${podUid}/${container}`);
    for (const d of dirs) await Deno.mkdir(d, { recursive: true });
    const [memory, cpu] = dirs;
    const memLimit = parseQuantity(resources?.limits?.memory);
    if (memLimit !== undefined && memLimit > 0) {
      await Deno.writeTextFile(`${memory}/memory.limit_in_bytes`, String(Math.floor(memLimit)));
    }
    const cpuLimit = parseQuantity(resources?.limits?.cpu);
    if (cpuLimit !== undefined && cpuLimit > 0) {
      await Deno.writeTextFile(`${cpu}/cpu.cfs_period_us`, "100000");
      await Deno.writeTextFile(
        `${cpu}/cpu.cfs_quota_us`,
        String(Math.max(1000, Math.floor(cpuLimit * 100000))),
      );
    }
    const cpuRequest = parseQuantity(resources?.requests?.cpu ?? resources?.limits?.cpu);
    if (cpuRequest !== undefined && cpuRequest > 0) {
      await Deno.writeTextFile(`${cpu}/cpu.shares`, String(Math.max(2, Math.floor(cpuRequest * 1024))));
    }
    return {
      procs: dirs.map((d) => `${d}/cgroup.procs`),
      oomKilled: async () => {
        const control = await Deno.readTextFile(`${memory}/memory.oom_control`).catch(() => "");
        return Number(/oom_kill (\d+)/.exec(control)?.[1] ?? 0) > 0;
      },
      remove: async () => {
        for (const d of dirs) {
          await Deno.remove(d).catch(() => {});
          await Deno.remove(d.slice(0, d.lastIndexOf("/"))).catch(() => {});
        }
      },
    };
  }
}

/** The command prefix by which a process joins `cgroup` before it runs the container's command. */
export function joinPrefix(cgroup: ContainerCgroup | undefined): string[] {
  if (!cgroup) return [];
  const joins = cgroup.procs.map((p) => `echo $$ > '${p}'`).join("; ");
  return ["/bin/sh", "-c", `${joins}; exec "$@"`, "kubedeno-cgroup"];
}
