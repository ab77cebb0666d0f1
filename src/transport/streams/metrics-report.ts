/**
 * The usage report an agent sends for `kubectl top`: one `stream-metrics` envelope on the stream
 * topic, carrying the node's and every running pod's latest usage.
 *
 * Design notes
 * - It rides the reserved `stream-*` family (opaque to the envelope validator) so the sync engine
 *   and its outbox stay untouched: usage is a sample, not state, and a lost report is simply
 *   replaced by the next one. Nothing is queued while offline.
 * - Numbers are raw (nanocores, bytes); the hub formats Kubernetes quantities. The hub validates
 *   the report here before keeping it, since it is input from the network.
 */
import { isObject } from "../../api/object.js";
import { StreamProtocolError } from "./frames.js";

export const METRICS_FRAME = "stream-metrics";
/** streamId used by metrics envelopes (they belong to no stream) */
export const METRICS_STREAM_ID = "metrics";

export interface Usage {
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  /** RFC 3339 time of the sample */
  timestamp: string;
  windowSeconds: number;
  containers: ({ name: string } & Usage)[];
}

export interface MetricsReport {
  node: { timestamp: string; windowSeconds: number; usage: Usage };
  pods: PodUsage[];
}

function fail(what: string): never {
  throw new StreamProtocolError(`invalid metrics report: ${what}`);
}

function num(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(`${what} must be a non-negative number`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > 253) fail(`${what} must be a string`);
  return v;
}

function usage(v: unknown, what: string): Usage {
  if (!isObject(v)) fail(`${what} must be an object`);
  return {
    cpuNanoCores: num(v.cpuNanoCores, `${what}.cpuNanoCores`),
    memoryBytes: num(v.memoryBytes, `${what}.memoryBytes`),
  };
}

export function parseMetricsReport(v: unknown): MetricsReport {
  if (!isObject(v) || !isObject(v.node) || !Array.isArray(v.pods)) fail("needs node and pods");
  const n = v.node;
  const pods = v.pods.map((p: unknown, i: number): PodUsage => {
    if (!isObject(p) || !Array.isArray(p.containers)) fail(`pods[${i}] needs containers`);
    return {
      namespace: str(p.namespace, `pods[${i}].namespace`),
      name: str(p.name, `pods[${i}].name`),
      uid: str(p.uid, `pods[${i}].uid`),
      timestamp: str(p.timestamp, `pods[${i}].timestamp`),
      windowSeconds: num(p.windowSeconds, `pods[${i}].windowSeconds`),
      containers: p.containers.map((c: unknown, j: number) => {
        if (!isObject(c)) fail(`pods[${i}].containers[${j}] must be an object`);
        return {
          name: str(c.name, `pods[${i}].containers[${j}].name`),
          ...usage(c, `pods[${i}].containers[${j}]`),
        };
      }),
    };
  });
  return {
    node: {
      timestamp: str(n.timestamp, "node.timestamp"),
      windowSeconds: num(n.windowSeconds, "node.windowSeconds"),
      usage: usage(n.usage, "node.usage"),
    },
    pods,
  };
}
