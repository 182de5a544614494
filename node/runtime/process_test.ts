import { test } from "uvu";
import * as assert from "uvu/assert";
import { ImageCatalog, imageName, ImagePullError } from "./images.ts";
import { ProcessRuntime } from "./process.ts";
import { StartError } from "./runtime.ts";

const hasBusybox = await Deno.stat("/bin/busybox").then(() => true, () => false);
const root = await Deno.makeTempDir({ prefix: "kubedeno-runtime-" });
const catalog = await ImageCatalog.load(`${root}/images`);
const runtime = new ProcessRuntime();

test("image references name catalog entries without registry defaults, tags or digests", () => {
  assert.is(imageName("busybox"), "busybox");
  assert.is(imageName("busybox:1.36"), "busybox");
  assert.is(imageName("docker.io/library/busybox:latest"), "busybox");
  assert.is(imageName("busybox@sha256:abc"), "busybox");
  assert.is(imageName("registry.k8s.io/pause:3.9"), "registry.k8s.io/pause");
  assert.is(imageName("localhost:5000/app"), "localhost:5000/app");
});

test("an image outside the catalog is refused with how to add it", async () => {
  try {
    await catalog.resolve("nginx:1.27");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ImagePullError);
    assert.match((err as Error).message, /not in this node's image catalog.*"nginx".*node\/images.json/);
  }
});

test("a busybox container runs its shell; output lands in the CRI log; the exit code is kept", async () => {
  if (!hasBusybox) return console.log("skipped: /bin/busybox (busybox-static) is not installed");
  const image = await catalog.resolve("busybox:1.36");
  const logPath = `${root}/pods/default_a_1/c/0.log`;
  const c = await runtime.start({
    podDir: `${root}/pods/default_a_1`,
    name: "c",
    image,
    command: ["sh", "-c", "echo hello; echo oops >&2; printf partial; exit 3"],
    env: { PATH: image.path },
    logPath,
  });
  const exit = await c.exited;
  assert.is(exit.exitCode, 3);
  const lines = (await Deno.readTextFile(logPath)).trimEnd().split("\n");
  assert.equal(lines.map((l) => l.split(" ").slice(1).join(" ")).sort(), [
    "stderr F oops",
    "stdout F hello",
    "stdout F partial",
  ]);
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
  // /bin/sh in the spec is the image's sh (busybox), not the host's.
  const which = await runtime.start({
    podDir: `${root}/pods/default_a_1`,
    name: "d",
    image,
    command: ["/bin/sh", "-c", "readlink /proc/$$/exe"],
    env: { PATH: image.path },
    logPath: `${root}/pods/default_a_1/d/0.log`,
  });
  await which.exited;
  assert.match(await Deno.readTextFile(`${root}/pods/default_a_1/d/0.log`), /stdout F \S*\/busybox\n/);
});

test("a signal reaches everything the container started", async () => {
  if (!hasBusybox) return console.log("skipped: /bin/busybox (busybox-static) is not installed");
  const image = await catalog.resolve("busybox");
  const c = await runtime.start({
    podDir: `${root}/pods/default_b_2`,
    name: "c",
    image,
    command: ["sh", "-c", "sleep 300 & sleep 301; echo never"],
    env: { PATH: image.path },
    logPath: `${root}/pods/default_b_2/c/0.log`,
  });
  await new Promise((r) => setTimeout(r, 200));
  c.kill("SIGTERM");
  const exit = await c.exited;
  assert.is(exit.signal, "SIGTERM");
  const ps = await new Deno.Command("sh", { args: ["-c", "ps -eo args | grep -c '^sleep 30[01]$' || true"] })
    .output();
  assert.is(new TextDecoder().decode(ps.stdout).trim(), "0");
});

test("a command found nowhere fails to start", async () => {
  if (!hasBusybox) return console.log("skipped: /bin/busybox (busybox-static) is not installed");
  const image = await catalog.resolve("busybox");
  try {
    await runtime.start({
      podDir: `${root}/pods/default_c_3`,
      name: "c",
      image,
      command: ["no-such-command"],
      env: { PATH: image.path },
      logPath: `${root}/pods/default_c_3/c/0.log`,
    });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StartError);
    assert.match((err as Error).message, /"no-such-command": executable file not found in \$PATH/);
  }
});

test.after(async () => {
  await Deno.remove(root, { recursive: true });
});

test.run();
