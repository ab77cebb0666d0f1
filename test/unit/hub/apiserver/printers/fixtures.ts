/** Shared fixtures for the printer tests: a fixed clock, timestamps relative to it, row and header readers. */
import type { KubeObject } from "../../../../../src/api/object.js";
import { printerFor } from "../../../../../src/hub/apiserver/printers/index.js";

export const NOW = new Date("2025-01-10T12:00:00Z");

/** RFC 3339 timestamp `ms` milliseconds before NOW. */
export function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.000Z$/, "Z");
}

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** An object of `kind` created 3 days before NOW, so its AGE cell is "3d". */
export function obj(
  apiVersion: string,
  kind: string,
  name: string,
  fields: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: { name, namespace: "default", uid: `uid-${name}`, creationTimestamp: ago(3 * DAY), ...meta },
    ...fields,
  };
}

/** the first row a built-in printer makes for o, at NOW */
export function cells(group: string, resource: string, o: KubeObject): unknown[] {
  const r = printerFor(group, resource).rows(o, NOW)[0];
  if (!r) throw new Error("no row");
  return r;
}

/** a printer's column names, wide (priority 1) ones marked with `*` */
export function headers(group: string, resource: string): string[] {
  return printerFor(group, resource).columns.map((c) => (c.priority ? `${c.name}*` : c.name));
}
