/**
 * Agent side of `kubectl logs`: container logs from the runtime into a stream.
 *
 * Design notes
 * - stdout and stderr are merged in arrival order, as the kubelet's log file does.
 * - The runtime's log streams are paused whenever the stream's credit runs out, so a follow of
 *   a chatty container holds at most one window in the agent, however slow kubectl reads.
 * - If the hub side goes away (kubectl ^C), the stream is destroyed and we close the runtime's
 *   follow, which ends the Docker log request.
 */

import { type StreamHandler, StreamRequestError } from "../../transport/streams/index.js";
import type { ContainerRuntime } from "../runtime/index.js";
import { isPodNotFound } from "../runtime/index.js";
import { logParams } from "./params.js";
import { pumpInto } from "./pump.js";

export function logsHandler(runtime: ContainerRuntime): StreamHandler {
  return async (req) => {
    const p = logParams(req.params);
    let logs: Awaited<ReturnType<ContainerRuntime["logs"]>>;
    try {
      logs = await runtime.logs(p.podUid, p.container, {
        follow: p.follow,
        previous: p.previous,
        timestamps: p.timestamps,
        ...(p.tailLines !== undefined ? { tail: p.tailLines } : {}),
        ...(p.since !== undefined ? { since: p.since } : {}),
      });
    } catch (err) {
      if (isPodNotFound(err)) {
        throw new StreamRequestError(
          p.previous
            ? `previous terminated container "${p.container}" in pod "${p.pod}" not found`
            : `container "${p.container}" in pod "${p.pod}" is waiting to start: no container has been created yet`,
          400,
        );
      }
      throw err;
    }
    const stream = req.accept();
    stream.once("close", () => logs.close());
    // nothing is read from kubectl on a log stream
    stream.resume();
    const id = (b: Buffer) => b;
    await pumpInto(stream, [
      { stream: logs.stdout, frame: id },
      { stream: logs.stderr, frame: id },
    ]);
    if (!stream.destroyed) stream.end();
  };
}
