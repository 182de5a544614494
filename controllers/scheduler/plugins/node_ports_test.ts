import { test } from "uvu";
import * as assert from "uvu/assert";
import { Code } from "../status.ts";
import { runFilter, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { nodePorts } from "./node_ports.ts";

test("nodePorts skips pods without host ports", () => {
  const out = runFilter(nodePorts, makePod("p").req().obj(), snapshotOf([makeNode("n").obj()]));
  assert.is(out.preFilter?.code, Code.Skip);
});

test("nodePorts rejects nodes where a wanted host port is taken", () => {
  const snapshot = snapshotOf(
    [makeNode("busy").obj(), makeNode("free").obj(), makeNode("udp").obj()],
    [
      makePod("a").node("busy").hostPort(8080).obj(),
      makePod("b").node("udp").hostPort(8080, "UDP").obj(),
    ],
  );
  const out = runFilter(nodePorts, makePod("p").hostPort(8080).obj(), snapshot);
  assert.equal(out.nodes, {
    busy: "node(s) didn't have free ports for the requested pod ports",
    free: null,
    udp: null,
  });
  assert.is(out.codes.busy, Code.Unschedulable);
});

test.run();
