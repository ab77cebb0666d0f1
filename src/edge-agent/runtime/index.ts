/**
 * The agent's container runtime: the `ContainerRuntime` contract and its Docker implementation.
 * See docs/runtime.md.
 */
export {
  CPU_PERIOD_US,
  containerCreateOptions,
  cpuQuota,
  cpuShares,
  DEFAULT_GRACE_SECONDS,
  effectiveSecurity,
  expandVarRefs,
  podHostname,
  resourceHostConfig,
  sandboxCreateOptions,
} from "./docker-mapping.js";
export { DockerRuntime, type DockerRuntimeOptions } from "./docker-runtime.js";
export { buildPod, containerState, kubeTime } from "./docker-status.js";
export { FrameDemuxer } from "./docker-streams.js";
export {
  ContainerStartError,
  ImagePullError,
  type ImagePullReason,
  InitContainerError,
  isPodNotFound,
  PodNotFoundError,
} from "./errors.js";
export { isValidImageRef } from "./images.js";
export * from "./labels.js";
export { LABEL_NODE, scopeToNode } from "./node-scope.js";
export type * from "./runtime.js";
