import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  addQuantities,
  canonicalQuantity,
  compareQuantities,
  formatQuantity,
  parseResourceQuantity,
  prettyResourceList,
  quantityMilliValue,
  quantityValue,
  zeroQuantity,
} from "./resource_quantity.ts";

const q = (text: string) => parseResourceQuantity(text)!;

test("canonicalQuantity prints as upstream's Quantity.String", () => {
  const cases: Array<[string, string]> = [
    ["0", "0"],
    ["0m", "0"],
    ["1", "1"],
    ["1.5", "1500m"],
    ["0.1", "100m"],
    ["2000m", "2"],
    ["1000", "1k"],
    ["1100", "1100"],
    ["1000k", "1M"],
    ["1024", "1024"],
    ["1Gi", "1Gi"],
    ["1.5Gi", "1536Mi"],
    ["0.5Ki", "512"],
    ["1536Ki", "1536Ki"],
    ["2048Ki", "2Mi"],
    ["100Mi", "100Mi"],
    ["1e3", "1e3"],
    ["1.5e3", "1500"],
    ["1E6", "1e6"],
    ["1n", "1n"],
    ["0.1n", "1n"],
    ["1u", "1u"],
    ["-500m", "-500m"],
    ["+2", "2"],
    [".5", "500m"],
    ["5.", "5"],
  ];
  for (const [input, want] of cases) assert.is(canonicalQuantity(input), want, input);
  for (const bad of ["", "m", "1.2.3", "1Kb", "abc", "1 Gi", "e3"]) {
    assert.is(parseResourceQuantity(bad), undefined, bad);
  }
  assert.is(canonicalQuantity(3), "3");
});

test("sums keep the left side's format, a zero left side takes the right's", () => {
  assert.is(formatQuantity(addQuantities(q("500m"), q("250m"))), "750m");
  assert.is(formatQuantity(addQuantities(q("100m"), q("900m"))), "1");
  assert.is(formatQuantity(addQuantities(q("1Gi"), q("512Mi"))), "1536Mi");
  assert.is(formatQuantity(addQuantities(zeroQuantity(), q("1Gi"))), "1Gi");
  assert.is(formatQuantity(addQuantities(q("1"), q("1Gi"))), "1073741825");
});

test("values round away from zero; comparisons are exact", () => {
  assert.is(quantityValue(q("1500m")), 2n);
  assert.is(quantityValue(q("1")), 1n);
  assert.is(quantityMilliValue(q("1.0001")), 1001n);
  assert.is(quantityMilliValue(q("1Ki")), 1024000n);
  assert.is(compareQuantities(q("1Gi"), q("1073741824")), 0);
  assert.is(compareQuantities(q("999m"), q("1")), -1);
  assert.is(compareQuantities(q("1Ei"), q("1E")), 1);
});

test("prettyResourceList prints sorted name=value pairs", () => {
  const list = new Map([["requests.cpu", q("0.5")], ["pods", q("1")]]);
  assert.is(prettyResourceList(list), "pods=1,requests.cpu=500m");
});

test.run();
