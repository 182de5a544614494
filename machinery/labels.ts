/**
 * Label selectors: the string form (`app=web,tier in (a,b),!canary`) and the object form
 * (`matchLabels`/`matchExpressions`), with matching.
 */

import { badRequest } from "./status.ts";
import { isQualifiedName, isValidLabelValue } from "./validation.ts";

export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  requirements: LabelRequirement[];
}

function fail(message: string): never {
  throw badRequest(`unable to parse requirement: ${message}`);
}

function checkKey(key: string): void {
  const problems = isQualifiedName(key);
  if (problems.length) fail(`<nil>: Invalid value: "${key}": ${problems.join("; ")}`);
}

function checkValue(value: string): void {
  const problems = isValidLabelValue(value);
  if (problems.length) fail(`values[0][${value}]: Invalid value: "${value}": ${problems.join("; ")}`);
}

/** Splits at commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseTerm(term: string): LabelRequirement {
  const t = term.trim();
  if (!t) fail("found '', expected: !, identifier, or 'end of string'");
  let m = /^!\s*([^\s=!(),]+)$/.exec(t);
  if (m) {
    checkKey(m[1]);
    return { key: m[1], operator: "!", values: [] };
  }
  m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(t);
  if (m) {
    checkKey(m[1]);
    const values = m[3].split(",").map((v) => v.trim());
    if (values.length === 1 && values[0] === "" && m[2] === "in") {
      // `in ()` is allowed upstream as an empty set only for notin; keep it strict.
    }
    for (const v of values) checkValue(v);
    return { key: m[1], operator: m[2] as LabelOperator, values };
  }
  m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(t);
  if (m) {
    checkKey(m[1]);
    checkValue(m[3]);
    return { key: m[1], operator: m[2] as LabelOperator, values: [m[3]] };
  }
  m = /^([^\s=!(),]+)$/.exec(t);
  if (m) {
    checkKey(m[1]);
    return { key: m[1], operator: "exists", values: [] };
  }
  fail(`found '${t}', expected: in, notin, =, ==, !=, gt, lt`);
}

/** Parses the string form; a syntax error is a 400 BadRequest. */
export function parseLabelSelector(s: string): LabelSelector {
  if (!s.trim()) return { requirements: [] };
  return { requirements: splitTerms(s).map(parseTerm) };
}

function matchesRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && r.values.includes(v);
    case "!=":
    case "notin":
      return !has || !r.values.includes(v);
    case "exists":
      return has;
    case "!":
      return !has;
  }
}

/** Whether `labels` satisfy every requirement. */
export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.requirements.every((r) => matchesRequirement(r, l));
}

/**
 * The selector of a `metav1.LabelSelector` object: null selects nothing (returned as null),
 * an empty one selects everything.
 */
export function selectorFromLabelSelector(
  ls: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | null | undefined,
): LabelSelector | null {
  if (ls === null || ls === undefined) return null;
  const requirements: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) requirements.push({ key: k, operator: "=", values: [v] });
  for (const e of ls.matchExpressions ?? []) {
    const op = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" }[e.operator] as LabelOperator | undefined;
    if (!op) throw badRequest(`"${e.operator}" is not a valid label selector operator`);
    requirements.push({ key: e.key, operator: op, values: e.values ?? [] });
  }
  return { requirements };
}

/** The string form of a selector. */
export function labelSelectorString(sel: LabelSelector): string {
  return sel.requirements.map((r) => {
    switch (r.operator) {
      case "exists":
        return r.key;
      case "!":
        return `!${r.key}`;
      case "in":
      case "notin":
        return `${r.key} ${r.operator} (${r.values.join(",")})`;
      default:
        return `${r.key}${r.operator}${r.values[0]}`;
    }
  }).join(",");
}
