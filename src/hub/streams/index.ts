/**
 * The hub's pod stream endpoints (docs/streams.md): pods/log as a router subresource, and
 * exec/attach/portforward as authenticated upgrades on resource paths.
 *
 * Hub wiring:
 *   mux = new StreamMux({ channel: broker }); await mux.start(signal);
 *   const streams = podStreams({ mux, getPod, logger });
 *   new ApiServer({ …, extensions: { subresources: new Map([...others, ...streams.subresources]) },
 *                   onResourceUpgrade: streams.onResourceUpgrade, extraApis: [metricsApi(store, labels)] });
 */

import { ApiError } from "../../api/errors.js";
import type { Logger } from "../../lib/logger.js";
import type { SubresourceHandler } from "../apiserver/router.js";
import { type ResourceUpgradeHandler, writeUpgradeError } from "../apiserver/server.js";
import { ExecUpgrade } from "./exec-handler.js";
import { logHandler } from "./log-handler.js";
import type { PodGetter, StreamOpener } from "./pod-target.js";
import { PortForwardUpgrade } from "./portforward-handler.js";

export { EXEC_PROTOCOLS, ExecUpgrade } from "./exec-handler.js";
export { execStatusMessage } from "./exec-status.js";
export { type LogQuery, logHandler, parseLogQuery } from "./log-handler.js";
export { openErrorToApi, type PodGetter, pickContainer, podNode, type StreamOpener } from "./pod-target.js";
export { PORTFORWARD_PROTOCOL, PortForwardUpgrade } from "./portforward-handler.js";

export interface PodStreams {
  subresources: Map<string, SubresourceHandler>;
  onResourceUpgrade: ResourceUpgradeHandler;
}

export function podStreams(deps: { mux: StreamOpener; getPod: PodGetter; logger: Logger }): PodStreams {
  const exec = new ExecUpgrade(deps);
  const pf = new PortForwardUpgrade(deps);
  return {
    subresources: new Map([["/pods/log", logHandler(deps.mux, deps.getPod)]]),
    onResourceUpgrade: (req, socket, head, rr) => {
      const podPath =
        rr.group === "" && rr.resource === "pods" && rr.namespace !== undefined && rr.name !== undefined;
      if (podPath && (rr.subresource === "exec" || rr.subresource === "attach")) {
        exec.handle(req, socket, head, rr.namespace!, rr.name!, rr.subresource === "attach");
        return;
      }
      if (podPath && rr.subresource === "portforward") {
        pf.handle(req, socket, head, rr.namespace!, rr.name!);
        return;
      }
      writeUpgradeError(socket, ApiError.badRequest(`upgrade requests to ${req.url} are not supported`));
    },
  };
}
