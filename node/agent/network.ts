/**
 * Pod networking. As root, each pod gets its own network namespace with a veth pair whose host end
 * sits on the node's bridge, an address from the node's podCIDR on `eth0`, and a default route via
 * the bridge (whose address is the range's first); the host routes between the bridges of the
 * nodes it carries. Without root (or without iproute2) pods share the host's network and their IP
 * is the node's.
 */

export interface PodSandbox {
  ip: string;
  /** The command prefix that runs a program inside the pod's network (empty on the host's). */
  prefix: string[];
}

export interface PodNetwork {
  readonly mode: "bridge" | "host";
  setUp(podUid: string, hostNetwork: boolean): Promise<PodSandbox>;
  tearDown(podUid: string): Promise<void>;
  /** Removes what the node made for its pods' networks (after its pods are gone). */
  close(): Promise<void>;
}

const IP = "/usr/sbin/ip";

async function ip(...args: string[]): Promise<string> {
  const out = await new Deno.Command(IP, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Runs commands (made of names and addresses only) in one shell, stopping at the first failure. */
async function shell(commands: string[]): Promise<void> {
  const out = await new Deno.Command("/bin/sh", {
    args: ["-ec", commands.join("\n")],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}

/** A short stable hex name part (interface names are at most 15 characters). */
async function shortHash(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Pods on the host's network: the node's address for all. */
export class HostNetwork implements PodNetwork {
  readonly mode = "host";
  constructor(readonly hostIP: string) {}
  setUp(): Promise<PodSandbox> {
    return Promise.resolve({ ip: this.hostIP, prefix: [] });
  }
  tearDown(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Whether this process can make network namespaces. */
export async function canMakeNetworks(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  return await Deno.stat(IP).then(() => true, () => false);
}

/** A bridge per node and a namespace per pod. */
export class BridgeNetwork implements PodNetwork {
  readonly mode = "bridge";
  readonly #cidr: string;
  readonly #nodeName: string;
  readonly #hostIP: string;
  #bridge = "";
  #prefix = "";
  readonly #used = new Map<string, string>();

  constructor(podCIDR: string, nodeName: string, hostIP: string) {
    this.#cidr = podCIDR;
    this.#nodeName = nodeName;
    this.#hostIP = hostIP;
  }

  get gateway(): string {
    return `${this.#prefix}1`;
  }

  /**
   * Makes the node's bridge and lets the host forward between bridges. A bridge of ours left by a
   * node that did not stop cleanly, holding this range with no pods on it, is removed first (its
   * route would shadow this one); one with pods on it means the range is in use, and is an error.
   */
  async init(): Promise<void> {
    const m = /^(\d+\.\d+\.\d+\.)0\/24$/.exec(this.#cidr);
    if (!m) throw new Error(`pod CIDR ${this.#cidr} is not a /24`);
    this.#prefix = m[1];
    this.#bridge = `kdbr${await shortHash(this.#nodeName)}`.slice(0, 15);
    for (const line of (await ip("-4", "-o", "addr", "show", "type", "bridge")).split("\n")) {
      const found = /^\d+:\s+(kdbr\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
      if (!found || found[1] === this.#bridge || found[2] !== this.gateway) continue;
      const members = (await ip("-o", "link", "show", "master", found[1])).trim();
      if (members) throw new Error(`${this.#cidr} is in use on bridge ${found[1]}`);
      await ip("link", "del", found[1]);
    }
    const exists = await ip("link", "show", this.#bridge).then(() => true, () => false);
    if (!exists) {
      await ip("link", "add", this.#bridge, "type", "bridge");
      await ip("addr", "add", `${this.gateway}/24`, "dev", this.#bridge);
    }
    await ip("link", "set", this.#bridge, "up");
    await Deno.writeTextFile("/proc/sys/net/ipv4/ip_forward", "1");
    // Namespaces of pods that outlived an earlier agent keep their addresses.
    for (const line of (await ip("netns", "list")).split("\n")) {
      const ns = line.split(" ")[0];
      if (!ns.startsWith(`kd${this.#bridge.slice(4, 8)}-`)) continue;
      const addr = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(
        await ip("-n", ns, "-4", "addr", "show", "eth0").catch(() => ""),
      );
      if (addr) this.#used.set(ns, addr[1]);
    }
  }

  async #names(podUid: string) {
    const h = await shortHash(podUid);
    return { ns: `kd${this.#bridge.slice(4, 8)}-${podUid}`, host: `kv${h}` };
  }

  async setUp(podUid: string, hostNetwork: boolean): Promise<PodSandbox> {
    if (hostNetwork) return { ip: this.#hostIP, prefix: [] };
    const { ns, host } = await this.#names(podUid);
    const prefix = [IP, "netns", "exec", ns];
    const known = this.#used.get(ns);
    if (known) return { ip: known, prefix };
    const taken = new Set(this.#used.values());
    let address = "";
    for (let i = 2; i < 255; i++) {
      if (!taken.has(`${this.#prefix}${i}`)) {
        address = `${this.#prefix}${i}`;
        break;
      }
    }
    if (!address) throw new Error(`no address left in ${this.#cidr}`);
    this.#used.set(ns, address);
    try {
      // One shell; the pod's end of the pair is made inside its namespace (moving a link between
      // namespaces and renaming it cost three times as much), and the namespace's own settings go
      // through one ip -batch.
      await shell([
        `${IP} netns add ${ns}`,
        `${IP} link add ${host} master ${this.#bridge} up type veth peer name eth0 netns ${ns}`,
        `${IP} -n ${ns} -batch - <<END`,
        `addr add ${address}/24 dev eth0`,
        `link set eth0 up`,
        `link set lo up`,
        `route add default via ${this.gateway}`,
        `END`,
      ]);
    } catch (err) {
      await this.tearDown(podUid);
      throw err;
    }
    return { ip: address, prefix };
  }

  async close(): Promise<void> {
    for (const ns of [...this.#used.keys()]) await ip("netns", "del", ns).catch(() => {});
    this.#used.clear();
    await ip("link", "del", this.#bridge).catch(() => {});
  }

  async tearDown(podUid: string): Promise<void> {
    const { ns, host } = await this.#names(podUid);
    this.#used.delete(ns);
    await ip("netns", "del", ns).catch(() => {});
    await ip("link", "del", host).catch(() => {});
  }
}
