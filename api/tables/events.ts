/**
 * Events, core/v1 and events.k8s.io/v1 alike: kube-apiserver prints both with the core printer.
 *
 * @module
 */

import { type TablePrinter, tablePrinter } from "./columns.ts";
import { age, parseTime } from "./duration.ts";
import type { Obj } from "./format.ts";

/** The fields the printer reads, in core/v1 names. */
interface CoreEvent {
  name: string;
  type: string;
  reason: string;
  message: string;
  involvedObject: Obj;
  source: Obj;
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count: number;
  series?: Obj;
}

function isEventsV1(ev: Obj): boolean {
  if (typeof ev?.apiVersion === "string") return ev.apiVersion.startsWith("events.k8s.io/");
  return ev?.regarding !== undefined || ev?.note !== undefined || ev?.deprecatedSource !== undefined;
}

/** An event of either API in core/v1 terms. */
export function asCoreEvent(ev: Obj): CoreEvent {
  const v1 = isEventsV1(ev);
  return {
    name: ev?.metadata?.name ?? "",
    type: ev?.type ?? "",
    reason: ev?.reason ?? "",
    message: String((v1 ? ev?.note : ev?.message) ?? ""),
    involvedObject: (v1 ? ev?.regarding : ev?.involvedObject) ?? {},
    source: (v1 ? ev?.deprecatedSource : ev?.source) ?? {},
    reportingComponent: (v1 ? ev?.reportingController : ev?.reportingComponent) ?? "",
    reportingInstance: ev?.reportingInstance ?? "",
    firstTimestamp: v1 ? ev?.deprecatedFirstTimestamp : ev?.firstTimestamp,
    lastTimestamp: v1 ? ev?.deprecatedLastTimestamp : ev?.lastTimestamp,
    eventTime: ev?.eventTime,
    count: Number((v1 ? ev?.deprecatedCount : ev?.count) ?? 0),
    series: ev?.series ?? undefined,
  };
}

/** The cells of one event, LAST SEEN first. */
export function eventCells(raw: Obj, now: number): unknown[] {
  const ev = asCoreEvent(raw);
  const firstSeen = parseTime(ev.firstTimestamp) !== undefined
    ? age(ev.firstTimestamp, now)
    : age(ev.eventTime, now);
  let lastSeen = parseTime(ev.lastTimestamp) !== undefined ? age(ev.lastTimestamp, now) : firstSeen;
  let count = ev.count;
  if (ev.series) {
    lastSeen = age(ev.series.lastObservedTime, now);
    count = Number(ev.series.count ?? 0);
  } else if (count === 0) {
    count = 1;
  }
  const kind = String(ev.involvedObject.kind ?? "").toLowerCase();
  const target = ev.involvedObject.name ? `${kind}/${ev.involvedObject.name}` : kind;
  const component = ev.source.component || ev.reportingComponent;
  const instance = ev.source.host || ev.reportingInstance;
  return [
    lastSeen,
    ev.type,
    ev.reason,
    target,
    ev.involvedObject.fieldPath ?? "",
    instance ? `${component}, ${instance}` : component,
    ev.message.trim(),
    firstSeen,
    count,
    ev.name,
  ];
}

const column = (name: string, wide = false) => ({ name, wide, cell: () => "" });

/** LAST SEEN TYPE REASON OBJECT MESSAGE | SUBOBJECT SOURCE FIRST SEEN COUNT NAME (in that cell order). */
export const eventPrinter: TablePrinter = {
  columns: tablePrinter([
    column("Last Seen"),
    column("Type"),
    column("Reason"),
    column("Object"),
    column("Subobject", true),
    column("Source", true),
    column("Message"),
    column("First Seen", true),
    column("Count", true),
    { ...column("Name", true), format: "name" },
  ]).columns,
  row: eventCells,
};
