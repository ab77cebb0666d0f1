/**
 * The edge agent: join (src/edge-agent/join/), desired-state cache (cache/), heartbeats and the
 * composition root (agent.ts). Runtime wiring (src/cmd/edge-agent-run.ts):
 *   const config = loadAgentConfig(paths); const creds = loadCredentials(paths, config);
 *   const agent = new EdgeAgent({ dataDir, config, credentials: creds, facts, agentVersion, logger });
 *   await agent.start(signal);   // the pod manager reads agent.cache.pods() / onPodChange
 */
export { EdgeAgent, type EdgeAgentOptions } from "./agent.js";
export { type CacheChange, CacheFileError, type ChangeHandler, DesiredCache } from "./cache/desired-cache.js";
export { DesiredView, type PodRef } from "./cache/desired-view.js";
export { type DesiredKey, DesiredKeyError, formatKey, parseKey, R } from "./cache/keys.js";
export {
  type AgentConfig,
  AgentConfigError,
  type AgentPaths,
  agentPaths,
  type Credentials,
  DEFAULT_DATA_DIR,
  loadAgentConfig,
  loadCredentials,
  saveAgentState,
} from "./config.js";
export { NodeHeartbeat } from "./heartbeat.js";
export { type JoinCredential, NO_CA_PIN_HELP, resolveJoinCredential } from "./join/credential.js";
export {
  CAMismatchError,
  fetchCA,
  fetchPinnedCA,
  JoinError,
  type JoinRequest,
  type JoinResponse,
  requestJoin,
} from "./join/hub-client.js";
// joinHub is imported from ./join/join.js where needed: re-exporting it here would load
// @peculiar/x509 (via src/lib/pki.ts) in every agent, not only in one that joins.
export type { JoinOptions } from "./join/join.js";
export {
  checkNodeIP,
  checkNodeName,
  JoinOptionError,
  nodeNameFromHostname,
  parseHubUrl,
  parseLabels,
  parseTaints,
  type Taint,
} from "./join/options.js";
export { DEFAULT_MAX_PODS, gatherNodeFacts, goArch, type NodeFacts } from "./node-facts.js";
export { leaseReport, type NodeStatusReport, nodeStatus, wellKnownLabels } from "./node-status.js";
export { type AgentStatus, agentRunning, readStatusFile, StatusFile } from "./status-file.js";
export { collectStatus, formatStatus, type StatusReport } from "./status-report.js";
