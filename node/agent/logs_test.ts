import { test } from "uvu";
import * as assert from "uvu/assert";
import { logStream, parseCri } from "./logs.ts";

const T1 = "2026-01-01T00:00:01.000000000Z";
const T2 = "2026-01-01T00:00:02.000000000Z";

test("CRI lines: the prefix goes, partial lines join the next, a trailing fragment waits", () => {
  const { lines, rest } = parseCri(
    `${T1} stdout F one\n${T1} stderr P tw\n${T2} stderr F o\n${T2} stdout F \n${T2} stdout F thr`,
  );
  assert.equal(lines, [
    { time: T1, text: "one" },
    { time: T1, text: "two" },
    { time: T2, text: "" },
  ]);
  assert.is(rest, `${T2} stdout F thr`);
});

async function read(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

test("tail, since, timestamps and limitBytes", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/0.log`;
  await Deno.writeTextFile(path, `${T1} stdout F a\n${T1} stdout F b\n${T2} stdout F c\n`);
  const done = () => false;
  assert.is(await read(logStream(path, { tailLines: 2 }, done)), "b\nc\n");
  assert.is(await read(logStream(path, { since: Date.parse(T2) }, done)), "c\n");
  assert.is(await read(logStream(path, { timestamps: true, tailLines: 1 }, done)), `${T2} c\n`);
  assert.is(await read(logStream(path, { limitBytes: 3 }, done)), "a\nb");
  await Deno.remove(dir, { recursive: true });
});

test("follow reads what is appended while the container runs, then ends", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/0.log`;
  await Deno.writeTextFile(path, `${T1} stdout F first\n`);
  let running = true;
  const reading = read(logStream(path, { follow: true }, () => running));
  await new Promise((r) => setTimeout(r, 150));
  await Deno.writeTextFile(path, `${T2} stdout P sec\n${T2} stdout F ond\n`, { append: true });
  await new Promise((r) => setTimeout(r, 150));
  running = false;
  assert.is(await reading, "first\nsecond\n");
  await Deno.remove(dir, { recursive: true });
});

test.run();
