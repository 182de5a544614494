import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeContinue, encodeContinue } from "./continue_token.ts";
import { isStatusError } from "../../machinery/status.ts";

test("encodeContinue round-trips through decodeContinue", () => {
  const token = encodeContinue({ rv: 42, start: "default/web-ß\u0000" });
  assert.match(token, /^[A-Za-z0-9_-]+$/);
  assert.equal(decodeContinue(token), { rv: 42, start: "default/web-ß\u0000" });
});

test("decodeContinue refuses garbage with a 400", () => {
  for (
    const bad of [
      "!!!",
      btoa("{}"),
      btoa('{"v":"meta.k8s.io/v1","rv":"x","start":"a"}'),
      btoa('{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}'),
    ]
  ) {
    try {
      decodeContinue(bad);
      assert.unreachable(`accepted ${bad}`);
    } catch (err) {
      assert.ok(isStatusError(err, "BadRequest"), String(err));
      assert.is((err as Error).message.startsWith("continue key is not valid"), true);
    }
  }
});

test.run();
