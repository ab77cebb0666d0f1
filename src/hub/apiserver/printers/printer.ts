/**
 * The TablePrinter contract and the small pieces every printer shares (Name/Age columns).
 *
 * Design notes:
 * - A printer is data (its column definitions) plus one pure function from an object to its
 *   row cells. The server always prints with upstream's `Wide: true`: every column, priority 0
 *   and 1, is in every row, and kubectl hides the priority-1 ones unless `-o wide`.
 * - Cells keep their JSON type: integer columns carry numbers, boolean columns booleans, so the
 *   Table kubectl receives is byte-for-byte comparable with kube-apiserver's.
 * - Objects arrive as the generic KubeObject shape; printers read them through the
 *   `kubernetes-types` views and default every field they touch, so a sparse object (not yet
 *   reconciled, or written by an older agent) still prints instead of throwing.
 */
import type { KubeObject } from "../../../api/object.js";
import type { ColumnDefinition } from "../resource-info.js";
import { D } from "./descriptions.js";
import { since } from "./duration.js";

/** metav1.TableRowCondition: upstream marks finished pods with {type: Completed}. */
export interface TableRowCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface TablePrinter {
  readonly columns: readonly ColumnDefinition[];
  /** Cells for one object; most kinds print one row per object. */
  rows(obj: KubeObject, now: Date): unknown[][];
  /** Row conditions (only pods set any upstream). */
  conditions?(obj: KubeObject): TableRowCondition[] | undefined;
}

export type ColumnType = "string" | "integer" | "number" | "boolean" | "date";

export function column(
  name: string,
  type: ColumnType | string,
  description: string,
  opts: { priority?: number; format?: string } = {},
): ColumnDefinition {
  return { name, type, format: opts.format ?? "", description, priority: opts.priority ?? 0 };
}

/** Same column, shown only with -o wide. */
export function wide(name: string, type: ColumnType | string, description: string): ColumnDefinition {
  return column(name, type, description, { priority: 1 });
}

export const NAME_COLUMN: ColumnDefinition = column("Name", "string", D.objectMetaName, { format: "name" });
export const AGE_COLUMN: ColumnDefinition = column("Age", "string", D.objectMetaCreationTimestamp);

/** Name of the object ("" when absent, as Go's zero string). */
export function nameOf(obj: KubeObject): string {
  return obj.metadata?.name ?? "";
}

/** AGE cell: time since metadata.creationTimestamp. */
export function ageOf(obj: KubeObject, now: Date): string {
  return since(obj.metadata?.creationTimestamp, now);
}

/**
 * The common shape: one row per object, cells computed from a typed view of the object.
 * The cast is the boundary where the generic object is read as its built-in kind; every printer
 * defaults the fields it reads, so a missing field never throws.
 */
export function printer<T>(
  columns: readonly ColumnDefinition[],
  cells: (obj: T & KubeObject, now: Date) => unknown[],
): TablePrinter {
  return {
    columns,
    rows: (obj, now) => [cells(obj as T & KubeObject, now)],
  };
}
