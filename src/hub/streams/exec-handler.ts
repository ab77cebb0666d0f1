/**
 * `pods/exec` and `pods/attach` over WebSocket (remotecommand `v5.channel.k8s.io`, and v4 for
 * older clients), bridged onto one stream to the pod's node.
 *
 * Design notes
 * - Every check (pod, container, node, the agent starting the process) happens before the 101:
 *   a refusal is an HTTP error with a Status body, which kubectl prints after "unable to upgrade
 *   connection: ". Clients that offer no WebSocket protocol we speak (SPDY-only) get a 400 too.
 * - WebSocket messages are `[channel][payload]`; they are re-framed one-to-one onto the stream's
 *   channel framing (transport/streams/channels.ts), and back. v4 has no close channel (255):
 *   there stdin ends only with the connection, as it did upstream.
 * - The agent's status (exit code or error) becomes the Status JSON on channel 3, then a close
 *   frame with code 1000; kubectl turns NonZeroExitCode into its own exit code.
 * - Back-pressure both ways: WebSocket input is paused while the stream's write buffer is full;
 *   the stream is paused while more than `MAX_WS_BUFFERED` bytes wait to be written to kubectl
 *   (counted through `send` callbacks), so its credit stops the agent.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Pod } from "kubernetes-types/core/v1";
import type { WebSocket, WebSocketServer } from "ws";
import { ApiError } from "../../api/errors.js";
import type { Logger } from "../../lib/logger.js";
import {
  CH_CLOSE,
  CH_RESIZE,
  CH_STATUS,
  CH_STDERR,
  CH_STDIN,
  CH_STDOUT,
  ChannelDecoder,
  encodeChannel,
  type MuxStream,
  parseExecStatus,
} from "../../transport/streams/index.js";
import { loadWs } from "../../transport/ws-loader.js";
import { writeUpgradeError } from "../apiserver/server.js";
import { execStatusMessage } from "./exec-status.js";
import {
  loadPod,
  openErrorToApi,
  type PodGetter,
  pickContainer,
  type StreamOpener,
  target,
} from "./pod-target.js";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const MAX_WS_BUFFERED = 1024 * 1024;

export interface ExecUpgradeDeps {
  mux: StreamOpener;
  getPod: PodGetter;
  logger: Logger;
}

function offered(req: IncomingMessage): string[] {
  return (req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

export class ExecUpgrade {
  /** made on the first upgrade: `ws` is not loaded in an idle hub (transport/ws-loader.ts) */
  private wss: WebSocketServer | undefined;

  constructor(private readonly deps: ExecUpgradeDeps) {}

  /** Handles one upgrade on …/pods/{name}/exec or …/attach. */
  handle(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    namespace: string,
    name: string,
    attach: boolean,
  ): void {
    this.prepare(req, namespace, name, attach).then(
      ({ stream, command, protocol, wss }) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, stream, command, protocol));
      },
      (err: unknown) => {
        const e = err instanceof ApiError ? err : ApiError.internal((err as Error).message);
        writeUpgradeError(socket, e);
      },
    );
  }

  private async prepare(
    req: IncomingMessage,
    namespace: string,
    name: string,
    attach: boolean,
  ): Promise<{ stream: MuxStream; command: string[]; protocol: string; wss: WebSocketServer }> {
    const q = new URL(req.url ?? "/", "https://hub").searchParams;
    const command = q.getAll("command");
    if (!attach && command.length === 0) throw ApiError.badRequest("you must specify at least 1 command");
    const bool = (k: string) => q.get(k) === "true" || q.get(k) === "1";
    if (!bool("stdin") && !bool("stdout") && !bool("stderr")) {
      throw ApiError.badRequest("you must specify at least 1 of stdin, stdout, stderr");
    }
    const pod: Pod = await loadPod(this.deps.getPod, namespace, name);
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") {
      throw ApiError.badRequest(
        `cannot ${attach ? "attach to" : "exec into"} a container in a completed pod; current phase is ${phase}`,
      );
    }
    const t = target(pod, pickContainer(pod, q.get("container") ?? undefined));
    // upstream checks the pod before the protocol, so SPDY-only clients see the same errors
    if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      throw ApiError.badRequest(
        `${attach ? "attach" : "exec"} over ${req.headers.upgrade ?? "a plain request"} is not supported: ` +
          `this hub speaks WebSocket (${EXEC_PROTOCOLS.join(", ")}); use kubectl 1.30 or newer`,
      );
    }
    const protocol = EXEC_PROTOCOLS.find((p) => offered(req).includes(p));
    if (!protocol) {
      throw ApiError.badRequest(
        `none of the offered stream protocols is supported: use one of ${EXEC_PROTOCOLS.join(", ")}`,
      );
    }
    const wss = await this.server();
    const stream = await this.deps.mux
      .open(t.node, attach ? "attach" : "exec", {
        podUid: t.podUid,
        pod: t.pod,
        container: t.container,
        ...(attach ? {} : { command }),
        stdin: bool("stdin"),
        tty: bool("tty"),
      })
      .catch((err: unknown) => {
        throw openErrorToApi(err);
      });
    return { stream, command, protocol, wss };
  }

  private async server(): Promise<WebSocketServer> {
    const { WebSocketServer } = await loadWs();
    this.wss ??= new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      handleProtocols: (protocols) => EXEC_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
    });
    return this.wss;
  }

  private run(ws: WebSocket, stream: MuxStream, command: string[], protocol: string): void {
    const log = this.deps.logger;
    let finished = false;
    const finish = (status: Record<string, unknown>) => {
      if (finished) return;
      finished = true;
      if (!stream.destroyed && !stream.writableEnded) stream.end();
      ws.send(Buffer.concat([Buffer.from([CH_STATUS]), Buffer.from(JSON.stringify(status))]), () => {
        ws.close(1000);
      });
    };
    // kubectl → agent
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (buf.length === 0 || stream.destroyed || stream.writableEnded) return;
      const ch = buf[0]!;
      const payload = buf.subarray(1);
      if (ch === CH_STDIN || ch === CH_RESIZE || (ch === CH_CLOSE && protocol.startsWith("v5"))) {
        if (!stream.write(encodeChannel(ch, payload))) {
          ws.pause();
          stream.once("drain", () => ws.resume());
        }
      }
    });
    ws.on("close", () => {
      if (!finished) stream.destroy();
    });
    ws.on("error", (err) => log.debug({ err: err.message }, "exec websocket error"));
    // agent → kubectl; `unsent` counts bytes handed to the WebSocket but not yet written out
    const dec = new ChannelDecoder();
    let unsent = 0;
    stream.on("data", (chunk: Buffer) => {
      let msgs: { channel: number; payload: Buffer }[];
      try {
        msgs = dec.push(chunk);
      } catch (err) {
        stream.destroy(err as Error);
        return;
      }
      for (const m of msgs) {
        if (m.channel === CH_STDOUT || m.channel === CH_STDERR) {
          const frame = Buffer.concat([Buffer.from([m.channel]), m.payload]);
          unsent += frame.length;
          ws.send(frame, () => {
            unsent -= frame.length;
            if (unsent <= MAX_WS_BUFFERED / 2 && stream.isPaused()) stream.resume();
          });
          if (unsent > MAX_WS_BUFFERED) stream.pause();
        } else if (m.channel === CH_STATUS) {
          try {
            finish(execStatusMessage(parseExecStatus(m.payload), command));
          } catch (err) {
            finish(execStatusMessage({ error: (err as Error).message }, command));
          }
        }
      }
    });
    stream.once("end", () => finish(execStatusMessage({ exitCode: 0 }, command)));
    stream.once("error", (err) => finish(execStatusMessage({ error: err.message }, command)));
  }
}
