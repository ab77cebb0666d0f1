/**
 * Server-side Table printing: upstream kube-apiserver's column definitions and cell
 * computations for every built-in resource the hub serves, the default Name / Created At
 * table for the rest, CRD additionalPrinterColumns, and the Table response envelope.
 */
export { type CrdPrinterColumn, crdPrinter, goPrint } from "./crd.js";
export { defaultPrinter } from "./default.js";
export { humanDuration, shortHumanDuration } from "./duration.js";
export { compileJsonPath, evaluate as evaluateJsonPath, JsonPathError } from "./jsonpath.js";
export type { TablePrinter, TableRowCondition } from "./printer.js";
export { hasPrinter, printerFor } from "./registry.js";
export {
  type BuildTableOptions,
  buildTable,
  type IncludeObject,
  parseIncludeObject,
  TABLE_API_VERSION,
} from "./table.js";
