/**
 * Label selectors: the string form (`app=web,tier in (a,b),!canary`), parsed with
 * kube-apiserver's grammar and error wording, the object form (`matchLabels` /
 * `matchExpressions`), matching and printing.
 */

import { badRequest } from "./status.ts";
import { isQualifiedName, isValidLabelValue } from "./validation.ts";

/** A requirement's operator; `exists` is a bare key, `!` its negation, `gt`/`lt` are `>`/`<`. */
export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

/** One requirement: `key op values`. */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** A parsed selector: all requirements must hold (none selects everything). */
export interface LabelSelector {
  requirements: LabelRequirement[];
}

// ---- Lexer ----

type Token =
  | "error"
  | "end"
  | "closePar"
  | "comma"
  | "doesNotExist"
  | "doubleEquals"
  | "equals"
  | "greaterThan"
  | "identifier"
  | "in"
  | "lessThan"
  | "notEquals"
  | "notIn"
  | "openPar";

interface Scanned {
  tok: Token;
  lit: string;
}

const STRING_TO_TOKEN: ReadonlyMap<string, Token> = new Map(Object.entries(
  {
    ")": "closePar",
    ",": "comma",
    "!": "doesNotExist",
    "==": "doubleEquals",
    "=": "equals",
    ">": "greaterThan",
    "in": "in",
    "<": "lessThan",
    "!=": "notEquals",
    "notin": "notIn",
    "(": "openPar",
  } satisfies Record<string, Token>,
));

const SPECIAL = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const WHITESPACE = new Set([" ", "\t", "\r", "\n"]);

/** Splits a selector into tokens as upstream's lexer does (a NUL ends the input). */
function lex(s: string): Scanned[] {
  const out: Scanned[] = [];
  let pos = 0;
  const at = (i: number) => (i < s.length ? s[i] : "\0");
  for (;;) {
    while (WHITESPACE.has(at(pos))) pos++;
    const ch = at(pos);
    if (ch === "\0") {
      out.push({ tok: "end", lit: "" });
      return out;
    }
    if (SPECIAL.has(ch)) {
      let buffer = "";
      let last: Scanned | undefined;
      while (SPECIAL.has(at(pos))) {
        buffer += at(pos);
        const tok = STRING_TO_TOKEN.get(buffer);
        if (tok) last = { tok, lit: buffer };
        else if (last) break;
        pos++;
      }
      out.push(last ?? { tok: "error", lit: `error expected: keyword found '${buffer}'` });
      continue;
    }
    let buffer = "";
    while (at(pos) !== "\0" && !SPECIAL.has(at(pos)) && !WHITESPACE.has(at(pos))) buffer += s[pos++];
    out.push({ tok: STRING_TO_TOKEN.get(buffer) ?? "identifier", lit: buffer });
  }
}

// ---- Parser ----

/** A parse failure carrying upstream's message. */
class ParseError extends Error {}

const BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt";

/** Go's `%#v` of a string slice, as field errors print list values. */
function goStrings(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;
}

function keyProblem(key: string, path: string): string | undefined {
  const problems = isQualifiedName(key);
  return problems.length
    ? `${path}: Invalid value: ${JSON.stringify(key)}: ${problems.join("; ")}`
    : undefined;
}

/** Aggregates messages as upstream does: one alone, several as `[a, b]`, duplicates dropped. */
function aggregate(messages: string[]): string | undefined {
  const unique = [...new Set(messages)];
  if (unique.length === 0) return undefined;
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
}

