/**
 * The agent's stream handlers (logs, exec, attach, port-forward) for the StreamServer, and the
 * usage reporter behind `kubectl top`. See docs/streams.md.
 *
 * Agent wiring: server = new StreamServer({ channel: link, handlers: agentStreamHandlers({ runtime, docker }) });
 *               reporter = new MetricsReporter({ channel: link, runtime, docker });
 */
import type Docker from "dockerode";
import type { StreamHandler, StreamKind } from "../../transport/streams/index.js";
import type { ContainerRuntime } from "../runtime/index.js";
import { DockerAttach } from "./docker-attach.js";
import { attachHandler, execHandler } from "./exec-handler.js";
import { logsHandler } from "./logs-handler.js";
import { portForwardHandler, type RelayCommand } from "./portforward-handler.js";

export { DockerAttach } from "./docker-attach.js";
export {
  type AttachProvider,
  attachHandler,
  bridge,
  execHandler,
  type ProcessSession,
} from "./exec-handler.js";
export { logsHandler } from "./logs-handler.js";
export { collectPodMetrics, NodeSampler, usageFromStats } from "./metrics-collector.js";
export { MetricsReporter, type MetricsReporterOptions } from "./metrics-reporter.js";
export { nsenterRelay, portForwardHandler, type RelayCommand } from "./portforward-handler.js";

export function agentStreamHandlers(deps: {
  runtime: ContainerRuntime;
  docker: Docker;
  relay?: RelayCommand;
}): Record<StreamKind, StreamHandler> {
  return {
    logs: logsHandler(deps.runtime),
    exec: execHandler(deps.runtime),
    attach: attachHandler(new DockerAttach(deps.docker, deps.runtime)),
    portforward: portForwardHandler(deps.runtime, deps.relay),
  };
}
