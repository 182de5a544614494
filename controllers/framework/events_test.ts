import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client } from "../../machinery/client.ts";
import { EventSink } from "./events.ts";

interface Sent {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** An EventSink whose writes are captured instead of sent, on a clock the test moves. */
function capturingSink() {
  const sent: Sent[] = [];
  const clock = { now: Date.parse("2026-01-01T00:00:00Z") };
  const client = new Client({
    server: "https://events.test",
    token: "t",
    transport: async (request) => {
      const body = await request.json();
      sent.push({ method: request.method, path: new URL(request.url).pathname, body });
      return new Response(JSON.stringify(body), {
        status: 201,
        headers: { "content-type": "application/json" },
      });
    },
  });
  const sink = new EventSink(client, { now: () => clock.now });
  return { sent, clock, sink };
}

const replicaSet = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web", namespace: "default", uid: "u-1" },
};

test("the same event again bumps the count of the one already written", async () => {
  const { sent, clock, sink } = capturingSink();
  const recorder = sink.recorder("replicaset-controller");
  recorder.event(replicaSet, "Warning", "FailedCreate", "quota exceeded");
  clock.now += 1000;
  recorder.event(replicaSet, "Warning", "FailedCreate", "quota exceeded");
  await sink.flush();
  assert.equal(sent.map((s) => s.method), ["POST", "PATCH"]);
  assert.is(sent[0].body.count, 1);
  assert.is(sent[1].body.count, 2);
  assert.is(
    sent[1].path,
    `/api/v1/namespaces/default/events/${(sent[0].body.metadata as { name: string }).name}`,
  );
});

test("more than ten messages for one object and reason are combined", async () => {
  const { sent, sink } = capturingSink();
  const recorder = sink.recorder("replicaset-controller");
  for (let i = 0; i < 12; i++) {
    recorder.event(replicaSet, "Normal", "SuccessfulCreate", `Created pod: web-${i}`);
  }
  await sink.flush();
  const messages = sent.map((s) => s.body.message);
  assert.is(messages.length, 12);
  assert.is(messages[9], "Created pod: web-9");
  assert.is(messages[10], "(combined from similar events): Created pod: web-10");
  // The eleventh made the combined event; the twelfth bumps it.
  assert.equal(sent.slice(10).map((s) => [s.method, s.body.count]), [["POST", 1], ["PATCH", 2]]);
});

test("a source writes 25 events about one object, then one every five minutes", async () => {
  const { sent, clock, sink } = capturingSink();
  const recorder = sink.recorder("replicaset-controller");
  for (let i = 0; i < 40; i++) {
    recorder.event(replicaSet, "Normal", "SuccessfulCreate", `Created pod: web-${i}`);
  }
  await sink.flush();
  assert.is(sent.length, 25);
  // Another object, or another source, has its own allowance.
  const other = { ...replicaSet, metadata: { ...replicaSet.metadata, name: "api", uid: "u-2" } };
  recorder.event(other, "Normal", "SuccessfulCreate", "Created pod: api-0");
  sink.recorder("deployment-controller").event(replicaSet, "Normal", "ScalingReplicaSet", "Scaled up");
  await sink.flush();
  assert.is(sent.length, 27);
  clock.now += 299_000;
  recorder.event(replicaSet, "Normal", "SuccessfulCreate", "Created pod: web-40");
  await sink.flush();
  assert.is(sent.length, 27);
  clock.now += 1_000;
  recorder.event(replicaSet, "Normal", "SuccessfulCreate", "Created pod: web-41");
  await sink.flush();
  assert.is(sent.length, 28);
  // The combined event (web-10 onwards) counted the dropped ones too: the next write carries 32.
  assert.equal([sent[27].method, sent[27].body.count], ["PATCH", 32]);
});

test.run();