/** The problems of a requirement, worded as upstream's requirement constructor words them. */
function requirementProblems(r: LabelRequirement): string[] {
  const errs: string[] = [];
  const keyErr = keyProblem(r.key, "key");
  if (keyErr) errs.push(keyErr);
  const vals = r.values;
  switch (r.operator) {
    case "in":
    case "notin":
      if (vals.length === 0) {
        errs.push(
          `values: Invalid value: ${goStrings(vals)}: for 'in', 'notin' operators, values set can't be empty`,
        );
      }
      break;
    case "=":
    case "==":
    case "!=":
      if (vals.length !== 1) {
        errs.push(
          `values: Invalid value: ${goStrings(vals)}: exact-match compatibility requires one single value`,
        );
      }
      break;
    case "exists":
    case "!":
      if (vals.length !== 0) {
        errs.push(
          `values: Invalid value: ${goStrings(vals)}: values set must be empty for exists and does not exist`,
        );
      }
      break;
    case "gt":
    case "lt":
      if (vals.length !== 1) {
        errs.push(
          `values: Invalid value: ${
            goStrings(vals)
          }: for 'Gt', 'Lt' operators, exactly one value is required`,
        );
      }
      vals.forEach((v, i) => {
        if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
          errs.push(
            `values[${i}]: Invalid value: ${
              JSON.stringify(v)
            }: for 'Gt', 'Lt' operators, the value must be an integer`,
          );
        }
      });
      break;
  }
  vals.forEach((v, i) => {
    const problems = isValidLabelValue(v);
    if (problems.length) {
      errs.push(`values[${i}][${r.key}]: Invalid value: ${JSON.stringify(v)}: ${problems.join("; ")}`);
    }
  });
  return errs;
}

/** Sorted, without duplicates, as upstream keeps a requirement's values. */
function valueSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

class Parser {
  #items: Scanned[];
  #pos = 0;

  constructor(s: string) {
    this.#items = lex(s);
  }

  /** The next token without consuming it; `in`/`notin` read as identifiers in value context. */
  #peek(values: boolean): Scanned {
    const item = this.#items[Math.min(this.#pos, this.#items.length - 1)];
    return values && (item.tok === "in" || item.tok === "notIn")
      ? { tok: "identifier", lit: item.lit }
      : item;
  }

  #next(values: boolean): Scanned {
    const item = this.#peek(values);
    if (this.#pos < this.#items.length - 1) this.#pos++;
    return item;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.#peek(true);
      if (tok === "end") return requirements;
      if (tok !== "identifier" && tok !== "doesNotExist") {
        throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.#requirement());
      } catch (e) {
        if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const after = this.#next(true);
      if (after.tok === "end") return requirements;
      if (after.tok !== "comma") {
        throw new ParseError(`found '${after.lit}', expected: ',' or 'end of string'`);
      }
      const following = this.#peek(true);
      if (following.tok !== "identifier" && following.tok !== "doesNotExist") {
        throw new ParseError(`found '${following.lit}', expected: identifier after ','`);
      }
    }
  }

  #requirement(): LabelRequirement {
    let negated = false;
    let { tok, lit } = this.#next(true);
    if (tok === "doesNotExist") {
      negated = true;
      ({ tok, lit } = this.#next(true));
    }
    if (tok !== "identifier") throw new ParseError(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErr = keyProblem(key, "<nil>");
    if (keyErr) throw new ParseError(keyErr);
    const ahead = this.#peek(true).tok;
    if (negated) return this.#checked({ key, operator: "!", values: [] });
    if (ahead === "end" || ahead === "comma") return this.#checked({ key, operator: "exists", values: [] });
    const operator = this.#operator();
    const values = operator === "in" || operator === "notin" ? this.#valueList() : this.#exactValue();
    return this.#checked({ key, operator, values });
  }

  #checked(r: LabelRequirement): LabelRequirement {
    const problem = aggregate(requirementProblems(r));
    if (problem) throw new ParseError(problem);
    return r;
  }

  #operator(): LabelOperator {
    const { tok, lit } = this.#next(false);
    const op = ({
      in: "in",
      notIn: "notin",
      equals: "=",
      doubleEquals: "==",
      notEquals: "!=",
      greaterThan: "gt",
      lessThan: "lt",
    } as Partial<Record<Token, LabelOperator>>)[tok];
    if (!op) throw new ParseError(`found '${lit}', expected: ${BINARY_OPERATORS}`);
    return op;
  }

  #valueList(): string[] {
    const open = this.#next(true);
    if (open.tok !== "openPar") throw new ParseError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.#peek(true);
    if (tok === "closePar") {
      this.#next(true);
      return [""];
    }
    if (tok !== "identifier" && tok !== "comma") {
      throw new ParseError(`found '${lit}', expected: ',', ')' or identifier`);
    }
    const values = this.#identifiers();
    if (this.#next(true).tok !== "closePar") throw new ParseError(`found '${lit}', expected: ')'`);
    return valueSet(values);
  }

  #identifiers(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { tok, lit } = this.#next(true);
      if (tok === "identifier") {
        values.add(lit);
        const ahead = this.#peek(true);
        if (ahead.tok === "comma") continue;
        if (ahead.tok === "closePar") return values;
        throw new ParseError(`found '${ahead.lit}', expected: ',' or ')'`);
      }
      if (tok !== "comma") throw new ParseError(`found '${lit}', expected: ',', or identifier`);
      if (values.size === 0) values.add("");
      const ahead = this.#peek(true);
      if (ahead.tok === "closePar") {
        values.add("");
        return values;
      }
      if (ahead.tok === "comma") {
        this.#next(true);
        values.add("");
      }
    }
  }

  #exactValue(): string[] {
    const ahead = this.#peek(true);
    if (ahead.tok === "end" || ahead.tok === "comma") return [""];
    const { tok, lit } = this.#next(true);
    if (tok === "identifier") return [lit];
    throw new ParseError(`found '${lit}', expected: identifier`);
  }
}

