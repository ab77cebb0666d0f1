/**
 * Typed views of stream-open params. The hub builds them from kubectl's query; the agent
 * re-checks every field because a frame is input from the network, and answers a malformed
 * request with a 400 that says which field was wrong.
 */
import { StreamRequestError } from "../../transport/streams/index.js";

type Params = Record<string, unknown>;

function fail(field: string, what: string): never {
  throw new StreamRequestError(`invalid stream request: ${field} ${what}`);
}

export function reqString(p: Params, f: string): string {
  const v = p[f];
  if (typeof v !== "string" || v.length === 0) fail(f, "must be a non-empty string");
  return v;
}

export function optInt(p: Params, f: string, min = 0): number | undefined {
  const v = p[f];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) fail(f, `must be an integer >= ${min}`);
  return v;
}

export function optBool(p: Params, f: string): boolean {
  const v = p[f];
  if (v === undefined) return false;
  if (typeof v !== "boolean") fail(f, "must be a boolean");
  return v;
}

export function strArray(p: Params, f: string): string[] {
  const v = p[f];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string")) {
    fail(f, "must be a non-empty list of strings");
  }
  return v as string[];
}

/** The identity every pod stream names: which pod (uid, for Docker) and container. */
export interface PodTarget {
  podUid: string;
  /** pod name, for messages */
  pod: string;
  container: string;
}

export function podTarget(p: Params): PodTarget {
  return { podUid: reqString(p, "podUid"), pod: reqString(p, "pod"), container: reqString(p, "container") };
}

export interface LogParams extends PodTarget {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  /** unix seconds */
  since?: number;
}

export function logParams(p: Params): LogParams {
  const tailLines = optInt(p, "tailLines");
  const since = optInt(p, "since");
  return {
    ...podTarget(p),
    follow: optBool(p, "follow"),
    previous: optBool(p, "previous"),
    timestamps: optBool(p, "timestamps"),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(since !== undefined ? { since } : {}),
  };
}

export interface ExecParams extends PodTarget {
  command: string[];
  stdin: boolean;
  tty: boolean;
}

export function execParams(p: Params, needCommand: boolean): ExecParams {
  return {
    ...podTarget(p),
    command: needCommand ? strArray(p, "command") : [],
    stdin: optBool(p, "stdin"),
    tty: optBool(p, "tty"),
  };
}

export function portParams(p: Params): { podUid: string; pod: string; port: number } {
  const port = optInt(p, "port", 1);
  if (port === undefined || port > 65535) fail("port", "must be between 1 and 65535");
  return { podUid: reqString(p, "podUid"), pod: reqString(p, "pod"), port };
}
