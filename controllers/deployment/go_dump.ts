/**
 * The text go-spew prints for a Go value with `%#v` (types shown, map keys sorted, methods not
 * called), which upstream hashes to name a deployment's ReplicaSets. The value is a pod
 * template's JSON read into the Go types of `go_types.ts` the way kube-controller-manager reads
 * it off a protobuf wire: absent, null and empty lists and maps are nil; quantities are parsed
 * from their canonical text.
 *
 * Spew's rules, as followed here: every value is preceded by its type in parentheses, except
 * elements of slices and maps and values reached through a pointer; structs print as
 * `{Field:value Field:value}`, slices as `[a b]`, maps as `map[k:v k:v]`, nil as `<nil>`, strings
 * raw; a pointer prints its type (`(*int64)30`) or, where types are not shown, `<*>`.
 */

import { GO_TYPES, type GoType } from "./go_types.ts";
import { type GoQuantity, goQuantity } from "./go_quantity.ts";

/** Raised when a value cannot be printed as upstream would (e.g. an arbitrary-precision quantity). */
export class UnsupportedValueError extends Error {}

type Json = unknown;

class Printer {
  out = "";
  /** spew's `ignoreNextType`: the next value's type was already shown (or is not to be). */
  #ignoreNextType = false;

  format(typeName: string, value: Json): void {
    const type = typeOf(typeName);
    if (type[0] === "ptr") return this.#formatPtr(typeName, type[1], value);
    if (!this.#ignoreNextType) this.out += `(${typeName})`;
    this.#ignoreNextType = false;
    switch (type[0]) {
      case "struct":
        return this.#struct(type[1], isObject(value) ? value : {});
      case "slice":
        return this.#slice(type[1], value);
      case "map":
        return this.#map(type[2], value);
      case "string":
        this.out += typeof value === "string" ? value : "";
        return;
      case "bool":
        this.out += value === true ? "true" : "false";
        return;
      case "int":
      case "uint":
        this.out += typeof value === "number" ? String(Math.trunc(value)) : "0";
        return;
      case "float": // no pod template field is one
        throw new UnsupportedValueError(`float ${typeName}`);
      case "quantity":
        return this.#quantity(value);
      case "time":
        return this.#time(value);
      case "intOrString":
        return this.#intOrString(value);
    }
  }

  #formatPtr(typeName: string, elem: string, value: Json): void {
    const nil = value === undefined || value === null;
    if (nil && this.#ignoreNextType) {
      // spew leaves ignoreNextType set here, and so do we.
      this.out += "<nil>";
      return;
    }
    this.out += this.#ignoreNextType ? "<*>" : `(${typeName})`;
    if (nil) {
      this.out += "<nil>";
      return;
    }
    this.#ignoreNextType = true;
    this.format(elem, value);
  }

  #struct(fields: ReadonlyArray<readonly [string, string, string]>, obj: Record<string, Json>): void {
    this.out += "{";
    fields.forEach(([goName, jsonName, type], i) => {
      if (i > 0) this.out += " ";
      this.out += `${goName}:`;
      const v = jsonName === "" ? obj : jsonName === "-" ? undefined : obj[jsonName];
      this.format(type, v);
    });
    this.out += "}";
  }

  #slice(elem: string, value: Json): void {
    if (!Array.isArray(value) || value.length === 0) {
      this.out += "<nil>";
      return;
    }
    this.out += "[";
    value.forEach((v, i) => {
      if (i > 0) this.out += " ";
      this.#ignoreNextType = true;
      this.format(elem, v);
    });
    this.out += "]";
  }

  #map(elem: string, value: Json): void {
    if (!isObject(value) || Object.keys(value).length === 0) {
      this.out += "<nil>";
      return;
    }
    this.out += "map[";
    Object.keys(value).sort(compareGoStrings).forEach((k, i) => {
      if (i > 0) this.out += " ";
      this.#ignoreNextType = true;
      this.out += k; // every map key in a pod template is a string kind
      this.#ignoreNextType = false;
      this.out += ":";
      this.#ignoreNextType = true;
      this.format(elem, value[k]);
    });
    this.out += "]";
  }

  #quantity(value: Json): void {
    let q: GoQuantity | undefined = { value: 0n, scale: 0, s: "", format: "" };
    if (value !== undefined && value !== null) {
      q = goQuantity(value);
      if (!q || q.bigDecimal) throw new UnsupportedValueError(`quantity ${JSON.stringify(value)}`);
    }
    this.out += `{i:(resource.int64Amount){value:(int64)${q.value} scale:(resource.Scale)${q.scale}}` +
      ` d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)${q.s} Format:(resource.Format)${q.format}}`;
  }

  #time(value: Json): void {
    // Templates carry no timestamps (kubectl writes `creationTimestamp: null`); a set one would
    // print the process's local time zone, which is not modelled.
    if (value !== undefined && value !== null) {
      throw new UnsupportedValueError(`time ${JSON.stringify(value)}`);
    }
    this.out += "{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}";
  }

  #intOrString(value: Json): void {
    const isString = typeof value === "string";
    const int = typeof value === "number" ? Math.trunc(value) : 0;
    this.out += `{Type:(intstr.Type)${isString ? 1 : 0} IntVal:(int32)${int} StrVal:(string)${
      isString ? value : ""
    }}`;
  }
}

function typeOf(name: string): GoType {
  const t = GO_TYPES[name];
  if (!t) throw new Error(`No Go type named ${name}`);
  return t;
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const encoder = new TextEncoder();

/** Go compares strings bytewise (UTF-8). */
function compareGoStrings(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The `%#v` dump of a `v1.PodTemplateSpec` given as JSON. Throws UnsupportedValueError where the model ends. */
export function dumpPodTemplateSpec(template: unknown): string {
  const p = new Printer();
  p.format("v1.PodTemplateSpec", template);
  return p.out;
}
