/**
 * Agent side of `kubectl exec` and `kubectl attach`: a process session (runtime exec, or the
 * container's main process for attach) bridged onto one stream with channel framing
 * (transport/streams/channels.ts).
 *
 * Design notes
 * - Hub → agent: stdin (0), resize (4), close (255, payload [0] = stdin ended). The stream's own
 *   end also ends stdin, so a hub that half-closes is understood too.
 * - Agent → hub: stdout (1), stderr (2), then exactly one status (3) once output is drained and
 *   the exit code is known, then end. The hub turns the status into kubectl's Status message.
 * - stdin writes honour the session's back-pressure by pausing the stream, whose credit then
 *   stops the hub: a `kubectl cp` upload cannot flood a slow container.
 */
import type { Writable } from "node:stream";
import {
  CH_CLOSE,
  CH_RESIZE,
  CH_STATUS,
  CH_STDERR,
  CH_STDIN,
  CH_STDOUT,
  ChannelDecoder,
  type ExecStatus,
  encodeChannel,
  type MuxStream,
  type StreamHandler,
  StreamRequestError,
} from "../../transport/streams/index.js";
import type { ContainerRuntime, ExecSession } from "../runtime/index.js";
import { isPodNotFound } from "../runtime/index.js";
import { execParams } from "./params.js";
import { pumpInto } from "./pump.js";

/** A running process to bridge: what ContainerRuntime.exec returns, and what attach provides. */
export type ProcessSession = Omit<ExecSession, "exitCode"> & { exitCode: Promise<number | undefined> };

/** Attaching to a container's main process; optional: a runtime without it refuses attach. */
export interface AttachProvider {
  attach(podUid: string, container: string, opts: { stdin: boolean; tty: boolean }): Promise<ProcessSession>;
}

function containerNotFound(container: string): StreamRequestError {
  return new StreamRequestError(`container not found ("${container}")`, 400);
}

export function execHandler(runtime: ContainerRuntime): StreamHandler {
  return async (req) => {
    const p = execParams(req.params, true);
    let session: ExecSession;
    try {
      session = await runtime.exec(p.podUid, p.container, p.command, { stdin: p.stdin, tty: p.tty });
    } catch (err) {
      if (isPodNotFound(err)) throw containerNotFound(p.container);
      throw err;
    }
    await bridge(req.accept(), session);
  };
}

export function attachHandler(provider: AttachProvider): StreamHandler {
  return async (req) => {
    const p = execParams(req.params, false);
    let session: ProcessSession;
    try {
      session = await provider.attach(p.podUid, p.container, { stdin: p.stdin, tty: p.tty });
    } catch (err) {
      if (isPodNotFound(err)) throw containerNotFound(p.container);
      throw err;
    }
    await bridge(req.accept(), session);
  };
}

function endStdin(stdin: Writable | undefined): void {
  if (stdin && !stdin.writableEnded) stdin.end();
}

/** Runs one session over `stream` until the process is done or the hub goes away. */
export async function bridge(stream: MuxStream, session: ProcessSession): Promise<void> {
  const decoder = new ChannelDecoder();
  const stdin = session.stdin;
  stream.on("data", (chunk: Buffer) => {
    let messages: { channel: number; payload: Buffer }[];
    try {
      messages = decoder.push(chunk);
    } catch (err) {
      stream.abort(err as Error);
      return;
    }
    for (const m of messages) {
      if (m.channel === CH_STDIN && stdin && !stdin.writableEnded) {
        if (!stdin.write(m.payload)) {
          stream.pause();
          stdin.once("drain", () => stream.resume());
        }
      } else if (m.channel === CH_CLOSE && m.payload[0] === CH_STDIN) {
        endStdin(stdin);
      } else if (m.channel === CH_RESIZE) {
        const size = parseResize(m.payload);
        if (size) session.resize(size).catch(() => {});
      }
    }
  });
  stream.once("end", () => endStdin(stdin));
  stream.once("close", () => {
    endStdin(stdin);
    session.stdout.destroy();
    session.stderr.destroy();
  });
  await pumpInto(stream, [
    { stream: session.stdout, frame: (b) => encodeChannel(CH_STDOUT, b) },
    { stream: session.stderr, frame: (b) => encodeChannel(CH_STDERR, b) },
  ]);
  let status: ExecStatus;
  try {
    const code = await session.exitCode;
    status = { exitCode: code ?? 0 };
  } catch (err) {
    status = { error: (err as Error).message };
  }
  if (stream.destroyed) return;
  stream.end(encodeChannel(CH_STATUS, JSON.stringify(status)));
}

function parseResize(payload: Buffer): { rows: number; cols: number } | undefined {
  try {
    const v = JSON.parse(payload.toString("utf8")) as { Width?: unknown; Height?: unknown };
    if (typeof v.Width === "number" && typeof v.Height === "number" && v.Width > 0 && v.Height > 0) {
      return { rows: v.Height, cols: v.Width };
    }
  } catch {
    // a malformed resize is ignored, as the kubelet does
  }
  return undefined;
}
