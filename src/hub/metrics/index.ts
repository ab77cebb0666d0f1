/** metrics.k8s.io for `kubectl top`: agents' usage reports kept in memory and served (docs/streams.md). */
export {
  cpuQuantity,
  type LabelLookup,
  METRICS_GROUP,
  METRICS_VERSION,
  memoryQuantity,
  metricsApi,
} from "./metrics-api.js";
export { type MetricsSource, MetricsStore } from "./metrics-store.js";
