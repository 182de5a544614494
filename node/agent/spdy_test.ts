import { test } from "uvu";
import * as assert from "uvu/assert";
import zlib from "node:zlib";
import {
  controlFrame,
  dataFrame,
  DICTIONARY,
  FrameReader,
  HeaderReader,
  HeaderWriter,
  SYN_STREAM,
} from "./spdy.ts";

test("the SPDY/3 dictionary has its 1,423 bytes, starting and ending as the draft's", () => {
  assert.is(DICTIONARY.length, 1423);
  assert.equal([...DICTIONARY.subarray(0, 11)], [0, 0, 0, 7, ...new TextEncoder().encode("options")]);
  assert.is(new TextDecoder().decode(DICTIONARY.subarray(-6)), "enq=0.");
});

test("header blocks written here read back, block after block of one stream", () => {
  const writer = new HeaderWriter();
  const reader = new HeaderReader();
  assert.equal(reader.read(writer.write({ streamtype: "error", port: "8080" })), {
    streamtype: "error",
    port: "8080",
  });
  assert.equal(reader.read(writer.write({})), {});
  assert.equal(reader.read(writer.write({ requestid: "0" })), { requestid: "0" });
});

test("header blocks compressed with the dictionary (as Go's framer sends them) are read", () => {
  const raw = Uint8Array.from([
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    4,
    ...new TextEncoder().encode("port"),
    0,
    0,
    0,
    2,
    ...new TextEncoder().encode("80"),
  ]);
  const deflate = zlib.createDeflate({ dictionary: DICTIONARY });
  const chunks: Uint8Array[] = [];
  deflate.on("data", (c: Uint8Array) => chunks.push(c));
  return new Promise<void>((resolve) => {
    deflate.write(raw, () => {
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const block = Uint8Array.from(Buffer.concat(chunks));
        assert.equal(new HeaderReader().read(block), { port: "80" });
        resolve();
      });
    });
  });
});

test("frames split anywhere across messages are put back together", () => {
  const bytes = Uint8Array.from([
    ...controlFrame(SYN_STREAM, 0, Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0])),
    ...dataFrame(1, 1, new TextEncoder().encode("hello")),
  ]);
  const reader = new FrameReader();
  const frames = [
    ...reader.push(bytes.subarray(0, 5)),
    ...reader.push(bytes.subarray(5, 21)),
    ...reader.push(bytes.subarray(21)),
  ];
  assert.is(frames.length, 2);
  assert.equal([frames[0].control, frames[0].control && frames[0].type], [true, SYN_STREAM]);
  const data = frames[1];
  assert.equal([
    data.control,
    !data.control && data.streamId,
    data.flags,
    new TextDecoder().decode(data.data),
  ], [false, 1, 1, "hello"]);
});

test.run();
