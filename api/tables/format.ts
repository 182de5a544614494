/**
 * Small formatting rules shared by the printers: selectors, label maps, access modes and
 * "a, b, c + 2 more..." lists.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
export type Obj = any;

/** `v` when it is an array, else an empty one. */
export function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v : [];
}

/** `s`, or `<none>` when empty. */
export function orNone(s: unknown): string {
  return s === undefined || s === null || s === "" ? "<none>" : String(s);
}

/** A quantity (string or number) as printed, `0` when missing. */
export function quantity(q: unknown): string {
  return q === undefined || q === null || q === "" ? "0" : String(q);
}

/** `True`/`False` for a set boolean, `<unset>` otherwise. */
export function boolPtr(v: unknown): string {
  if (typeof v !== "boolean") return "<unset>";
  return v ? "True" : "False";
}

/** A label map as sorted `k=v` pairs joined by commas, or `<none>` (upstream's `labels.FormatLabels`). */
export function formatLabels(labels: Record<string, unknown> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${labels![k]}`).join(",");
}

/**
 * A metav1 LabelSelector in selector syntax, requirements sorted by key (upstream's
 * `LabelSelectorAsSelector(...).String()`); empty for a missing or empty selector.
 */
export function selectorString(sel: Obj): string {
  if (!sel || typeof sel !== "object") return "";
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of arr(sel.matchExpressions)) {
    const key = String(e.key ?? "");
    const values = arr(e.values).map(String).sort().join(",");
    switch (e.operator) {
      case "In":
        reqs.push({ key, text: `${key} in (${values})` });
        break;
      case "NotIn":
        reqs.push({ key, text: `${key} notin (${values})` });
        break;
      case "Exists":
        reqs.push({ key, text: key });
        break;
      case "DoesNotExist":
        reqs.push({ key, text: `!${key}` });
        break;
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(",");
}

/** {@link selectorString}, or `<none>` when that is empty (upstream's `FormatLabelSelector`). */
export function formatLabelSelector(sel: Obj): string {
  return selectorString(sel) || "<none>";
}

const ACCESS_MODES: [string, string][] = [
  ["ReadWriteOnce", "RWO"],
  ["ReadOnlyMany", "ROX"],
  ["ReadWriteMany", "RWX"],
  ["ReadWriteOncePod", "RWOP"],
];

/** Volume access modes in their short forms, in upstream's fixed order (`RWO,ROX,RWX,RWOP`). */
export function accessModes(modes: unknown): string {
  const have = new Set(arr(modes));
  return ACCESS_MODES.filter(([long]) => have.has(long)).map(([, short]) => short).join(",");
}

/**
 * The first `max` items joined by `sep`, then ` + N more...` when there were more.
 */
export function listWithMore(
  items: string[],
  options: { max: number; sep?: string; total?: number },
): string {
  const total = options.total ?? items.length;
  const shown = items.slice(0, options.max).join(options.sep ?? ",");
  return total > options.max ? `${shown} + ${total - options.max} more...` : shown;
}

/** The names and the images of containers, each joined by commas. */
export function containerCells(containers: unknown): [string, string] {
  const list = arr(containers);
  return [list.map((c) => c?.name ?? "").join(","), list.map((c) => c?.image ?? "").join(",")];
}

/** Whether a condition of `type` has status True. */
export function hasTrueCondition(conditions: unknown, type: string): boolean {
  return arr(conditions).some((c) => c?.type === type && c?.status === "True");
}
