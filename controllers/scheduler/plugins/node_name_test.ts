import { test } from "uvu";
import * as assert from "uvu/assert";
import { runFilter, snapshotOf } from "../testing/harness.ts";
import { makeNode, makePod } from "../testing/wrappers.ts";
import { nodeName } from "./node_name.ts";

test("nodeName fits only the node a pod names, any node when it names none", () => {
  const snapshot = snapshotOf([makeNode("a").obj(), makeNode("b").obj()]);
  assert.equal(runFilter(nodeName, makePod("p").obj(), snapshot).nodes, { a: null, b: null });
  assert.equal(runFilter(nodeName, makePod("p").node("b").obj(), snapshot).nodes, {
    a: "node(s) didn't match the requested node name",
    b: null,
  });
});

test.run();
