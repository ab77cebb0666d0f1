/**
 * `GET …/pods/{name}/log`: container logs streamed from the pod's node through the edge link.
 *
 * Design notes
 * - Query parameters and their errors follow upstream's PodLogOptions validation; `sinceTime`
 *   and `sinceSeconds` become one absolute `since` (unix seconds) so agent and hub clocks only
 *   need to agree to the second.
 * - Headers are sent only after the agent accepted the stream, so "container not found" and an
 *   unreachable node are real API errors. Then the body is chunked `text/plain`, each chunk
 *   written as it arrives (follow works line by line).
 * - `limitBytes` is enforced here: the stream is closed once the limit is reached, which also
 *   stops the agent's Docker log request.
 * - Back-pressure: piping pauses the stream while the HTTP socket is full; the stream's credit
 *   then stops the agent. kubectl hanging up destroys the stream.
 */
import type { Pod } from "kubernetes-types/core/v1";
import { ApiError } from "../../api/errors.js";
import type { Call } from "../apiserver/handlers/context.js";
import type { SubresourceHandler } from "../apiserver/router.js";
import {
  loadPod,
  openErrorToApi,
  type PodGetter,
  pickContainer,
  type StreamOpener,
  target,
} from "./pod-target.js";

export interface LogQuery {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  since?: number;
  limitBytes?: number;
}

/** Parses and validates the log query (pure; unit-tested). */
export function parseLogQuery(q: URLSearchParams, now: Date): LogQuery {
  const int = (name: string, min: number): number | undefined => {
    const v = q.get(name);
    if (v === null || v === "") return undefined;
    const n = Number(v);
    if (!Number.isInteger(n))
      throw ApiError.badRequest(`invalid value for ${name}: "${v}" is not an integer`);
    if (n < min) {
      throw ApiError.badRequest(
        `${name}: Invalid value: ${n}: must be greater than ${min === 0 ? "or equal to 0" : min - 1}`,
      );
    }
    return n;
  };
  const bool = (name: string) => q.get(name) === "true" || q.get(name) === "1";
  const sinceSeconds = int("sinceSeconds", 1);
  const sinceTime = q.get("sinceTime");
  if (sinceSeconds !== undefined && sinceTime) {
    throw ApiError.badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
  }
  let since: number | undefined;
  if (sinceSeconds !== undefined) since = Math.floor(now.getTime() / 1000) - sinceSeconds;
  if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (Number.isNaN(t))
      throw ApiError.badRequest(`sinceTime: Invalid value: "${sinceTime}": must be RFC 3339`);
    since = Math.floor(t / 1000);
  }
  const tailLines = int("tailLines", 0);
  const limitBytes = int("limitBytes", 1);
  const container = q.get("container") ?? undefined;
  return {
    ...(container ? { container } : {}),
    follow: bool("follow"),
    previous: bool("previous"),
    timestamps: bool("timestamps"),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

export function logHandler(mux: StreamOpener, getPod: PodGetter): SubresourceHandler {
  return async (call: Call) => {
    if ((call.req.method ?? "GET") !== "GET") throw ApiError.methodNotAllowed("pods/log only supports GET");
    const q = parseLogQuery(call.query.params, call.parts.now());
    const pod: Pod = await loadPod(getPod, call.rr.namespace ?? "default", call.rr.name ?? "");
    const t = target(pod, pickContainer(pod, q.container));
    const stream = await mux
      .open(t.node, "logs", {
        podUid: t.podUid,
        pod: t.pod,
        container: t.container,
        follow: q.follow,
        previous: q.previous,
        timestamps: q.timestamps,
        ...(q.tailLines !== undefined ? { tailLines: q.tailLines } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
      })
      .catch((err: unknown) => {
        throw openErrorToApi(err);
      });
    const { res } = call;
    res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache" });
    res.flushHeaders();
    let left = q.limitBytes ?? Number.POSITIVE_INFINITY;
    res.once("close", () => stream.destroy());
    stream.end(); // nothing flows from kubectl to the container on a log stream
    await new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) => {
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        if (!res.write(part)) {
          stream.pause();
          res.once("drain", () => stream.resume());
        }
        if (left <= 0) {
          stream.destroy();
          resolve();
        }
      });
      stream.once("end", resolve);
      // an agent-side failure mid-stream: end what was sent; kubectl sees a short log
      stream.once("error", () => resolve());
      stream.once("close", resolve);
    });
    res.end();
  };
}