function byKey(a: LabelRequirement, b: LabelRequirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Parses the string form of a label selector (requirements come back sorted by key, as
 * upstream keeps them). A syntax error is a 400 BadRequest worded as kube-apiserver words it,
 * e.g. `unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt`.
 */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return { requirements: new Parser(s).parse().sort(byKey) };
  } catch (e) {
    if (e instanceof ParseError) throw badRequest(e.message);
    throw e;
  }
}

function integerOf(v: string): number | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Whether one requirement holds for `labels`. */
export function matchesRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && r.values.includes(labels[r.key]);
    case "!=":
    case "notin":
      return !has || !r.values.includes(labels[r.key]);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || r.values.length !== 1) return false;
      const actual = integerOf(labels[r.key]);
      const bound = integerOf(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === "gt" ? actual > bound : actual < bound;
    }
  }
}

/** Whether `labels` (absent means none) satisfy every requirement of `sel`. */
export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.requirements.every((r) => matchesRequirement(r, l));
}

/** The object form of a label selector (`metav1.LabelSelector`). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const EXPRESSION_OPERATORS: ReadonlyMap<string, LabelOperator> = new Map([
  ["In", "in"],
  ["NotIn", "notin"],
  ["Exists", "exists"],
  ["DoesNotExist", "!"],
]);

/**
 * The selector of a `metav1.LabelSelector` object. A null or absent selector selects nothing
 * (returned as null); an empty one selects everything. An invalid one is a 400 BadRequest
 * worded as upstream words it (e.g. `"Foo" is not a valid label selector operator`).
 */
export function selectorFromLabelSelector(ls: LabelSelectorObject | null | undefined): LabelSelector | null {
  if (ls === null || ls === undefined) return null;
  const requirements: LabelRequirement[] = [];
  const add = (r: LabelRequirement) => {
    const problem = aggregate(requirementProblems(r));
    if (problem) throw badRequest(problem);
    requirements.push(r);
  };
  for (const [key, value] of Object.entries(ls.matchLabels ?? {})) {
    add({ key, operator: "=", values: [value] });
  }
  for (const e of ls.matchExpressions ?? []) {
    const operator = EXPRESSION_OPERATORS.get(e.operator);
    if (!operator) throw badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    add({ key: e.key, operator, values: [...(e.values ?? [])] });
  }
  return { requirements: requirements.sort(byKey) };
}

/** One requirement in the string form (`tier in (a,b)`, `!canary`, `app=web`). */
export function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${[...r.values].sort().join(",")})`;
    case "gt":
      return `${r.key}>${r.values.join(",")}`;
    case "lt":
      return `${r.key}<${r.values.join(",")}`;
    default:
      return `${r.key}${r.operator}${r.values.join(",")}`;
  }
}

/** The string form of a selector, as upstream prints it; an empty selector prints as "". */
export function labelSelectorString(sel: LabelSelector): string {
  return sel.requirements.map(requirementString).join(",");
}
