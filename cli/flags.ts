/** Command-line flags of `kubedeno up` and `kubedeno apiserver`. */

export interface ServerFlags {
  dataDir: string;
  port: number;
  bind: string;
}

export const USAGE = `Usage: kubedeno <command> [flags]

Commands:
  up          run the whole cluster in one process (for now: the API server)
  apiserver   run the API server

Flags:
  --data-dir DIR   where data, certificates and the kubeconfig live (default ./.kubedeno)
  --port N         HTTPS port (default 6443)
  --bind ADDR      address to listen on (default 127.0.0.1)`;

/** Parses `--name value` and `--name=value` flags; unknown flags are an error. */
export function parseFlags(args: string[]): ServerFlags {
  const flags: ServerFlags = { dataDir: "./.kubedeno", port: 6443, bind: "127.0.0.1" };
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
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Flag --port wants a port number, got "${v}"`);
        flags.port = port;
        break;
      }
      case "--bind":
        flags.bind = value();
        break;
      default:
        throw new Error(`Unknown flag "${arg}"\n\n${USAGE}`);
    }
  }
  return flags;
}
