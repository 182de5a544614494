/**
 * Debian packages a real node uses, installed when missing and this process may (root, apt-get
 * present): busybox-static, whose multi-call binary is the `busybox` image. Run by the test runner
 * and by the node agent at start; where it cannot install, images needing the package are refused
 * with a message naming it.
 */

const PACKAGES: Array<{ name: string; provides: string }> = [
  { name: "busybox-static", provides: "/bin/busybox" },
];

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Installs what is missing; returns what is still missing afterwards (with why). */
export async function ensureHostPackages(log: (line: string) => void = console.error): Promise<string[]> {
  const missing: string[] = [];
  for (const p of PACKAGES) if (!(await exists(p.provides))) missing.push(p.name);
  if (missing.length === 0) return [];
  if (Deno.uid() !== 0 || !(await exists("/usr/bin/apt-get"))) {
    return missing.map((m) => `${m} (not installed; installing it needs root and apt-get)`);
  }
  log(`kubedeno: installing ${missing.join(", ")} (Debian) for the node's images`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    new Deno.Command("apt-get", {
      args: ["install", "-y", "--no-install-recommends", ...missing],
      env,
      stdout: "null",
      stderr: "piped",
    })
      .output();
  let result = await install();
  if (!result.success) {
    await new Deno.Command("apt-get", { args: ["update"], env, stdout: "null", stderr: "null" }).output();
    result = await install();
  }
  if (!result.success) {
    const why = new TextDecoder().decode(result.stderr).trim().split("\n").pop() ?? "";
    return missing.map((m) => `${m} (apt-get install failed: ${why})`);
  }
  return [];
}

if (import.meta.main) {
  const left = await ensureHostPackages();
  for (const l of left) console.error(`kubedeno: missing ${l}`);
}
