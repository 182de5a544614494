/**
 * Runs every `*_test.ts` file of the project, each in its own Deno process (black-box tests
 * start servers; isolation keeps them honest), and ends with one line `N passed, N failed`.
 *
 * Usage: `deno run -A test/run.ts [substring…]` — only files whose path contains one of the
 * substrings. `KUBEDENO_TEST_JOBS` sets how many files run at once (default 2); files under
 * `conformance/` always run one at a time, after the others.
 */

import { ensureHostPackages } from "../node/host_setup.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SKIP_DIRS = new Set(["node_modules", ".git", ".kubedeno", "bench"]);
const FILE_TIMEOUT_MS = Number(Deno.env.get("KUBEDENO_TEST_TIMEOUT_MS") ?? 10 * 60_000);

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
  output: string;
}

async function findTests(dir: string, out: string[]): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      if (!SKIP_DIRS.has(entry.name)) await findTests(`${dir}/${entry.name}`, out);
    } else if (entry.isFile && entry.name.endsWith("_test.ts")) {
      out.push(`${dir}/${entry.name}`.slice(ROOT.length + 1));
    }
  }
  return out;
}

/** Reads uvu's closing block: `Total: N`, `Passed: N`, `Skipped: N` (one block per process). */
function parseUvu(output: string): { total: number; passed: number; skipped: number } | undefined {
  const total = [...output.matchAll(/^\s*Total:\s+(\d+)/gm)];
  if (total.length === 0) return undefined;
  const sum = (re: RegExp) => [...output.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    total: sum(/^\s*Total:\s+(\d+)/gm),
    passed: sum(/^\s*Passed:\s+(\d+)/gm),
    skipped: sum(/^\s*Skipped:\s+(\d+)/gm),
  };
}

async function runFile(file: string): Promise<FileResult> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", file],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, FILE_TIMEOUT_MS);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  const output = dec.decode(stdout) + dec.decode(stderr);
  const ms = performance.now() - started;
  const counts = parseUvu(output);
  if (!counts) {
    // A file that says it skips (a missing host feature) and exits cleanly ran nothing.
    if (code === 0 && /^skipping\b/m.test(output)) {
      return { file, passed: 0, failed: 0, skipped: 1, ms, output };
    }
    return { file, passed: 0, failed: 1, skipped: 0, ms, output };
  }
  let failed = counts.total - counts.passed - counts.skipped;
  // A process that died after its counts (or exited non-zero with all passed) still failed.
  if (failed === 0 && code !== 0) failed = 1;
  return { file, passed: counts.passed, failed, skipped: counts.skipped, ms, output };
}

async function runPool(files: string[], jobs: number, report: (r: FileResult) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      report(await runFile(file));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}

// What the tests need from Debian (busybox-static for the node's busybox image), where this
// process may install it; tests that need it and still lack it say so and skip.
for (const missing of await ensureHostPackages()) console.error(`test/run: missing ${missing}`);

const filters = Deno.args;
const all = (await findTests(ROOT, [])).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const unit = all.filter((f) => !f.startsWith("conformance/"));
const blackBox = all.filter((f) => f.startsWith("conformance/"));
const jobs = Number(Deno.env.get("KUBEDENO_TEST_JOBS") ?? 2);

const results: FileResult[] = [];
const report = (r: FileResult) => {
  results.push(r);
  const mark = r.failed ? "FAIL" : "ok  ";
  const skipped = r.skipped ? `, ${r.skipped} skipped` : "";
  console.log(
    `${mark} ${r.file} — ${r.passed} passed, ${r.failed} failed${skipped} (${(r.ms / 1000).toFixed(1)} s)`,
  );
  if (r.failed) console.log(r.output.replace(/^/gm, "    | "));
};

const started = performance.now();
await runPool(unit, jobs, report);
await runPool(blackBox, 1, report);

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
console.log(`\n${results.length} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
Deno.exit(failed > 0 || results.length === 0 ? 1 : 0);
