/**
 * The shape of a Table printer and a small builder for one: columns, each with the rule for its cell.
 *
 * @module
 */

import { age } from "./duration.ts";
import type { Obj } from "./format.ts";

/** A column of a `meta.k8s.io` Table. */
export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** The columns of a kind and the cells of one object, in column order. */
export interface TablePrinter {
  columns: TableColumnDefinition[];
  row(obj: Obj, now: number): unknown[];
}

/** The cell of one column for one object. */
export type Cell = (obj: Obj, now: number) => unknown;

/** A column and the rule for its cell. */
export interface Column {
  name: string;
  type?: string;
  format?: string;
  description?: string;
  /** A `-o wide` column (priority 1). */
  wide?: boolean;
  cell: Cell;
}

/** Builds a printer from its columns, in order. */
export function tablePrinter(columns: Column[]): TablePrinter {
  const definitions = columns.map((c) => ({
    name: c.name,
    type: c.type ?? "string",
    format: c.format ?? "",
    description: c.description ?? "",
    priority: c.wide ? 1 : 0,
  }));
  return {
    columns: definitions,
    row: (obj, now) => columns.map((c) => c.cell(obj, now)),
  };
}

/** Builds a printer whose first column is the object's name. */
export function namedPrinter(...columns: Column[]): TablePrinter {
  return tablePrinter([nameColumn, ...columns]);
}

/** The object's name. */
export const nameColumn: Column = {
  name: "Name",
  format: "name",
  description: "Name of the object.",
  cell: (o) => o?.metadata?.name ?? "",
};

/** The time since the object was created. */
export const ageColumn: Column = {
  name: "Age",
  description: "Time since the object was created.",
  cell: (o, now) => age(o?.metadata?.creationTimestamp, now),
};

/** A string column. */
export function str(name: string, cell: Cell, options: { wide?: boolean } = {}): Column {
  return { name, cell, wide: options.wide };
}

/** An integer column; its cells are numbers. */
export function int(name: string, cell: Cell, options: { wide?: boolean } = {}): Column {
  return { name, type: "integer", cell, wide: options.wide };
}

/** A boolean column. */
export function bool(name: string, cell: Cell, options: { wide?: boolean } = {}): Column {
  return { name, type: "boolean", cell, wide: options.wide };
}

/** A number from `v`, 0 when it is not one. */
export function num(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
}
