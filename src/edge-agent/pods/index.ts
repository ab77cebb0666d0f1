/**
 * The agent's pod manager: desired pods → Docker, with volumes, probes, restart policy and
 * upstream-shaped status. See docs/pods.md.
 */
export { AirgapImages, type AirgapOptions } from "./airgap.js";
export { Backoff, type BackoffOptions, goDuration } from "./backoff.js";
export {
  ConfigError,
  type DownwardContext,
  fieldRefValue,
  formatMap,
  resourceFieldValue,
} from "./downward.js";
export { type ConfigLookup, configData, type ResolvedEnv, resolveEnv } from "./env.js";
export { PodManager, type PodManagerOptions } from "./pod-manager.js";
export * from "./ports.js";
export { type ProbeResult, type ProbeTarget, probeRunner, type RunProbe } from "./probe-runner.js";
export { type QosClass, qosClass } from "./qos.js";
export { type ClusterDNS, podDNS, pullAuth, runtimeSpec } from "./runtime-spec.js";
export { computePodStatus, type StatusInput, type Waiting } from "./status.js";
export { type FileProjection, type Payload, writeAtomic } from "./volumes/atomic-writer.js";
export {
  isInside,
  podDir,
  relativePathProblem,
  resolveSubPath,
  VolumeError,
  volumeDir,
} from "./volumes/paths.js";
export { containerMounts, type PreparedVolume, prepareVolumes, removePodVolumes } from "./volumes/volumes.js";
