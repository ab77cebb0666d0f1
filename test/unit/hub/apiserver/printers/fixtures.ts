/** Shared fixtures for the printer tests: a fixed clock and timestamps relative to it. */
import type { KubeObject } from "../../../../../src/api/object.js";

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
