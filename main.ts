/**
 * The `kubedeno` command.
 *
 *   kubedeno up [--data-dir DIR] [--port N] [--bind ADDR]   everything in one process
 *   kubedeno apiserver [same flags]                          the API server alone
 */

import { parseFlags, USAGE } from "./cli/flags.ts";

const [command = "up", ...rest] = Deno.args;

switch (command) {
  case "up":
  case "apiserver": {
    const { runApiServer } = await import("./cli/up.ts");
    await runApiServer(parseFlags(rest));
    break;
  }
  case "help":
  case "--help":
  case "-h":
    console.log(USAGE);
    break;
  default:
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    Deno.exit(2);
}
