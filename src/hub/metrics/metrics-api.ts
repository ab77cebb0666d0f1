/**
 * metrics.k8s.io/v1beta1 served from the MetricsStore: NodeMetrics and PodMetrics, lists and
 * single objects, with label selectors read from the Node/Pod objects (kubectl top -l).
 *
 * Quantities follow metrics-server: CPU in nanocores (`123456n`), memory in KiB (`2048Ki`).
 * kubectl top asks for lists with Accept JSON; a Table is not needed (it prints its own).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import { parseLabelSelector, SelectorError } from "../../api/selectors.js";
import type { PodUsage } from "../../transport/streams/index.js";
import { sendJson } from "../apiserver/http.js";
import type { ExtraApi } from "../apiserver/server.js";
import type { MetricsStore } from "./metrics-store.js";

export const METRICS_GROUP = "metrics.k8s.io";
export const METRICS_VERSION = "v1beta1";
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** Lists objects to resolve labels (nodes, or pods of a namespace); returns name → labels. */
export type LabelLookup = (
  kind: "nodes" | "pods",
  namespace?: string,
) => Promise<Map<string, Record<string, string>>>;

export function cpuQuantity(nanocores: number): string {
  return `${Math.round(nanocores)}n`;
}

export function memoryQuantity(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}

function podMetrics(p: PodUsage, labels?: Record<string, string>): KubeObject {
  return {
    kind: "PodMetrics",
    apiVersion: API_VERSION,
    metadata: {
      name: p.name,
      namespace: p.namespace,
      creationTimestamp: new Date().toISOString(),
      ...(labels ? { labels } : {}),
    },
    timestamp: p.timestamp,
    window: `${p.windowSeconds}s`,
    containers: p.containers.map((c) => ({
      name: c.name,
      usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) },
    })),
  } as KubeObject;
}

function nodeMetrics(
  node: string,
  u: { timestamp: string; windowSeconds: number; usage: { cpuNanoCores: number; memoryBytes: number } },
  labels?: Record<string, string>,
): KubeObject {
  return {
    kind: "NodeMetrics",
    apiVersion: API_VERSION,
    metadata: { name: node, creationTimestamp: new Date().toISOString(), ...(labels ? { labels } : {}) },
    timestamp: u.timestamp,
    window: `${u.windowSeconds}s`,
    usage: { cpu: cpuQuantity(u.usage.cpuNanoCores), memory: memoryQuantity(u.usage.memoryBytes) },
  } as KubeObject;
}

export function metricsApi(store: MetricsStore, labelsOf: LabelLookup): ExtraApi {
  return {
    group: METRICS_GROUP,
    version: METRICS_VERSION,
    resources: [
      { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
      { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
    ],
    handle: async (req: IncomingMessage, res: ServerResponse, rest: string[], query: URLSearchParams) => {
      if ((req.method ?? "GET") !== "GET") throw ApiError.methodNotAllowed("metrics are read-only: use GET");
      const selector = labelSelector(query.get("labelSelector") ?? "");
      let ns: string | undefined;
      let parts = rest;
      if (parts[0] === "namespaces" && parts.length >= 3) {
        ns = parts[1];
        parts = parts.slice(2);
      }
      const [resource, name, extra] = parts;
      if (
        extra !== undefined ||
        (resource !== "nodes" && resource !== "pods") ||
        (resource === "nodes" && ns)
      ) {
        throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      }
      if (resource === "nodes") {
        const labels = await labelsOf("nodes");
        const items = store
          .nodes()
          .filter((n) => (name ? n.node === name : true))
          .filter((n) => selector.matches(labels.get(n.node) ?? {}))
          .map((n) => nodeMetrics(n.node, n.usage, labels.get(n.node)));
        if (name) {
          const one = items[0];
          if (!one) throw ApiError.notFound("nodes", name, METRICS_GROUP);
          return sendJson(res, 200, one);
        }
        return sendJson(res, 200, { kind: "NodeMetricsList", apiVersion: API_VERSION, metadata: {}, items });
      }
      const labels = await labelsOf("pods", ns);
      const key = (p: PodUsage) => (ns ? p.name : `${p.namespace}/${p.name}`);
      const items = store
        .pods(ns)
        .filter((p) => (name ? p.name === name : true))
        .filter((p) => selector.matches(labels.get(key(p)) ?? {}))
        .map((p) => podMetrics(p, labels.get(key(p))));
      if (name) {
        const one = items[0];
        if (!one) throw ApiError.notFound("pods", name, METRICS_GROUP);
        return sendJson(res, 200, one);
      }
      return sendJson(res, 200, { kind: "PodMetricsList", apiVersion: API_VERSION, metadata: {}, items });
    },
  };
}

function labelSelector(s: string) {
  try {
    return parseLabelSelector(s);
  } catch (err) {
    if (err instanceof SelectorError)
      throw ApiError.badRequest(`unable to parse requirement: ${err.message}`);
    throw err;
  }
}
