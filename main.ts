/**
 * The `kubedeno` command.
 *
 *   kubedeno up [--data-dir DIR] [--port N] [--bind ADDR] [--simulated-nodes N]
 *   kubedeno apiserver [--data-dir DIR] [--port N] [--bind ADDR]
 *   kubedeno controllers --kubeconfig F
 *   kubedeno scheduler --kubeconfig F
 *   kubedeno simulate --kubeconfig F [--nodes N] [--start N]
 */

import { parseFlags, type ServerFlags, USAGE } from "./cli/flags.ts";

const [command = "up", ...rest] = Deno.args;

function needKubeconfig(flags: ServerFlags): string {
  if (!flags.kubeconfig) {
    console.error(`kubedeno ${command} needs --kubeconfig FILE\n\n${USAGE}`);
    Deno.exit(2);
  }
  return flags.kubeconfig;
}

async function runAgainstCluster(flags: ServerFlags): Promise<void> {
  const { clientFromKubeconfig } = await import("./cli/kubeconfig.ts");
  const { runComponents, runSimulatedNodes } = await import("./cli/components.ts");
  const { client, ca } = await clientFromKubeconfig(needKubeconfig(flags), `kubedeno-${command}`);
  const abort = new AbortController();
  const stop = () => {
    abort.abort();
    setTimeout(() => Deno.exit(0), 200);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  if (command === "node") {
    const { runNodes } = await import("./cli/node.ts");
    const server = new URL(client.config.server);
    const [agent] = await runNodes(client, flags, 1, {
      host: server.hostname,
      port: Number(server.port || 443),
    });
    console.error(`kubedeno: node ${agent.name} registered; its endpoints listen on port ${agent.port}`);
    // Its pods' processes end with it (no orphans).
    const stopAgent = () => agent.stop().catch(() => {});
    Deno.addSignalListener("SIGINT", stopAgent);
    Deno.addSignalListener("SIGTERM", stopAgent);
    return;
  }
  if (command === "simulate") {
    const sim = await runSimulatedNodes(
      client,
      flags.nodes ?? 3,
      flags.start,
      flags.nodeMonitorGracePeriodMs,
    );
    console.error(`kubedeno: ${sim.nodeNames.length} simulated nodes registered`);
  } else {
    await runComponents(
      client,
      flags,
      {
        controllers: command === "controllers",
        scheduler: command === "scheduler",
      },
      abort.signal,
      { rootCA: ca, volumesDir: `${flags.dataDir}/volumes` },
    );
    console.error(`kubedeno: ${command} running`);
  }
}

let flags: ServerFlags;
try {
  flags = parseFlags(rest);
} catch (err) {
  console.error((err as Error).message);
  Deno.exit(2);
}

switch (command) {
  case "up":
  case "apiserver": {
    const { runApiServer } = await import("./cli/up.ts");
    await runApiServer(flags, command === "up");
    break;
  }
  case "controllers":
  case "scheduler":
  case "simulate":
  case "node":
    await runAgainstCluster(flags);
    break;
  case "help":
  case "--help":
  case "-h":
    console.log(USAGE);
    break;
  default:
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    Deno.exit(2);
}
