/** Command-line flags of the `kubedeno` commands. */

export interface ServerFlags {
  dataDir: string;
  port: number;
  bind: string;
  /** `up`: how many simulated nodes to run in-process. */
  simulatedNodes: number;
  /** `controllers`, `scheduler`, `simulate`: the kubeconfig of the cluster to work on. */
  kubeconfig?: string;
  /**
   * `simulate`: how many simulated nodes (default 3); `up`: how many real nodes (default 1, or 0
   * with --simulated-nodes). Undefined when not given.
   */
  nodes?: number;
  start: number;
  /** `node`: the Node's name (default: the host name) and where its pods live. */
  nodeName?: string;
  rootDir?: string;
  /** `node`: the port of the node's own server (default 10250). */
  nodePort?: number;
  /** `node`, `up`: more image catalog entries (JSON). */
  imageCatalog?: string;
  /** How long a node's Lease may go unrenewed before it is NotReady (ms). */
  nodeMonitorGracePeriodMs: number;
  /** Run without leader election (one copy only). */
  leaderElect: boolean;
  /** How long new pods tolerate a not-ready / unreachable node (seconds). */
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
}

export const USAGE = `Usage: kubedeno <command> [flags]

Commands:
  up          the whole cluster in one process: API server, controllers, scheduler and
              one real node (--nodes N for N; --simulated-nodes N simulated ones instead)
  apiserver   the API server alone
  controllers the controllers, against --kubeconfig
  scheduler   the scheduler, against --kubeconfig
  simulate    --nodes N simulated nodes, against --kubeconfig
  node        a real node that runs pods, joining the cluster of --kubeconfig

Flags:
  --data-dir DIR                  where data, certificates and the kubeconfig live (default ./.kubedeno)
  --port N                        HTTPS port (default 6443)
  --bind ADDR                     address to listen on (default 127.0.0.1)
  --simulated-nodes N             up: run N simulated nodes (default 0)
  --kubeconfig FILE               controllers, scheduler, simulate: the cluster to work on
  --nodes N                       up: real nodes (default 1; 0 with --simulated-nodes);
                                  simulate: simulated nodes (default 3)
  --name NAME                     node: the Node's name (default: the host name)
  --root-dir DIR                  node: where pods, logs and image links live
                                  (default <data-dir>/nodes/<name>)
  --node-port N                   node: the port of its log/exec endpoints (default 10250)
  --image-catalog FILE            node, up: more image catalog entries (JSON, see README)
  --start N                       simulate: index of the first node (default 0)
  --node-monitor-grace-period D   how long before a silent node is NotReady (default 40s)
  --leader-elect=false            controllers, scheduler: act without a leader Lease
  --default-not-ready-toleration-seconds N
  --default-unreachable-toleration-seconds N
                                  how long new pods stay on a not-ready / unreachable node (default 300)`;

/** A Go-style duration (`40s`, `1m30s`, `500ms`) in milliseconds. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = s.trim();
  if (!rest) throw new Error(`invalid duration "${s}"`);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`invalid duration "${s}"`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

function count(name: string, v: string, max = Infinity): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new Error(`Flag ${name} wants a whole number, got "${v}"`);
  }
  return n;
}

/** Parses `--name value` and `--name=value` flags; unknown flags are an error. */
export function parseFlags(args: string[]): ServerFlags {
  const flags: ServerFlags = {
    dataDir: "./.kubedeno",
    port: 6443,
    bind: "127.0.0.1",
    simulatedNodes: 0,
    start: 0,
    nodeMonitorGracePeriodMs: 40_000,
    leaderElect: true,
    defaultNotReadyTolerationSeconds: 300,
    defaultUnreachableTolerationSeconds: 300,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new Error(`Flag ${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--data-dir":
        flags.dataDir = value();
        break;
      case "--port": {
        const v = value();
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new Error(`Flag --port wants a port number, got "${v}"`);
        }
        flags.port = port;
        break;
      }
      case "--bind":
        flags.bind = value();
        break;
      case "--simulated-nodes":
        flags.simulatedNodes = count(name, value());
        break;
      case "--kubeconfig":
        flags.kubeconfig = value();
        break;
      case "--nodes":
        flags.nodes = count(name, value());
        break;
      case "--start":
        flags.start = count(name, value());
        break;
      case "--name":
        flags.nodeName = value();
        break;
      case "--root-dir":
        flags.rootDir = value();
        break;
      case "--node-port":
        flags.nodePort = count(name, value(), 65535);
        break;
      case "--image-catalog":
        flags.imageCatalog = value();
        break;
      case "--node-monitor-grace-period":
        flags.nodeMonitorGracePeriodMs = parseDuration(value());
        break;
      case "--leader-elect":
        flags.leaderElect = eq > 0 ? value() !== "false" : true;
        break;
      case "--default-not-ready-toleration-seconds":
        flags.defaultNotReadyTolerationSeconds = count(name, value());
        break;
      case "--default-unreachable-toleration-seconds":
        flags.defaultUnreachableTolerationSeconds = count(name, value());
        break;
      default:
        throw new Error(`Unknown flag "${arg}"\n\n${USAGE}`);
    }
  }
  return flags;
}
