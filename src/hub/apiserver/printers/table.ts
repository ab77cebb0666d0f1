/**
 * buildTable: the meta.k8s.io/v1 Table the API server returns when a client asks for
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (kubectl get does by default).
 *
 * Design notes:
 * - Mirrors apiserver's asTable(): rows come from the resource's printer, then each row's
 *   `object` is filled per `includeObject`: Metadata (kubectl's default; `--show-labels` and
 *   `-A` read the labels and namespace from it) wraps the object's metadata in a
 *   PartialObjectMetadata, Object embeds the whole object (`--sort-by`), None sends null.
 * - Rows reference the stored objects without copying: the result is serialised right away and
 *   never mutated, so copying would only cost time on large lists.
 * - The list metadata carries resourceVersion, and continue / remainingItemCount when paging,
 *   omitting empty values as Go's omitempty does.
 */
import { ApiError } from "../../../api/errors.js";
import type { JsonObject, KubeObject } from "../../../api/object.js";
import type { TablePrinter } from "./printer.js";

export type IncludeObject = "None" | "Metadata" | "Object";

export interface BuildTableOptions {
  includeObject: IncludeObject;
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
  now: Date;
  /** TableOptions.noHeaders: leave out columnDefinitions (e.g. watch events after the first). */
  noHeaders?: boolean;
}

export const TABLE_API_VERSION = "meta.k8s.io/v1";

/** Validates the `includeObject` query parameter; empty means Metadata, as upstream defaults it. */
export function parseIncludeObject(value: string | null | undefined): IncludeObject {
  if (value === undefined || value === null || value === "" || value === "Metadata") return "Metadata";
  if (value === "None" || value === "Object") return value;
  throw ApiError.badRequest(
    `unrecognized includeObject value: "${value}" (use one of "None", "Metadata", "Object")`,
  );
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  switch (include) {
    case "None":
      return null;
    case "Object":
      return obj;
    case "Metadata":
      return { kind: "PartialObjectMetadata", apiVersion: TABLE_API_VERSION, metadata: obj.metadata };
  }
}

export function buildTable(
  printer: TablePrinter,
  objects: readonly KubeObject[],
  opts: BuildTableOptions,
): JsonObject {
  const metadata: JsonObject = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;

  const rows: JsonObject[] = [];
  for (const obj of objects) {
    const conditions = printer.conditions?.(obj);
    for (const cells of printer.rows(obj, opts.now)) {
      const row: JsonObject = { cells };
      if (conditions && conditions.length > 0) row.conditions = conditions;
      row.object = rowObject(obj, opts.includeObject);
      rows.push(row);
    }
  }

  const table: JsonObject = { kind: "Table", apiVersion: TABLE_API_VERSION, metadata };
  if (!opts.noHeaders) table.columnDefinitions = printer.columns;
  table.rows = rows;
  return table;
}
