/**
 * Table printer for custom resources, from a CRD version's additionalPrinterColumns, as
 * apiextensions-apiserver's tableconvertor builds it (v1.32).
 *
 * Design notes:
 * - Columns are Name plus the CRD's columns; a CRD without columns gets the logical default
 *   [Age: date, .metadata.creationTimestamp], so custom resources print NAME AGE.
 * - Only the first value a path selects is used ("we only support simple JSON path"); a path
 *   that selects nothing gives a null cell, which kubectl prints as "<none>".
 * - A string column prints the value as Go's fmt.Fprint would (maps as "map[k:v]", lists as
 *   "[a b]"); other types are converted (integer truncates floats, date becomes an age) and a
 *   value of the wrong type gives null, exactly as cellForJSONValue does.
 * - A path that cannot be parsed fails crdPrinter() with a JsonPathError, so CRD validation can
 *   reject it with a message; upstream then serves the default table, which callers can do too.
 */
import { D } from "./descriptions.js";
import { humanDuration, parseTime } from "./duration.js";
import { type CompiledPath, compileJsonPath, evaluate } from "./jsonpath.js";
import { column, NAME_COLUMN, nameOf, type TablePrinter } from "./printer.js";

export interface CrdPrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const DEFAULT_CRD_COLUMNS: readonly CrdPrinterColumn[] = [
  {
    name: "Age",
    type: "date",
    description: D.objectMetaCreationTimestamp,
    jsonPath: ".metadata.creationTimestamp",
  },
];

/** Go's %v for float64: shortest digits, exponent form ("1.5e+06") when the exponent is < -4 or >= 6. */
function goFloat(f: number): string {
  if (!Number.isFinite(f)) return f > 0 ? "+Inf" : f < 0 ? "-Inf" : "NaN";
  const [mantissa = "0", e = "0"] = f.toExponential().split("e");
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(f);
}

/** fmt.Fprint of a value decoded from JSON (unstructured): whole numbers are int64 there. */
export function goPrint(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isSafeInteger(v) ? String(v) : goFloat(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(goPrint).join(" ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `map[${entries.map(([k, x]) => `${k}:${goPrint(x)}`).join(" ")}]`;
  }
  return String(v);
}

/** time.Time{} (0001-01-01T00:00:00Z), which metav1.Time treats as unset. */
const GO_ZERO_TIME_MS = -62135596800000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** cellForJSONValue for the non-string types. */
function typedCell(type: string, value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date": {
      if (typeof value !== "string") return null;
      if (value === "" || value === "null") return "<unknown>";
      const t = RFC3339.test(value) ? parseTime(value) : undefined;
      if (!t) return "<invalid>";
      if (t.getTime() === GO_ZERO_TIME_MS) return "<unknown>";
      return humanDuration(now.getTime() - t.getTime());
    }
    default:
      return null;
  }
}

export function crdPrinter(additionalPrinterColumns: readonly CrdPrinterColumn[] | undefined): TablePrinter {
  const defs =
    additionalPrinterColumns && additionalPrinterColumns.length > 0
      ? additionalPrinterColumns
      : DEFAULT_CRD_COLUMNS;
  const paths: CompiledPath[] = defs.map((c) => compileJsonPath(c.jsonPath));
  const columns = [
    NAME_COLUMN,
    ...defs.map((c) =>
      column(
        c.name,
        c.type,
        c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
        {
          format: c.format ?? "",
          priority: c.priority ?? 0,
        },
      ),
    ),
  ];
  return {
    columns,
    rows(obj, now) {
      const cells: unknown[] = [nameOf(obj)];
      defs.forEach((def, i) => {
        const path = paths[i] ?? [];
        const found = evaluate(path, obj);
        if (found.length === 0) {
          cells.push(null);
          return;
        }
        const value = found[0];
        cells.push(def.type === "string" ? goPrint(value) : typedCell(def.type, value, now));
      });
      return [cells];
    },
  };
}
