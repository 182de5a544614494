import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  labelSelectorString,
  matchesLabels,
  parseLabelSelector,
  selectorFromLabelSelector,
} from "./labels.ts";
import { isStatusError, type StatusError } from "./status.ts";

/** The StatusError a parse throws, or fails the test. */
function parseError(s: string): StatusError {
  try {
    parseLabelSelector(s);
  } catch (e) {
    if (isStatusError(e)) return e;
    throw e;
  }
  throw new Error(`${JSON.stringify(s)} parsed`);
}

const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test("good selectors parse and print normalised (sorted by key)", () => {
  const cases: [string, string][] = [
    ["x=a,y=b,z=c", "x=a,y=b,z=c"],
    ["", ""],
    ["   ", ""],
    ["x!=a,y=b", "x!=a,y=b"],
    ["x=", "x="],
    ["x= ", "x="],
    ["x=,z= ", "x=,z="],
    ["x= ,z= ", "x=,z="],
    ["!x", "!x"],
    ["x>1", "x>1"],
    ["x>1,z<5", "x>1,z<5"],
    ["x==a", "x==a"],
    ["z=c, y=b , x=a", "x=a,y=b,z=c"],
    ["x in (b, a,a)", "x in (a,b)"],
    ["x notin (a)", "x notin (a)"],
    ["x in ()", "x in ()"],
    ["x in (a,,b)", "x in (,a,b)"],
    ["x", "x"],
    ["in in (in, notin)", "in in (in,notin)"],
    ["!example.com/canary,example.com/app=web", "example.com/app=web,!example.com/canary"],
    ["x=a\ty=b".replace("\t", ","), "x=a,y=b"],
  ];
  for (const [input, printed] of cases) {
    assert.is(labelSelectorString(parseLabelSelector(input)), printed, input);
  }
});

test("parsed requirements carry operator and sorted values", () => {
  assert.equal(parseLabelSelector("tier in (b,a), !canary, app").requirements, [
    { key: "app", operator: "exists", values: [] },
    { key: "canary", operator: "!", values: [] },
    { key: "tier", operator: "in", values: ["a", "b"] },
  ]);
  assert.equal(parseLabelSelector("x in (,)").requirements[0].values, [""]);
  assert.equal(parseLabelSelector("a>10").requirements[0], { key: "a", operator: "gt", values: ["10"] });
});

test("bad selectors are 400s with upstream's wording", () => {
  const cases: [string, string][] = [
    ["x==a==b", "found '==', expected: ',' or 'end of string'"],
    ["x=a||y=b", `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${LABEL_VALUE_MSG}`],
    ["x=a y=b", "found 'y', expected: ',' or 'end of string'"],
    ["!x=a", "found '=', expected: ',' or 'end of string'"],
    ["a,", "found '', expected: identifier after ','"],
    [",a", "found ',', expected: !, identifier, or 'end of string'"],
    ["a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ["a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ["a in (b", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["a in b", "unable to parse requirement: found 'b' expected: '('"],
    ["a = (", "unable to parse requirement: found '(', expected: identifier"],
    ["!", "unable to parse requirement: found '', expected: identifier"],
    [
      "x<a",
      `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    ["-x=a", `unable to parse requirement: <nil>: Invalid value: "-x": ${NAME_PART_MSG}`],
    ["app=-bad", `unable to parse requirement: values[0][app]: Invalid value: "-bad": ${LABEL_VALUE_MSG}`],
  ];
  for (const [input, message] of cases) {
    const err = parseError(input);
    assert.is(err.code, 400, input);
    assert.is(err.reason, "BadRequest", input);
    assert.is(err.message, message, input);
  }
});

test("matching follows each operator", () => {
  const sel = parseLabelSelector("app=web, tier in (a,b),!canary,env!=prod,team");
  assert.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "c", team: "x" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x", canary: "1" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x", env: "prod" }));
  assert.ok(matchesLabels(sel, { app: "web", tier: "a", team: "x", env: "dev" }));
  assert.not.ok(matchesLabels(sel, { app: "web", tier: "a" }));
  assert.ok(matchesLabels(parseLabelSelector(""), undefined));
  assert.ok(matchesLabels(parseLabelSelector("x notin (a)"), undefined));
  assert.not.ok(matchesLabels(parseLabelSelector("x in (a)"), undefined));
  assert.ok(matchesLabels(parseLabelSelector("x="), { x: "" }));
  assert.not.ok(matchesLabels(parseLabelSelector("x="), {}));
  assert.ok(matchesLabels(parseLabelSelector("x>1"), { x: "2" }));
  assert.not.ok(matchesLabels(parseLabelSelector("x>1"), { x: "1" }));
  assert.not.ok(matchesLabels(parseLabelSelector("x>1"), { x: "two" }));
  assert.not.ok(matchesLabels(parseLabelSelector("x>1"), {}));
  assert.ok(matchesLabels(parseLabelSelector("x<1"), { x: "-3" }));
  assert.not.ok(matchesLabels(parseLabelSelector("constructor"), {}));
});

test("the object form: null selects nothing, {} everything", () => {
  assert.is(selectorFromLabelSelector(null), null);
  assert.is(selectorFromLabelSelector(undefined), null);
  const all = selectorFromLabelSelector({})!;
  assert.equal(all.requirements, []);
  assert.ok(matchesLabels(all, {}));
  assert.ok(matchesLabels(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] })!, { a: "b" }));
  const sel = selectorFromLabelSelector({
    matchLabels: { z: "1" },
    matchExpressions: [
      { key: "b", operator: "NotIn", values: ["x"] },
      { key: "a", operator: "Exists" },
      { key: "c", operator: "DoesNotExist" },
      { key: "d", operator: "In", values: ["q", "p"] },
    ],
  })!;
  assert.is(labelSelectorString(sel), "a,b notin (x),!c,d in (p,q),z=1");
  assert.ok(matchesLabels(sel, { z: "1", a: "", d: "p" }));
  assert.not.ok(matchesLabels(sel, { z: "1", a: "", d: "p", b: "x" }));
  assert.not.ok(matchesLabels(sel, { z: "1", a: "", d: "p", c: "" }));
  assert.not.ok(matchesLabels(sel, { z: "1", d: "p" }));
});

test("an invalid object form is a 400 with upstream's wording", () => {
  assert.throws(
    () => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Foo" }] }),
    (e: StatusError) => e.code === 400 && e.message === `"Foo" is not a valid label selector operator`,
  );
  assert.throws(
    () => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }),
    (e: StatusError) =>
      e.message ===
        `values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`,
  );
  assert.throws(
    () => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }),
    (e: StatusError) =>
      e.message ===
        `values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist`,
  );
  assert.throws(
    () => selectorFromLabelSelector({ matchLabels: { "bad key": "-v" } }),
    (e: StatusError) =>
      e.message ===
        `[key: Invalid value: "bad key": ${NAME_PART_MSG}, values[0][bad key]: Invalid value: "-v": ${LABEL_VALUE_MSG}]`,
  );
});

test.run();
