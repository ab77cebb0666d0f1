/**
 * The default table for kinds without an upstream printer (apiserver's DefaultTableConvertor):
 * Name and "Created At", a date column holding the RFC 3339 creation time. kubectl renders a
 * date column as an age, so users still see NAME and CREATED AT with a duration-like value.
 * Roles, cluster roles, limit ranges and custom resource definitions print this way upstream.
 */
import { D } from "./descriptions.js";
import { rfc3339 } from "./duration.js";
import { column, NAME_COLUMN, nameOf, type TablePrinter } from "./printer.js";

export const defaultPrinter: TablePrinter = {
  columns: [NAME_COLUMN, column("Created At", "date", D.objectMetaCreationTimestamp)],
  rows: (obj) => [[nameOf(obj), rfc3339(obj.metadata?.creationTimestamp)]],
};
