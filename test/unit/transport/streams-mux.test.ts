import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ChannelDecoder,
  encodeChannel,
  type MuxStream,
  RemoteStreamError,
  type StreamHandler,
  StreamMux,
  StreamOpenError,
  StreamRequestError,
  StreamServer,
} from "../../../src/transport/streams/index.js";
import { MemoryLink } from "../../helpers/stream-pair.js";

const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

async function pair(
  handlers: Record<string, StreamHandler>,
  opts: { window?: number; chunkBytes?: number; openTimeoutMs?: number } = {},
) {
  const link = new MemoryLink("node-a");
  const mux = new StreamMux({ channel: link.hub(), ...opts });
  const server = new StreamServer({ channel: link.agent(), handlers, ...opts });
  await mux.start();
  await server.start();
  stops.push(
    () => mux.stop(),
    () => server.stop(),
  );
  return { link, mux, server };
}

/** reads to the end without destroying the stream (for-await would, aborting the write side) */
function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on("data", (c: Buffer) => chunks.push(c));
    s.once("end", () => resolve(Buffer.concat(chunks)));
    s.once("error", reject);
  });
}

describe("channel framing", () => {
  it("reassembles messages split and merged across chunks", () => {
    const wire = Buffer.concat([
      encodeChannel(1, "hello"),
      encodeChannel(2, Buffer.alloc(0)),
      encodeChannel(3, "{}"),
    ]);
    const dec = new ChannelDecoder();
    const got: string[] = [];
    for (let i = 0; i < wire.length; i += 3) {
      for (const m of dec.push(wire.subarray(i, i + 3))) got.push(`${m.channel}:${m.payload.toString()}`);
    }
    expect(got).toEqual(["1:hello", "2:", "3:{}"]);
    expect(dec.buffered).toBe(0);
  });

  it("rejects an absurd length instead of buffering it", () => {
    const head = Buffer.from([1, 0xff, 0xff, 0xff, 0xff]);
    expect(() => new ChannelDecoder().push(head)).toThrow(/exceeds/);
  });
});

describe("stream mux", () => {
  it("carries bytes both ways and half-closes", async () => {
    const { mux } = await pair({
      exec: async (req) => {
        const s = req.accept();
        const body = await readAll(s);
        s.end(Buffer.from(`echo:${body.toString()}`));
      },
    });
    const s = await mux.open("node-a", "exec", {});
    s.end("ping");
    expect((await readAll(s)).toString()).toBe("echo:ping");
    await vi.waitFor(() => expect(mux.openStreams).toBe(0));
  });

  it("refuses with the handler's code and message", async () => {
    const { mux } = await pair({
      logs: async () => {
        throw new StreamRequestError('container "x" not found', 404, "NotFound");
      },
    });
    const err = await mux.open("node-a", "logs", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamOpenError);
    expect((err as StreamOpenError).code).toBe(404);
    expect((err as StreamOpenError).message).toBe('container "x" not found');
    const none = await mux.open("node-a", "portforward", {}).catch((e: unknown) => e);
    expect((none as StreamOpenError).code).toBe(501);
  });

  it("times out an open that no agent answers, naming the node", async () => {
    const link = new MemoryLink("node-b");
    const mux = new StreamMux({ channel: link.hub(), openTimeoutMs: 50 });
    await mux.start();
    stops.push(() => mux.stop());
    await expect(mux.open("node-b", "logs", {})).rejects.toThrow(/node "node-b" did not answer/);
  });

  it("bounds buffering on both sides when the reader is slow (credit window)", async () => {
    const window = 64 * 1024;
    const total = 4 * 1024 * 1024;
    const payload = randomBytes(total);
    let agentStream: MuxStream | undefined;
    let maxQueued = 0;
    const { mux } = await pair(
      {
        logs: async (req) => {
          const s = req.accept();
          agentStream = s;
          for (let off = 0; off < total; off += 16 * 1024) {
            if (!s.write(payload.subarray(off, off + 16 * 1024))) await once(s, "drain");
            maxQueued = Math.max(maxQueued, s.writableLength);
          }
          s.end();
        },
      },
      { window, chunkBytes: 8 * 1024 },
    );
    const s = await mux.open("node-a", "logs", {});
    // do not read for a while: the agent must stall after one window
    await vi.waitFor(() => expect(s.readableLength).toBeGreaterThanOrEqual(window - 8 * 1024));
    const stalledAt = s.readableLength;
    await new Promise((r) => setImmediate(r));
    expect(s.readableLength).toBe(stalledAt);
    expect(s.readableLength).toBeLessThanOrEqual(window);
    const got = await readAll(s);
    expect(got.equals(payload)).toBe(true);
    expect(s.peakBuffered).toBeLessThanOrEqual(window);
    expect(maxQueued).toBeLessThanOrEqual(16 * 1024 + 8 * 1024);
    expect(agentStream).toBeDefined();
  });

  it("aborts the agent side when the hub consumer goes away", async () => {
    let agentSide: MuxStream | undefined;
    const { mux, server } = await pair({
      logs: async (req) => {
        agentSide = req.accept();
        agentSide.write("first");
      },
    });
    const s = await mux.open("node-a", "logs", {});
    s.destroy();
    await vi.waitFor(() => expect(agentSide?.destroyed).toBe(true));
    expect(server.openStreams).toBe(0);
  });

  it("reports an agent-side error after accept as a RemoteStreamError", async () => {
    const { mux } = await pair({
      exec: async (req) => {
        req.accept();
        throw new Error("docker went away");
      },
    });
    const s = await mux.open("node-a", "exec", {});
    const [err] = await once(s, "error");
    expect(err).toBeInstanceOf(RemoteStreamError);
    expect((err as Error).message).toBe("docker went away");
  });

  it("aborts on a lost data frame instead of corrupting the stream", async () => {
    const { mux, link } = await pair({
      exec: async (req) => {
        const s = req.accept();
        s.on("error", () => {});
        s.resume();
      },
    });
    let n = 0;
    link.dropDown = (env) => env.type === "stream-data" && n++ === 1;
    const s = await mux.open("node-a", "exec", {});
    // one turn of the event loop per write, so each becomes its own data frame
    for (const part of ["a", "b", "c"]) {
      s.write(part);
      await new Promise((r) => setImmediate(r));
    }
    const [err] = await once(s, "error");
    expect((err as Error).message).toMatch(/data frame 2 arrived, expected 1/);
  });

  it("aborts every stream of a node that disconnects", async () => {
    const { mux, link } = await pair({ logs: async (req) => void req.accept().write("x") });
    const s = await mux.open("node-a", "logs", {});
    const err = once(s, "error");
    link.sever();
    expect(((await err)[0] as Error).message).toMatch(/disconnected/);
  });
});
